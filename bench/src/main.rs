//! `cargo run --release -p authprobe_bench`: HMAC secret cracking and token analysis speed
//! against baselines, in-scan cracking coverage, and a spec-driven scan at scale (`-- crack`,
//! `-- coverage`, `-- entropy` or `-- scan` runs one of them).

use std::io::Write;

fn main() {
    let only = std::env::args().nth(1);
    let run = |name: &str| only.is_none() || only.as_deref() == Some(name);
    let out = &mut std::io::stdout().lock();
    if run("crack") {
        authprobe_bench::crack_report(out).expect("stdout");
    }
    if run("coverage") {
        writeln!(out).expect("stdout");
        authprobe_bench::coverage::coverage_report(out).expect("stdout");
    }
    if run("entropy") {
        writeln!(out).expect("stdout");
        authprobe_bench::entropy::entropy_report(out, 7).expect("stdout");
    }
    if run("scan") {
        writeln!(out).expect("stdout");
        authprobe_bench::scan::scan_report(out).expect("stdout");
    }
}
