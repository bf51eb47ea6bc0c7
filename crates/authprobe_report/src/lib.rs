//! authprobe's emitters: one module per output format. Emitters only read a finished
//! [`authprobe_core::Report`]; they never probe and never see unredacted secrets.

pub mod json;
pub mod pretty;

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pretty,
    Json,
}

impl Format {
    pub fn render(self, report: &authprobe_core::Report, color: bool) -> String {
        match self {
            Format::Pretty => pretty::render(report, color),
            Format::Json => json::render(report),
        }
    }
}
