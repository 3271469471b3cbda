//! Code 128 for tracking numbers, encoded by the `barcoders` crate. This module only picks
//! the character sets (B for text, C for runs of digits, as ISO/IEC 15417 Annex E
//! recommends, which keeps S10 numbers short enough for a 10 cm label) and returns the
//! module pattern.

use barcoders::sym::code128::Code128;

const SET_B: char = '\u{0181}';
const SET_C: char = '\u{0106}';

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BarcodeError {
    #[error("a barcode needs 1-80 printable ASCII characters")]
    Unencodable,
}

/// The data with set switches: start in C when the data opens with 4+ digits (or is an
/// even run of 2+ digits), switch to C for 4+ digits at the end or 6+ in the middle.
fn with_sets(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 4);
    let mut i = 0;
    let mut current: Option<char> = None;
    while i < chars.len() {
        let run = chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        let at_start = i == 0;
        let at_end = i + run == chars.len();
        let worth = if at_start && at_end {
            run >= 2
        } else if at_start || at_end {
            run >= 4
        } else {
            run >= 6
        };
        if run > 0 && worth {
            // An odd run keeps its first digit in B when not at the start, its last otherwise.
            let odd = run % 2 == 1;
            if odd && !at_start {
                set(&mut out, &mut current, SET_B);
                out.push(chars[i]);
                i += 1;
            }
            let pairs = (run - usize::from(odd)) / 2 * 2;
            set(&mut out, &mut current, SET_C);
            out.extend(&chars[i..i + pairs]);
            i += pairs;
            if odd && at_start {
                set(&mut out, &mut current, SET_B);
                out.push(chars[i]);
                i += 1;
            }
        } else {
            set(&mut out, &mut current, SET_B);
            let n = run.max(1);
            out.extend(&chars[i..i + n]);
            i += n;
        }
    }
    out
}

fn set(out: &mut String, current: &mut Option<char>, want: char) {
    if *current != Some(want) {
        out.push(want);
        *current = Some(want);
    }
}

/// The Code 128 module pattern of `text` (1 = bar, 0 = space), start, check and stop
/// symbols included, without quiet zones.
pub fn code128(text: &str) -> Result<Vec<u8>, BarcodeError> {
    if text.is_empty() || text.len() > 80 || !text.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        return Err(BarcodeError::Unencodable);
    }
    Code128::new(with_sets(text)).map(|c| c.encode()).map_err(|_| BarcodeError::Unencodable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s10_numbers_use_set_c_for_the_serial() {
        // The 9 digits of an S10 number: the first stays in B, eight go in C as four pairs.
        assert_eq!(with_sets("RR123456785CN"), "\u{181}RR1\u{106}23456785\u{181}CN");
        assert_eq!(with_sets("LX000000059CN"), "\u{181}LX0\u{106}00000059\u{181}CN");
        assert_eq!(with_sets("1234"), "\u{106}1234");
        assert_eq!(with_sets("12345AB"), "\u{106}1234\u{181}5AB");
        assert_eq!(with_sets("AB12"), "\u{181}AB12");
        assert_eq!(with_sets("AB12345"), "\u{181}AB1\u{106}2345");
        assert_eq!(with_sets("OCO123-45"), "\u{181}OCO123-45");
    }

    #[test]
    fn module_count_matches_the_symbol_structure() {
        // start + R R 1 + codeC + 4 pairs + codeB + C N + check = 13 symbols of 11 modules
        // (set B alone would need 15), and a 13-module stop.
        let m = code128("RR123456785CN").unwrap();
        assert_eq!(m.len(), 13 * 11 + 13);
        assert_eq!(&m[..11], &[1, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0], "start B");
        assert_eq!(&m[m.len() - 13..], &[1, 1, 0, 0, 0, 1, 1, 1, 0, 1, 0, 1, 1], "stop");
        assert_eq!(code128(""), Err(BarcodeError::Unencodable));
        assert_eq!(code128("中文"), Err(BarcodeError::Unencodable));
    }
}
