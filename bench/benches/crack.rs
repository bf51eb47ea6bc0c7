//! `cargo bench -p authprobe_bench`: the same report as `cargo run --release -p authprobe_bench`.

fn main() {
    authprobe_bench::crack_report(&mut std::io::stdout().lock()).expect("stdout");
}
