//! `--format json`: the `authprobe.report/v1` document.

use authprobe_core::Report;

pub fn render(report: &Report) -> String {
    let mut out = serde_json::to_string_pretty(report).expect("a report always serializes");
    out.push('\n');
    out
}
