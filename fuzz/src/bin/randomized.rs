//! The fuzz targets without libFuzzer: a mutation loop over seed inputs and a dictionary
//! (xorshift randomness, no coverage feedback). For machines without a nightly toolchain
//! or cargo-fuzz. Usage: `randomized TARGET SECONDS [SEED]`; a panicking input is written
//! to `artifacts/TARGET/crash-N` and the run exits 1.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const DICTIONARY: &[&str] = &[
    "eyJ",
    ".",
    "=",
    ";",
    "\"",
    "{",
    "}",
    "[",
    "]",
    "$",
    "$..",
    "[*]",
    "['a','b']",
    "?@",
    "==",
    "\\u0000",
    "\u{ff}",
    "9223372036854775807",
    "-9223372036854775808",
    "1e400",
    "-0",
    "null",
    "\"exp\":",
    "\"iat\":",
    "\"alg\":",
    "Max-Age=",
    "Expires=",
    "SameSite=",
    "Path=/",
    "Secure",
    "[target]\nurl=",
    "[scan]\n",
    "[[identities]]\n",
    "[flows.login]\n",
    "http://",
    "https://[::1]:",
    "%00",
    "\r\n",
    "\u{202e}",
    "😀",
    "openapi: 3.0.0\n",
    "openapi: 3.1.0\n",
    "swagger: \"2.0\"\n",
    "paths:\n  /a/{id}/:\n    get:\n",
    "{\"$ref\": \"#/components/parameters/",
    "$ref: '#/paths/",
    "parameters: [{name: id, in: path, example: 1}]",
    "security: []",
    "security: [{}]",
    "servers: [{url: ",
    "basePath: ",
    "&a ",
    "*a",
    "<<: ",
    "\n- ",
    "{{",
    "}}",
    "# 1700000000 alice\n",
    "-9223372036854775808 ",
    "170141183460469231731687303715884105727",
    "340282366920938463463374607431768211455",
    "00000000-0000-1000-8000-000000000000",
];

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let list: &[&str] = match target {
        "jwt_parse" => &[
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzAwMDAwMDAwLCJpYXQiOjE2OTk5OTk5MDAsInVzZXJfaWQiOjF9.c2ln",
            "eyJhbGciOiJub25lIn0.eyJleHAiOiI5OTk5OTk5OTk5OTk5OTk5OTk5OSJ9.",
            "a.b.c",
        ],
        "set_cookie" => &[
            "sessionid=abc; expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Max-Age=1209600; Path=/; SameSite=Lax",
            "csrftoken=x; Secure; SameSite=None",
            "a=; Max-Age=0",
        ],
        "config_load" => &[
            "[target]\nurl = \"http://127.0.0.1:8000/\"\nhttp_url = \"http://127.0.0.1:8001/\"\n[scan]\nmax_requests = 100\nrate = 5\n[[identities]]\nusername = \"alice\"\npassword = \"x\"\n",
            "[flows.login]\npath = \"/api/token/\"\nbody = \"json\"\ntoken = \"$.access\"\n",
            "[endpoints]\nprotected = [\"/api/*\"]\nextra = [\"/x/\"]\n",
        ],
        "json_path" => &[
            "$.access\n{\"access\":\"a\"}",
            "$['access','token']\n{\"token\":\"t\"}",
            "$.data.tokens[0].key\n{\"data\":{\"tokens\":[{\"key\":\"k\"}]}}",
            "$..[?@.a == 1]\n[{\"a\":1}]",
        ],
        "spec_load" => &[
            include_str!("../../seeds/spec_load/openapi30.yaml"),
            include_str!("../../seeds/spec_load/swagger2.json"),
            include_str!("../../seeds/spec_load/openapi31-refs.yaml"),
            "openapi: 3.0.0\npaths:\n  /a/{x}/:\n    get:\n      parameters: [{name: x, in: path}]\n",
        ],
        "entropy_analyze" => &[
            include_str!("../../seeds/entropy_analyze/random-hex"),
            include_str!("../../seeds/entropy_analyze/counter"),
            include_str!("../../seeds/entropy_analyze/monotonic"),
            include_str!("../../seeds/entropy_analyze/lcg"),
            include_str!("../../seeds/entropy_analyze/time-hex"),
            include_str!("../../seeds/entropy_analyze/uuid-v1"),
            include_str!("../../seeds/entropy_analyze/identity-derived"),
            include_str!("../../seeds/entropy_analyze/readable-base64"),
        ],
        _ => &[""],
    };
    list.iter().map(|s| s.as_bytes().to_vec()).collect()
}

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, corpus: &[Vec<u8>]) {
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(input.len() + 1);
        match rng.below(7) {
            0 if !input.is_empty() => {
                let i = rng.below(input.len());
                input[i] ^= 1 << rng.below(8);
            }
            1 if !input.is_empty() => {
                let end = (at + rng.below(16)).min(input.len());
                input.drain(at.min(end)..end);
            }
            2 => input.insert(at, rng.next() as u8),
            3 => {
                let word = DICTIONARY[rng.below(DICTIONARY.len())].as_bytes();
                input.splice(at..at, word.iter().copied());
            }
            4 if !input.is_empty() => {
                let start = rng.below(input.len());
                let end = (start + rng.below(64)).min(input.len());
                let copy = input[start..end].to_vec();
                input.splice(at..at, copy);
            }
            5 => {
                let other = &corpus[rng.below(corpus.len())];
                let start = rng.below(other.len() + 1);
                input.splice(at..at, other[start..].iter().copied());
            }
            _ => {
                let digits = format!("{}", rng.next() as i64);
                input.splice(at..at, digits.bytes());
            }
        }
    }
    input.truncate(4096);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(name), Some(secs)) = (args.get(1), args.get(2).and_then(|s| s.parse::<u64>().ok())) else {
        eprintln!("usage: randomized TARGET SECONDS [SEED]");
        std::process::exit(2);
    };
    let Some((_, target)) = authprobe_fuzz::TARGETS.iter().find(|(n, _)| n == name) else {
        eprintln!("no target {name}");
        std::process::exit(2);
    };
    let seed = args
        .get(3)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9E37_79B9_7F4A_7C15);
    let mut rng = Rng(seed);
    let mut corpus = seeds(name);
    std::panic::set_hook(Box::new(|_| {}));
    let started = Instant::now();
    let mut runs: u64 = 0;
    while started.elapsed() < Duration::from_secs(secs) {
        let mut input = corpus[rng.below(corpus.len())].clone();
        mutate(&mut rng, &mut input, &corpus);
        runs += 1;
        if catch_unwind(AssertUnwindSafe(|| target(&input))).is_err() {
            let dir = std::path::Path::new("artifacts").join(name);
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join(format!("crash-randomized-{runs}"));
            std::fs::write(&path, &input).unwrap();
            eprintln!("{name}: crash after {runs} runs, input written to {}", path.display());
            std::process::exit(1);
        }
        // Keep some mutants as new starting points (no coverage signal, so by chance).
        if rng.below(64) == 0 && corpus.len() < 4096 {
            corpus.push(input);
        }
    }
    println!("{name}: {runs} runs in {secs} s, no crash");
}
