//! `cargo run --release -p authprobe_bench`: HMAC secret cracking and token analysis speed
//! against baselines (`-- entropy` or `-- crack` runs one of them).

use std::io::Write;

fn main() {
    let only = std::env::args().nth(1);
    let out = &mut std::io::stdout().lock();
    if only.as_deref() != Some("entropy") {
        authprobe_bench::crack_report(out).expect("stdout");
    }
    if only.as_deref() != Some("crack") {
        writeln!(out).expect("stdout");
        authprobe_bench::entropy::entropy_report(out, 7).expect("stdout");
    }
}
