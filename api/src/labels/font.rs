//! The one label font, embedded in the binary: WenQuanYi Micro Hei (Apache-2.0, see
//! `api/assets/fonts/README.md`). It covers Latin with accents, Greek, Cyrillic, Chinese,
//! Japanese kana and Hangul, so a label never depends on fonts installed on the host.
//!
//! Text is laid out without shaping (one glyph per character, advances from `hmtx`): the
//! scripts on shipping labels need none, and measuring and drawing use the same advances,
//! so what `width` reports is exactly what is drawn.

use std::sync::LazyLock;

use krilla::text::{GlyphId, KrillaGlyph};
use skrifa::{
    FontRef, MetadataProvider,
    charmap::Charmap,
    instance::{LocationRef, Size},
    metrics::GlyphMetrics,
};

static DATA: &[u8] = include_bytes!("../../assets/fonts/wqy-microhei.ttc");

/// Face 0 of the collection (the proportional face; face 1 is the monospaced one).
const FACE: u32 = 0;

pub struct LabelFont {
    pub pdf: krilla::text::Font,
    charmap: Charmap<'static>,
    metrics: GlyphMetrics<'static>,
    units_per_em: f32,
    /// Ascent as a fraction of the em (baseline offset from a line's top).
    pub ascent: f32,
    /// Line height as a fraction of the font size.
    pub line_height: f32,
}

static FONT: LazyLock<Option<LabelFont>> = LazyLock::new(|| {
    let face = FontRef::from_index(DATA, FACE).ok()?;
    let m = face.metrics(Size::unscaled(), LocationRef::default());
    let upem = f32::from(m.units_per_em.max(1));
    let pdf = krilla::text::Font::new(DATA.into(), FACE)?;
    Some(LabelFont {
        pdf,
        metrics: face.glyph_metrics(Size::unscaled(), LocationRef::default()),
        charmap: face.charmap(),
        units_per_em: upem,
        ascent: m.ascent / upem,
        line_height: ((m.ascent - m.descent + m.leading) / upem).max(1.0),
    })
});

/// The embedded font, or `None` if the embedded file cannot be read (a build defect that a
/// unit test catches).
pub fn get() -> Option<&'static LabelFont> {
    FONT.as_ref()
}

impl LabelFont {
    /// The advance of `ch` as a fraction of the em (0 for characters the font lacks, which
    /// are drawn as the `.notdef` box but still extract as text).
    fn advance(&self, ch: char) -> (GlyphId, f32) {
        let gid = self.charmap.map(ch).unwrap_or_default();
        let adv = self.metrics.advance_width(gid).unwrap_or(0.0) / self.units_per_em;
        (GlyphId::new(gid.to_u32()), adv)
    }

    /// Whether the font has a glyph for `ch`.
    pub fn covers(&self, ch: char) -> bool {
        self.charmap.map(ch).is_some()
    }

    /// The width of `text` at `size` points.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.advance(c).1).sum::<f32>() * size
    }

    /// Positioned glyphs for `text`, each mapped back to its characters (so the PDF's
    /// ToUnicode map makes the text extractable and searchable).
    pub fn glyphs(&self, text: &str) -> Vec<KrillaGlyph> {
        text.char_indices()
            .map(|(i, c)| {
                let (gid, adv) = self.advance(c);
                KrillaGlyph::new(gid, adv, 0.0, 0.0, 0.0, i..i + c.len_utf8(), None)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_font_covers_label_scripts() {
        let f = get().expect("embedded font loads");
        for c in "AZaz09éüñøßłőčžçÅœ€£№日本語ひらがなカタカナ中文配货한국".chars() {
            assert!(f.covers(c), "missing {c}");
        }
        assert!(f.width("WWW", 10.0) > f.width("iii", 10.0));
        // CJK ideographs are one em wide.
        assert!((f.width("中", 10.0) - 10.0).abs() < 0.5);
        assert!(f.ascent > 0.5 && f.ascent < 1.2);
    }
}
