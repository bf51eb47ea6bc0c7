//! `cargo run --release -p authprobe_bench`: HMAC secret cracking and token analysis speed
//! against baselines, in-scan cracking coverage, and a spec-driven scan at scale (`-- crack`,
//! `-- coverage`, `-- entropy` or `-- scan` runs one of them). `-- testbed` (never run by
//! default: it needs the Django testbed) times the bundled testbed's scan with the old and
//! the new check scheduling.

use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(authprobe_bench::scan::CHILD_ARG) {
        // One measurement of `-- scan`, in a process of its own (its own peak RSS).
        authprobe_bench::scan::child_main(&args);
        return;
    }
    let only = args.first().cloned();
    let run = |name: &str| only.is_none() || only.as_deref() == Some(name);
    if only.as_deref() == Some("testbed") {
        let out = &mut std::io::stdout().lock();
        let same = authprobe_bench::testbed::testbed_report(out).expect("the testbed bench runs");
        if !same {
            std::process::exit(1);
        }
        return;
    }
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
