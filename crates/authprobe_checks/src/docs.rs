//! Renders the Markdown pages under `docs/checks/` from the registry: one page per check
//! (its catalog data, then its doc comment verbatim) and an index. The pages are
//! generated, never edited by hand; `tests/docs.rs` fails when they are stale.

use std::fmt::Write;

use authprobe_core::Check;

use crate::registry::ALL;

/// The command that regenerates `docs/checks/`.
pub const REGENERATE: &str = "UPDATE_DOCS=1 cargo test -p authprobe_checks --test docs";

/// The file name of a check's page under `docs/checks/`, e.g. `JWT001.md`.
pub fn page_name(check: &dyn Check) -> String {
    format!("{}.md", check.meta().code)
}

/// The Markdown page of one check: a heading, a table of its catalog data, then its
/// documentation sections exactly as written in its doc comment.
pub fn render_check(check: &dyn Check) -> String {
    let meta = check.meta();
    let mut out = String::new();
    out.push_str(&generated_notice());
    let _ = writeln!(out, "# {} {}: {}\n", meta.code, meta.slug, meta.title);
    out.push_str("| | |\n|---|---|\n");
    let _ = writeln!(out, "| Code | `{}` |", meta.code);
    let _ = writeln!(out, "| Slug | `{}` |", meta.slug);
    let _ = writeln!(out, "| Severity | {} |", authprobe_core::check::severity_label(check));
    let cwe: Vec<String> = meta
        .cwe
        .iter()
        .map(|n| format!("[CWE-{n}](https://cwe.mitre.org/data/definitions/{n}.html)"))
        .collect();
    let _ = writeln!(out, "| CWE | {} |", cwe.join(", "));
    let owasp: Vec<String> = meta.owasp.iter().map(|o| cell(o)).collect();
    let _ = writeln!(out, "| OWASP API Top 10 (2023) | {} |", owasp.join("<br>"));
    let _ = writeln!(
        out,
        "| Requires | {} |",
        authprobe_core::check::requirement_label(check)
    );
    let _ = writeln!(out, "| Family | {} |", meta.family.name());
    let _ = writeln!(
        out,
        "| Shares (computed once per scan) | {} |",
        authprobe_core::check::shares_label(check)
    );
    out.push('\n');
    out.push_str(check.doc().trim());
    out.push('\n');
    out
}

/// The Markdown index of every check (`docs/checks/README.md`), in catalog order.
pub fn render_index() -> String {
    let mut out = String::new();
    out.push_str(&generated_notice());
    out.push_str("# Checks\n\n");
    let _ = writeln!(
        out,
        "Every check authprobe runs, in catalog order. `authprobe explain CODE` prints the same \
         documentation in the terminal. These pages are generated from each check's doc comment; \
         to regenerate them, run `{REGENERATE}`.\n"
    );
    out.push_str(
        "A check that grades its findings lists every severity they can have (`medium/high`). \
         What a check requires: `passive` sends no request beyond discovery; `active` sends \
         requests of its own but needs no credential; `identity` needs `--user` or `--bearer`; \
         `login flow` needs `--user`; `two identities` needs `--user` twice; `+ --allow-writes` \
         marks write probes.\n\n",
    );
    out.push_str("| Code | Severity | Requires | Title |\n|---|---|---|---|\n");
    for check in ALL {
        let meta = check.meta();
        let _ = writeln!(
            out,
            "| [{}]({}) | {} | {} | {} |",
            meta.code,
            page_name(*check),
            authprobe_core::check::severity_label(*check),
            authprobe_core::check::requirement_label(*check),
            cell(meta.title)
        );
    }
    out
}

fn generated_notice() -> String {
    format!("<!-- Generated from the check registry; do not edit. Regenerate with `{REGENERATE}`. -->\n\n")
}

/// Escapes text for a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}
