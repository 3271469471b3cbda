//! Shipping labels: templates as data (`layout`), the embedded CJK font, Code 128 barcodes
//! and the PDF renderer. Pure rendering: knows no database, GraphQL or domain types; the
//! domain's printing service (`domain::labels`) feeds it.

pub mod barcode;
pub mod font;
pub mod layout;
mod render;

pub use render::{Address, Issue, Label, Line, Problem, RenderError, Rendered, render};
