//! Renders labels to one PDF, one label per page, with `krilla` (fonts subset and embedded
//! with a ToUnicode map, so every word on a label is extractable text). Text that does not
//! fit its block shrinks down to the minimum size and wraps; if it still does not fit it
//! ends in "…" and the block is reported back, so nothing is cut off silently. Pure: no I/O.

use krilla::{
    Document, SerializeSettings,
    geom::{PathBuilder, Point, Rect},
    page::PageSettings,
    paint::{Fill, Stroke},
    surface::Surface,
};

use super::{
    barcode,
    font::{self, LabelFont},
    layout::{Block, BlockKind, Layout, MIN_FONT_SIZE},
};

const PT_PER_MM: f32 = 72.0 / 25.4;
/// Inner padding of a block, in points.
const PAD: f32 = 2.0;
/// Thermal printers print 8 dots per millimetre; bars are whole dots wide.
const DOT_MM: f32 = 0.125;
/// Narrowest bar a 203 dpi printer and a hand scanner handle reliably.
const MIN_MODULE_MM: f32 = 0.25;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    pub name: String,
    pub company: Option<String>,
    pub phone: Option<String>,
    pub line1: String,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country_code: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Line {
    /// The seller SKU (or the marketplace's, when the line has no catalogue SKU).
    pub sku: Option<String>,
    pub quantity: i32,
    pub name_en: Option<String>,
    pub name_cn: Option<String>,
    pub unit_value_minor: Option<i64>,
    pub currency: Option<String>,
    pub unit_weight_grams: Option<i32>,
    pub hs_code: Option<String>,
    pub origin_country: Option<String>,
    pub picking_info: Option<String>,
}

/// What one label shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Label {
    pub tracking_number: String,
    pub customer_reference: String,
    pub channel_name: String,
    pub channel_code: String,
    pub sender: Address,
    pub recipient: Address,
    pub lines: Vec<Line>,
    /// Printed on the CN 22 beside the signature (`YYYY-MM-DD`).
    pub date: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("the embedded label font cannot be read")]
    Font,
    #[error("the PDF could not be written: {0}")]
    Pdf(String),
    #[error("a label page size is invalid")]
    PageSize,
}

/// Something on a label to check, by block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Text did not fit even at the smallest size and ends in "…".
    Cut,
    /// The font has no glyph for some characters (drawn as boxes; still extractable text).
    MissingGlyph,
    /// The barcode's bars are narrower than a 203 dpi printer and hand scanner handle well.
    NarrowBarcode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Issue {
    pub block: BlockKind,
    pub problem: Problem,
}

pub struct Rendered {
    pub pdf: Vec<u8>,
    /// For each label (in input order), what to check on it.
    pub issues: Vec<Vec<Issue>>,
}

/// Renders `labels` with `layout`, one page each.
pub fn render(layout: &Layout, labels: &[Label]) -> Result<Rendered, RenderError> {
    let font = font::get().ok_or(RenderError::Font)?;
    let settings = SerializeSettings { enable_tagging: false, ..Default::default() };
    let mut doc = Document::new_with(settings);
    let page_settings = PageSettings::from_wh(layout.width_mm * PT_PER_MM, layout.height_mm * PT_PER_MM)
        .ok_or(RenderError::PageSize)?;
    let mut issues = Vec::with_capacity(labels.len());
    for label in labels {
        let mut page = doc.start_page_with(page_settings.clone());
        let mut surface = page.surface();
        let mut found: Vec<Issue> = Vec::new();
        for block in &layout.blocks {
            let mut ctx = Ctx { s: &mut surface, font, block, problems: Vec::new() };
            ctx.draw(label);
            for problem in ctx.problems {
                let issue = Issue { block: block.kind, problem };
                if !found.contains(&issue) {
                    found.push(issue);
                }
            }
        }
        surface.finish();
        page.finish();
        issues.push(found);
    }
    let pdf = doc.finish().map_err(|e| RenderError::Pdf(format!("{e:?}")))?;
    Ok(Rendered { pdf, issues })
}

/// A paragraph: text and its size relative to the block's font size.
struct Para {
    text: String,
    scale: f32,
}

fn para(text: impl Into<String>, scale: f32) -> Para {
    Para { text: text.into(), scale }
}

struct Ctx<'a, 'b> {
    s: &'a mut Surface<'b>,
    font: &'static LabelFont,
    block: &'a Block,
    problems: Vec<Problem>,
}

fn rect(x: f32, y: f32, w: f32, h: f32) -> Option<krilla::geom::Path> {
    let mut pb = PathBuilder::new();
    pb.push_rect(Rect::from_xywh(x, y, w, h)?);
    pb.finish()
}

fn join(parts: &[Option<&str>], sep: &str) -> String {
    parts.iter().flatten().map(|s| s.trim()).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(sep)
}

fn money(minor: i128, currency: &str) -> String {
    // Two-decimal currencies cover the marketplaces' (USD, EUR, GBP, CNY…); JPY and KRW
    // have none.
    if matches!(currency, "JPY" | "KRW") {
        format!("{minor} {currency}")
    } else {
        format!("{}.{:02} {currency}", minor / 100, (minor % 100).abs())
    }
}

fn kg(grams: i128) -> String {
    format!("{}.{:03}", grams / 1000, grams % 1000)
}

// Sums in i128: an i64 value times an i32 quantity, summed over any number of lines,
// cannot overflow it.
fn line_weight(l: &Line) -> Option<i128> {
    l.unit_weight_grams.map(|w| i128::from(w) * i128::from(l.quantity))
}

fn line_value(l: &Line) -> Option<(i128, &str)> {
    Some((i128::from(l.unit_value_minor?) * i128::from(l.quantity), l.currency.as_deref()?))
}

fn total_weight(lines: &[Line]) -> Option<i128> {
    lines.iter().map(line_weight).sum()
}

fn total_value(lines: &[Line]) -> Option<(i128, String)> {
    let currency = lines.first()?.currency.clone()?;
    let mut sum = 0i128;
    for l in lines {
        let (v, c) = line_value(l)?;
        if c != currency {
            return None;
        }
        sum += v;
    }
    Some((sum, currency))
}

fn address_paras(a: &Address, heading: &str, first_scale: f32) -> Vec<Para> {
    let mut out = vec![para(format!("{heading} {}", a.name.trim()), first_scale)];
    if let Some(c) = a.company.as_deref().filter(|c| !c.trim().is_empty()) {
        out.push(para(c.trim(), 1.0));
    }
    out.push(para(a.line1.trim(), 1.0));
    if let Some(l2) = a.line2.as_deref().filter(|l| !l.trim().is_empty()) {
        out.push(para(l2.trim(), 1.0));
    }
    let place = join(&[a.city.as_deref(), a.state.as_deref(), a.postal_code.as_deref()], ", ");
    out.push(para(join(&[Some(place.as_str()), Some(a.country_code.as_str())], "  "), first_scale));
    if let Some(p) = a.phone.as_deref().filter(|p| !p.trim().is_empty()) {
        out.push(para(format!("Tel: {}", p.trim()), 1.0));
    }
    out
}

/// Whether a line may break before and after `c` (CJK ideographs, kana, Hangul, fullwidth).
fn breaks_around(c: char) -> bool {
    matches!(c as u32, 0x2E80..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF)
}

/// Break units: a word with its trailing spaces, or one CJK character.
fn units(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_space = false;
    for (i, c) in text.char_indices() {
        if breaks_around(c) {
            if start < i {
                out.push(&text[start..i]);
            }
            out.push(&text[i..i + c.len_utf8()]);
            start = i + c.len_utf8();
            in_space = false;
        } else if c == ' ' {
            in_space = true;
        } else if in_space {
            out.push(&text[start..i]);
            start = i;
            in_space = false;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

impl LabelFont {
    /// Greedy line breaking of `text` into lines at most `width` wide.
    fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for unit in units(text) {
            let candidate = format!("{line}{unit}");
            if self.width(candidate.trim_end(), size) <= width {
                line = candidate;
                continue;
            }
            if !line.trim().is_empty() {
                lines.push(line.trim_end().to_owned());
            }
            line = String::new();
            // A unit wider than the line breaks between characters.
            for c in unit.chars() {
                if !line.is_empty() && self.width(format!("{line}{c}").trim_end(), size) > width {
                    lines.push(std::mem::take(&mut line).trim_end().to_owned());
                }
                if !(line.is_empty() && c == ' ') {
                    line.push(c);
                }
            }
        }
        if !line.trim().is_empty() {
            lines.push(line.trim_end().to_owned());
        }
        lines
    }

    /// `text` shortened with "…" to fit `width`.
    fn ellipsize(&self, text: &str, size: f32, width: f32) -> String {
        let mut out: String = text.to_owned();
        while !out.is_empty() && self.width(&format!("{out}…"), size) > width {
            out.pop();
        }
        format!("{}…", out.trim_end())
    }
}

/// Laid-out lines: text, size and whether anything was cut.
struct Fitted {
    lines: Vec<(String, f32)>,
    cut: bool,
}

impl Ctx<'_, '_> {
    fn x(&self) -> f32 {
        self.block.x_mm * PT_PER_MM
    }
    fn y(&self) -> f32 {
        self.block.y_mm * PT_PER_MM
    }
    fn w(&self) -> f32 {
        self.block.width_mm * PT_PER_MM
    }
    fn h(&self) -> f32 {
        self.block.height_mm * PT_PER_MM
    }

    fn draw(&mut self, l: &Label) {
        if self.block.border {
            self.stroke_rect(self.x(), self.y(), self.w(), self.h(), 0.8);
        }
        let size = self.block.font_size;
        match self.block.kind {
            BlockKind::Sender => self.paragraphs(&address_paras(&l.sender, "FROM:", 1.0)),
            BlockKind::Recipient => self.paragraphs(&address_paras(&l.recipient, "TO:", 1.15)),
            BlockKind::Destination => {
                let (x, y, w, h) = (self.x(), self.y(), self.w(), self.h());
                self.line_centered(&l.recipient.country_code, x, y, w, h, size);
            }
            BlockKind::Channel => {
                self.paragraphs(&[para(l.channel_name.clone(), 1.0), para(l.channel_code.clone(), 0.8)]);
            }
            BlockKind::Barcode => self.barcode(&l.tracking_number),
            BlockKind::Reference => self.paragraphs(&[para(format!("Ref: {}", l.customer_reference), 1.0)]),
            BlockKind::Weight => {
                let w = total_weight(&l.lines).map_or_else(|| "—".to_owned(), |g| format!("{} kg", kg(g)));
                self.paragraphs(&[para(format!("Weight: {w}"), 1.0)]);
            }
            BlockKind::Declaration => {
                let mut p = vec![para("Declaration 申报", 0.85)];
                for d in &l.lines {
                    let value = line_value(d).map(|(v, c)| money(v, c));
                    let names = join(&[d.name_en.as_deref(), d.name_cn.as_deref()], " / ");
                    let hs = d.hs_code.as_deref().map(|h| format!("HS {h}"));
                    let text = join(
                        &[
                            Some(&format!("{} ×", d.quantity)),
                            Some(if names.is_empty() { "(no declaration)" } else { &names }),
                            value.as_deref(),
                            hs.as_deref(),
                        ],
                        "  ",
                    );
                    p.push(para(text, 1.0));
                }
                self.paragraphs(&p);
            }
            BlockKind::Picking => {
                let mut p = vec![para("Picking 配货", 0.85)];
                for d in &l.lines {
                    let sku = d.sku.as_deref().unwrap_or("—");
                    let text = join(&[Some(&format!("{sku} × {}", d.quantity)), d.picking_info.as_deref()], "  ");
                    p.push(para(text, 1.0));
                }
                self.paragraphs(&p);
            }
            BlockKind::Cn22 => self.cn22(l),
        }
    }

    fn stroke(&mut self, path: Option<krilla::geom::Path>, width: f32) {
        if let Some(path) = path {
            self.s.set_fill(None);
            self.s.set_stroke(Some(Stroke { width, ..Default::default() }));
            self.s.draw_path(&path);
            self.s.set_stroke(None);
            self.s.set_fill(Some(Fill::default()));
        }
    }

    fn stroke_rect(&mut self, x: f32, y: f32, w: f32, h: f32, width: f32) {
        self.stroke(rect(x, y, w, h), width);
    }

    fn hline(&mut self, x: f32, y: f32, w: f32) {
        let mut pb = PathBuilder::new();
        pb.move_to(x, y);
        pb.line_to(x + w, y);
        self.stroke(pb.finish(), 0.5);
    }

    fn text(&mut self, text: &str, x: f32, top: f32, size: f32) {
        if text.is_empty() {
            return;
        }
        if text.chars().any(|c| !c.is_whitespace() && c != '…' && !self.font.covers(c)) {
            self.flag(Problem::MissingGlyph);
        }
        let glyphs = self.font.glyphs(text);
        let baseline = top + self.font.ascent * size;
        self.s.draw_glyphs(Point::from_xy(x, baseline), &glyphs, self.font.pdf.clone(), text, size, false);
    }

    /// Fits paragraphs into `width` × `height`: the largest size (from `max` down to
    /// `min` in half points) at which everything wraps into the height; else cut with "…".
    fn fit(&self, paras: &[Para], width: f32, height: f32, max: f32, min: f32) -> Fitted {
        let lh = self.font.line_height;
        let mut size = max;
        loop {
            let lines: Vec<(String, f32)> = paras
                .iter()
                .filter(|p| !p.text.trim().is_empty())
                .flat_map(|p| {
                    let s = size * p.scale;
                    self.font.wrap(&p.text, s, width).into_iter().map(move |l| (l, s))
                })
                .collect();
            let total: f32 = lines.iter().map(|(_, s)| s * lh).sum();
            // A line can be wider than the block only when a single character is.
            let widest = lines.iter().map(|(l, s)| self.font.width(l, *s)).fold(0.0, f32::max);
            if total <= height + 0.01 && widest <= width + 0.01 {
                return Fitted { lines, cut: false };
            }
            if size <= min {
                let mut kept = Vec::new();
                let mut used = 0.0;
                for (l, s) in lines {
                    if used + s * lh > height + 0.01 {
                        break;
                    }
                    used += s * lh;
                    kept.push((l, s));
                }
                if let Some((last, s)) = kept.pop() {
                    kept.push((self.font.ellipsize(&last, s, width), s));
                }
                return Fitted { lines: kept, cut: true };
            }
            size = (size - 0.5).max(min);
        }
    }

    fn paragraphs(&mut self, paras: &[Para]) {
        let (x, y, w, h) = (self.x() + PAD, self.y() + PAD * 0.6, self.w() - 2.0 * PAD, self.h() - 1.2 * PAD);
        let fitted = self.fit(paras, w, h, self.block.font_size, MIN_FONT_SIZE);
        if fitted.cut {
            self.flag(Problem::Cut);
        }
        let mut top = y;
        for (line, size) in &fitted.lines {
            self.text(line, x, top, *size);
            top += size * self.font.line_height;
        }
    }

    fn flag(&mut self, p: Problem) {
        if !self.problems.contains(&p) {
            self.problems.push(p);
        }
    }

    /// `text` on one line within `width`: the largest size from `max` down to `min` (in
    /// `step`s) at which it fits, else cut with "…" at `min` (and flagged).
    fn shrink_line(&mut self, text: &str, width: f32, max: f32, min: f32, step: f32) -> (String, f32) {
        let mut size = max.max(min);
        while size > min && self.font.width(text, size) > width {
            size = (size - step).max(min);
        }
        if self.font.width(text, size) > width {
            self.flag(Problem::Cut);
            return (self.font.ellipsize(text, size, width), size);
        }
        (text.to_owned(), size)
    }

    /// One line centred in a box, shrunk to fit (down to 5 pt) or cut with "…".
    fn line_centered(&mut self, text: &str, x: f32, y: f32, w: f32, h: f32, max: f32) {
        let max = max.min(h / self.font.line_height).max(MIN_FONT_SIZE);
        let (shown, size) = self.shrink_line(text, w - 2.0 * PAD, max, MIN_FONT_SIZE, 0.5);
        let tw = self.font.width(&shown, size);
        let top = y + (h - size * self.font.line_height) / 2.0;
        self.text(&shown, x + (w - tw) / 2.0, top, size);
    }

    /// Code 128 bars with a 10-module quiet zone each side, bars a whole number of printer
    /// dots wide, and the number beneath.
    fn barcode(&mut self, tracking: &str) {
        let (x, y, w, h) = (self.x(), self.y(), self.w(), self.h());
        let text_h = self.block.font_size * self.font.line_height;
        let Ok(modules) = barcode::code128(tracking) else {
            // The printing service refuses such waybills before rendering; never drawn blank.
            self.flag(Problem::Cut);
            self.line_centered(tracking, x, y, w, h, self.block.font_size);
            return;
        };
        let count = modules.len() as f32 + 20.0;
        let raw_mm = self.block.width_mm / count;
        let module_mm = if raw_mm >= MIN_MODULE_MM { (raw_mm / DOT_MM).floor() * DOT_MM } else { raw_mm };
        if module_mm < MIN_MODULE_MM {
            // Too long for this block to scan reliably: still drawn, but reported.
            self.flag(Problem::NarrowBarcode);
        }
        let mw = module_mm * PT_PER_MM;
        let bars_w = mw * modules.len() as f32;
        let left = x + (w - bars_w) / 2.0;
        let bar_h = (h - text_h - 1.0).max(h * 0.5);
        let mut pb = PathBuilder::new();
        let mut i = 0;
        while i < modules.len() {
            if modules[i] == 1 {
                let run = modules[i..].iter().take_while(|m| **m == 1).count();
                if let Some(r) = Rect::from_xywh(left + mw * i as f32, y, mw * run as f32, bar_h) {
                    pb.push_rect(r);
                }
                i += run;
            } else {
                i += 1;
            }
        }
        if let Some(path) = pb.finish() {
            self.s.set_fill(Some(Fill::default()));
            self.s.draw_path(&path);
        }
        let size = self.block.font_size;
        self.line_centered(tracking, x, y + bar_h + 1.0, w, h - bar_h - 1.0, size);
    }

    /// A CN 22 customs declaration: header, category, contents table, totals and the
    /// sender's certification, scaled down as a whole (to 4 pt) when the block is small.
    fn cn22(&mut self, l: &Label) {
        let (x0, y0, w, h) = (self.x(), self.y(), self.w(), self.h());
        let lh = self.font.line_height;
        let weight = total_weight(&l.lines);
        let value = total_value(&l.lines);
        let cert = "I, the undersigned, whose name and address are given on the item, certify that the \
                    particulars given in this declaration are correct and that this item does not contain \
                    any dangerous article or articles prohibited by legislation or by postal or customs \
                    regulations.";
        let rows = l.lines.len().max(1) as f32;
        // Height needed at size s: title 1.5 rows, operator 1, category 1, header 2, lines,
        // totals 1, certification (wrapped), signature 1, plus padding.
        let needed = |s: f32| -> f32 {
            let cert_lines = self.font.wrap(cert, s * 0.85, w - 2.0 * PAD).len() as f32;
            s * lh * (1.5 + 1.0 + 1.0 + 2.0 + rows + 1.0 + 1.0) + s * 0.85 * lh * cert_lines + 2.0 * PAD
        };
        let mut s = self.block.font_size;
        while s > 4.0 && needed(s) > h {
            s = (s - 0.25).max(4.0);
        }
        let max_rows = if needed(s) > h {
            self.flag(Problem::Cut);
            let spare = h - (needed(s) - s * lh * rows);
            (spare / (s * lh)).floor().max(1.0) as usize
        } else {
            l.lines.len()
        };
        let x = x0 + PAD;
        let inner = w - 2.0 * PAD;
        let mut y = y0 + PAD * 0.5;
        let cn = "CN 22";
        let cw = self.font.width(cn, s * 1.3);
        self.text(cn, x + inner - cw, y, s * 1.3);
        self.cell("CUSTOMS DECLARATION", x, y, inner - cw - 4.0, s * 1.3);
        y += s * 1.5 * lh;
        let opened = "May be opened officially";
        let (shown, size) = self.shrink_line(opened, inner * 0.38, s, 4.0, 0.25);
        self.text(&shown, x + inner - self.font.width(&shown, size), y, size);
        let operator = format!("Designated operator: {}", l.channel_name);
        self.cell(&operator, x, y, inner * 0.6, s);
        y += s * lh;
        self.cell(
            "[X] Sale of goods   [ ] Gift   [ ] Commercial sample   [ ] Documents   [ ] Returned goods   [ ] Other",
            x,
            y,
            inner,
            s,
        );
        y += s * lh;
        self.hline(x0, y, w);
        // Columns: description 44%, weight 12%, value 16%, HS 16%, origin 12%.
        let cols = [0.0, 0.44, 0.56, 0.72, 0.88, 1.0].map(|f| x + inner * f);
        let header = [
            "Quantity and detailed description of contents",
            "Weight (kg)",
            "Value",
            "HS tariff number",
            "Country of origin",
        ];
        for (i, t) in header.iter().enumerate() {
            let lines = self.font.wrap(t, s * 0.85, cols[i + 1] - cols[i] - 1.0);
            if lines.len() > 2 {
                self.flag(Problem::Cut);
            }
            for (j, line) in lines.iter().take(2).enumerate() {
                self.text(line, cols[i], y + j as f32 * s * 0.85 * lh, s * 0.85);
            }
        }
        y += 2.0 * s * lh;
        self.hline(x0, y, w);
        let shown = l.lines.len().min(max_rows);
        for (i, d) in l.lines.iter().take(shown).enumerate() {
            let last_visible = i + 1 == shown && shown < l.lines.len();
            let desc = if last_visible {
                format!("+ {} more lines (see the parcel's invoice)", l.lines.len() - i)
            } else {
                let name = d.name_en.as_deref().unwrap_or("—");
                format!("{} × {name}", d.quantity)
            };
            self.cell(&desc, cols[0], y, cols[1] - cols[0] - 1.0, s);
            if !last_visible {
                let wt = line_weight(d).map(kg);
                let val = line_value(d).map(|(v, c)| money(v, c));
                self.cell(wt.as_deref().unwrap_or("—"), cols[1], y, cols[2] - cols[1] - 1.0, s);
                self.cell(val.as_deref().unwrap_or("—"), cols[2], y, cols[3] - cols[2] - 1.0, s);
                self.cell(d.hs_code.as_deref().unwrap_or(""), cols[3], y, cols[4] - cols[3] - 1.0, s);
                self.cell(d.origin_country.as_deref().unwrap_or(""), cols[4], y, cols[5] - cols[4] - 1.0, s);
            }
            y += s * lh;
        }
        self.hline(x0, y, w);
        self.cell("Total weight (kg)", cols[0], y, cols[1] - cols[0] - 1.0, s);
        self.cell(&weight.map(kg).unwrap_or_else(|| "—".into()), cols[1], y, cols[2] - cols[1] - 1.0, s);
        let total = value.map(|(v, c)| money(v, &c)).unwrap_or_else(|| "—".into());
        self.cell(&format!("Total value: {total}"), cols[2], y, cols[5] - cols[2], s);
        y += s * lh;
        self.hline(x0, y, w);
        for line in self.font.wrap(cert, s * 0.85, inner) {
            self.text(&line, x, y, s * 0.85);
            y += s * 0.85 * lh;
        }
        let sign = format!("Date and sender's signature: {}   {}", l.date, l.sender.name);
        self.cell(&sign, x, y, inner, s);
    }

    /// One table cell: one line, shrunk to fit (to 4 pt), else cut with "…" (flagged).
    fn cell(&mut self, text: &str, x: f32, top: f32, width: f32, max: f32) {
        let (shown, size) = self.shrink_line(text, width, max, 4.0, 0.25);
        self.text(&shown, x, top, size);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::layout::builtin;

    fn sample() -> Label {
        Label {
            tracking_number: "RR123456785CN".into(),
            customer_reference: "OD12-34567-89012".into(),
            channel_name: "China Post Registered".into(),
            channel_code: "CNPOST-RR".into(),
            sender: Address {
                name: "Shenzhen Warehouse".into(),
                line1: "1 Keji Road".into(),
                city: Some("Shenzhen".into()),
                country_code: "CN".into(),
                ..Default::default()
            },
            recipient: Address {
                name: "Zoë O'Brien".into(),
                line1: "12 Rue de l'Église".into(),
                city: Some("Paris".into()),
                postal_code: Some("75001".into()),
                country_code: "FR".into(),
                ..Default::default()
            },
            lines: vec![Line {
                sku: Some("CASE-01".into()),
                quantity: 2,
                name_en: Some("Phone case".into()),
                name_cn: Some("手机壳".into()),
                unit_value_minor: Some(350),
                currency: Some("USD".into()),
                unit_weight_grams: Some(60),
                hs_code: Some("392690".into()),
                origin_country: Some("CN".into()),
                picking_info: Some("黑色 左二货架".into()),
            }],
            date: "2026-11-23".into(),
        }
    }

    #[test]
    fn wraps_words_and_cjk() {
        let f = font::get().unwrap();
        let w = f.width("Hello world", 10.0) + 0.1;
        assert_eq!(f.wrap("Hello world Hello world", 10.0, w), vec!["Hello world", "Hello world"]);
        let cjk = f.wrap("中华人民共和国", 10.0, 30.5);
        assert_eq!(cjk, vec!["中华人", "民共和", "国"]);
        // A word longer than the line breaks between characters.
        assert!(f.wrap("Supercalifragilistic", 10.0, 30.0).len() > 1);
        assert_eq!(units("ab  cd中e"), vec!["ab  ", "cd", "中", "e"]);
    }

    #[test]
    fn renders_every_template_and_reports_overflow() {
        for t in builtin() {
            let mut long = sample();
            long.recipient.line1 = "Very long street name ".repeat(80);
            let mut emoji = sample();
            emoji.recipient.name = "Zoë 🎁".into();
            let r = render(&t.layout, &[sample(), long, emoji]).unwrap();
            assert!(r.pdf.starts_with(b"%PDF-"));
            assert!(r.issues[0].is_empty(), "{}: {:?}", t.code, r.issues[0]);
            assert_eq!(r.issues[1], vec![Issue { block: BlockKind::Recipient, problem: Problem::Cut }], "{}", t.code);
            assert_eq!(
                r.issues[2],
                vec![Issue { block: BlockKind::Recipient, problem: Problem::MissingGlyph }],
                "{}",
                t.code
            );
        }
    }

    #[test]
    fn money_and_weight_format() {
        assert_eq!(money(1234, "USD"), "12.34 USD");
        assert_eq!(money(500, "JPY"), "500 JPY");
        assert_eq!(kg(1250), "1.250");
        let l = sample().lines;
        assert_eq!(total_weight(&l), Some(120));
        let mut huge = l.clone();
        huge[0].unit_value_minor = Some(i64::MAX);
        huge[0].quantity = 100_000;
        assert_eq!(total_value(&huge).map(|v| v.0), Some(i128::from(i64::MAX) * 100_000));
        assert_eq!(total_value(&l), Some((700, "USD".into())));
    }
}
