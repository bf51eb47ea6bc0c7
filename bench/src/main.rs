//! `cargo run --release -p authprobe_bench`: HMAC secret cracking speed against a baseline.

fn main() {
    authprobe_bench::crack_report(&mut std::io::stdout().lock()).expect("stdout");
}
