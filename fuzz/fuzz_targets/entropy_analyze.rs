#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| authprobe_fuzz::entropy_analyze(data));
