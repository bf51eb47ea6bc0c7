//! `cargo bench -p authprobe_bench --bench entropy`: token analysis speed against a baseline.

fn main() {
    authprobe_bench::entropy::entropy_report(&mut std::io::stdout().lock(), 7).expect("stdout");
}
