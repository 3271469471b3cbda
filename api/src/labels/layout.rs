//! A label template is data: a page size and positioned blocks, in millimetres from the
//! page's top-left corner. The renderer knows how to fill each block kind; templates only
//! say where and how large. Built-in templates are defined here and seeded as global ones.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BlockKind {
    /// FROM: the organization's sender (return) address.
    Sender,
    /// TO: the recipient as sent to the carrier.
    Recipient,
    /// The destination country code, large, for sorting.
    Destination,
    /// The channel's name and code.
    Channel,
    /// The tracking number as Code 128 with the number printed beneath.
    Barcode,
    /// The customer reference (`OD…`).
    Reference,
    /// The parcel's declared weight.
    Weight,
    /// Declaration lines: EN and CN names, quantity, value, HS code.
    Declaration,
    /// Picking info (配货信息): SKU × quantity and the picking note.
    Picking,
    /// A CN 22 customs declaration form.
    Cn22,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Block {
    pub kind: BlockKind,
    pub x_mm: f32,
    pub y_mm: f32,
    pub width_mm: f32,
    pub height_mm: f32,
    /// The largest font size in points; text shrinks (down to 5 pt) to fit the block.
    pub font_size: f32,
    #[serde(default)]
    pub border: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Layout {
    pub width_mm: f32,
    pub height_mm: f32,
    pub blocks: Vec<Block>,
}

/// The smallest size text shrinks to before it wraps into an ellipsis (and is reported).
pub const MIN_FONT_SIZE: f32 = 5.0;
pub const MAX_FONT_SIZE: f32 = 72.0;

/// One problem with a layout: the field path under the input and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutProblem {
    pub path: Vec<String>,
    pub message: String,
}

fn problem(path: &[&str], message: impl Into<String>) -> LayoutProblem {
    LayoutProblem { path: path.iter().map(|s| (*s).to_owned()).collect(), message: message.into() }
}

/// Checks a layout (pure): page between 25 and 300 mm a side, 1-40 blocks, each inside
/// the page with a usable size, a barcode and a recipient block present.
pub fn validate(l: &Layout) -> Vec<LayoutProblem> {
    let mut out = Vec::new();
    let side = |v: f32| v.is_finite() && (25.0..=300.0).contains(&v);
    if !side(l.width_mm) {
        out.push(problem(&["widthMm"], "The page width must be 25-300 mm."));
    }
    if !side(l.height_mm) {
        out.push(problem(&["heightMm"], "The page height must be 25-300 mm."));
    }
    if l.blocks.is_empty() || l.blocks.len() > 40 {
        out.push(problem(&["blocks"], "Give 1-40 blocks."));
    }
    for (i, b) in l.blocks.iter().enumerate() {
        let idx = i.to_string();
        let at = |f: &str| vec!["blocks".to_owned(), idx.clone(), f.to_owned()];
        let finite = [b.x_mm, b.y_mm, b.width_mm, b.height_mm, b.font_size].iter().all(|v| v.is_finite());
        if !finite || b.x_mm < 0.0 || b.y_mm < 0.0 {
            out.push(LayoutProblem { path: at("xMm"), message: "Positions are millimetres from the top-left.".into() });
            continue;
        }
        if b.width_mm < 5.0 || b.height_mm < 3.0 {
            out.push(LayoutProblem { path: at("widthMm"), message: "A block is at least 5 × 3 mm.".into() });
        }
        if b.x_mm + b.width_mm > l.width_mm + 0.01 || b.y_mm + b.height_mm > l.height_mm + 0.01 {
            out.push(LayoutProblem { path: at("xMm"), message: format!("The {:?} block leaves the page.", b.kind) });
        }
        if !(MIN_FONT_SIZE..=MAX_FONT_SIZE).contains(&b.font_size) {
            out.push(LayoutProblem {
                path: at("fontSize"),
                message: format!("Font sizes run from {MIN_FONT_SIZE} to {MAX_FONT_SIZE} pt."),
            });
        }
        // An S10 number is about 160 modules; at the 0.25 mm a 203 dpi printer needs, with
        // quiet zones, that is 45 mm.
        if b.kind == BlockKind::Barcode && (b.height_mm < 10.0 || b.width_mm < 45.0) {
            out.push(LayoutProblem {
                path: at("widthMm"),
                message: "A barcode block is at least 45 mm wide and 10 mm high.".into(),
            });
        }
        if b.kind == BlockKind::Cn22 && (b.width_mm < 70.0 || b.height_mm < 40.0) {
            out.push(LayoutProblem { path: at("widthMm"), message: "A CN 22 block is at least 70 × 40 mm.".into() });
        }
    }
    for (kind, name) in [(BlockKind::Barcode, "BARCODE"), (BlockKind::Recipient, "RECIPIENT")] {
        if !l.blocks.iter().any(|b| b.kind == kind) {
            out.push(problem(&["blocks"], format!("A label needs a {name} block.")));
        }
    }
    out
}

fn b(kind: BlockKind, x: f32, y: f32, w: f32, h: f32, size: f32, border: bool) -> Block {
    Block { kind, x_mm: x, y_mm: y, width_mm: w, height_mm: h, font_size: size, border }
}

/// A built-in template: code, name and layout.
pub struct Builtin {
    pub code: &'static str,
    pub name: &'static str,
    pub layout: Layout,
}

/// The templates every tenant gets: 10×10 cm, 10×15 cm, and 10×15 cm with a CN 22.
pub fn builtin() -> Vec<Builtin> {
    use BlockKind::*;
    vec![
        Builtin {
            code: "LABEL_100X100",
            name: "Label 10×10 cm",
            layout: Layout {
                width_mm: 100.0,
                height_mm: 100.0,
                blocks: vec![
                    b(Channel, 3.0, 2.0, 62.0, 8.0, 9.0, false),
                    b(Destination, 67.0, 2.0, 30.0, 8.0, 16.0, true),
                    b(Sender, 3.0, 11.0, 94.0, 10.0, 6.5, true),
                    b(Recipient, 3.0, 22.0, 94.0, 28.0, 9.5, true),
                    b(Barcode, 4.0, 51.0, 92.0, 20.0, 9.0, false),
                    b(Reference, 3.0, 72.0, 62.0, 5.0, 7.0, false),
                    b(Weight, 67.0, 72.0, 30.0, 5.0, 7.0, false),
                    b(Picking, 3.0, 78.0, 94.0, 20.0, 7.5, true),
                ],
            },
        },
        Builtin {
            code: "LABEL_100X150",
            name: "Label 10×15 cm",
            layout: Layout {
                width_mm: 100.0,
                height_mm: 150.0,
                blocks: vec![
                    b(Channel, 3.0, 3.0, 62.0, 10.0, 11.0, false),
                    b(Destination, 67.0, 3.0, 30.0, 10.0, 20.0, true),
                    b(Sender, 3.0, 15.0, 94.0, 14.0, 7.5, true),
                    b(Recipient, 3.0, 31.0, 94.0, 36.0, 11.0, true),
                    b(Barcode, 4.0, 69.0, 92.0, 24.0, 10.0, false),
                    b(Reference, 3.0, 95.0, 62.0, 6.0, 8.0, false),
                    b(Weight, 67.0, 95.0, 30.0, 6.0, 8.0, false),
                    b(Declaration, 3.0, 102.0, 94.0, 22.0, 7.5, true),
                    b(Picking, 3.0, 126.0, 94.0, 21.0, 8.0, true),
                ],
            },
        },
        Builtin {
            code: "LABEL_100X150_CN22",
            name: "Label 10×15 cm + CN 22",
            layout: Layout {
                width_mm: 100.0,
                height_mm: 150.0,
                blocks: vec![
                    b(Channel, 3.0, 2.0, 62.0, 7.0, 9.0, false),
                    b(Destination, 67.0, 2.0, 30.0, 7.0, 14.0, true),
                    b(Sender, 3.0, 10.0, 94.0, 10.0, 6.5, true),
                    b(Recipient, 3.0, 21.0, 94.0, 26.0, 9.0, true),
                    b(Barcode, 4.0, 48.0, 92.0, 20.0, 9.0, false),
                    b(Reference, 3.0, 69.0, 62.0, 5.0, 7.0, false),
                    b(Weight, 67.0, 69.0, 30.0, 5.0, 7.0, false),
                    b(Picking, 3.0, 75.0, 94.0, 13.0, 7.0, true),
                    b(Cn22, 3.0, 90.0, 94.0, 57.0, 6.5, true),
                ],
            },
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_are_valid() {
        for t in builtin() {
            assert!(validate(&t.layout).is_empty(), "{}: {:?}", t.code, validate(&t.layout));
        }
    }

    #[test]
    fn bad_layouts_are_reported_by_field() {
        let mut l = builtin().remove(0).layout;
        l.width_mm = 10.0;
        l.blocks[1].x_mm = 90.0;
        l.blocks[2].font_size = 100.0;
        l.blocks.retain(|b| b.kind != BlockKind::Barcode);
        let p = validate(&l);
        let paths: Vec<String> = p.iter().map(|p| p.path.join(".")).collect();
        assert!(paths.contains(&"widthMm".to_owned()), "{paths:?}");
        assert!(paths.contains(&"blocks.1.xMm".to_owned()), "{paths:?}");
        assert!(paths.contains(&"blocks.2.fontSize".to_owned()), "{paths:?}");
        assert!(p.iter().any(|p| p.message.contains("BARCODE")), "{p:?}");
    }
}
