//! The fuzz targets' bodies, shared by the libFuzzer binaries (`cargo fuzz run NAME`) and
//! the plain randomized harness (`src/bin/randomized.rs`). Each one feeds untrusted input
//! (what a hostile target or a broken config can send) to one parser and uses what comes
//! out the way the scanner does; any panic is a crash.

use authprobe_core::config::{path_matches, FileConfig, Target};
use authprobe_core::cookies::{CookieJar, SetCookie};
use authprobe_core::discovery::Inventory;
use authprobe_core::auth::JsonPathExpr;
use authprobe_core::spec::{inventory, ApiSpec, Security};
use authprobe_entropy::{Options, Weakness};
use authprobe_jwt::Jwt;

/// A JWT taken from a response or a cookie: parsed, then read like the JWT checks read it.
pub fn jwt_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = Jwt::looks_like(text);
    if let Ok(jwt) = Jwt::parse(text) {
        let _ = jwt.alg();
        let _ = jwt.token_type();
        for claim in ["exp", "iat", "nbf", "sub", "user_id"] {
            let _ = jwt.numeric_claim(claim);
            let _ = jwt.string_claim(claim);
        }
        for now in [0, 1_700_000_000, i64::MIN, i64::MAX] {
            let _ = jwt.lifetime_secs(now);
        }
        let _ = authprobe_jwt::encode_segment(&serde_json::Value::Object(jwt.claims.clone()));
    }
}

/// A `Set-Cookie` header value (lossily decoded, as the probe records headers), stored in
/// a jar and sent back.
pub fn set_cookie(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Some(cookie) = SetCookie::parse(&text) {
        let jar = CookieJar::new();
        jar.store(&cookie);
        let _ = jar.header();
        let _ = jar.get(&cookie.name);
        let _ = jar.names();
    }
}

/// `authprobe.toml`: parsed into the config shape the CLI loads, then the target URLs parsed.
pub fn config_load(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(config) = toml::from_str::<FileConfig>(text) {
        if let Some(target) = config.target {
            for url in [target.url, target.http_url].into_iter().flatten() {
                if let Ok(t) = Target::parse(&url) {
                    let _ = t.join("/api/token/");
                    let _ = t.is_loopback();
                }
            }
        }
    }
}

/// A login flow's JSON path (first line) applied to a response body (the rest).
pub fn json_path(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (path, body) = text.split_once('\n').unwrap_or((text, "{}"));
    let Ok(expr) = JsonPathExpr::parse(path) else { return };
    let _ = expr.as_str();
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(body) {
        let _ = expr.first_str(&value);
    }
}

/// An OpenAPI 3.x / Swagger 2.0 document (`--spec`, or the schema a hostile target serves),
/// then what the scan does with it: seed paths joined to the target, protected-path
/// patterns matched against them, the schemes each operation names.
pub fn spec_load(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(spec) = ApiSpec::from_text(text, "fuzz.yaml") else {
        return;
    };
    let _ = spec.title.as_deref();
    for op in &spec.operations {
        let _ = op.is_safe();
        let pattern = op.pattern();
        if let Some(path) = op.concrete_path() {
            let _ = path_matches(&pattern, &path);
        }
        if let Security::Required(names) = &op.security {
            for name in names {
                let _ = spec.scheme(name);
            }
        }
    }
    let target = Target::parse("http://127.0.0.1:8000/").expect("a valid target");
    let seeds = inventory::seed_paths(&spec);
    let protected = inventory::protected_patterns(&spec);
    for path in &seeds {
        let _ = target.join(path);
        for pattern in &protected {
            let _ = path_matches(pattern, path);
        }
    }
    let _ = inventory::urls_from_lists(&spec, &Inventory::default(), &target);
}

/// Most tokens one `entropy_analyze` input is split into.
const MAX_FUZZ_TOKENS: usize = 2_000;
/// Most identity values one input names: each adds thousands of candidate hashes (about
/// 15 ms an input), which would starve the rest of the analysis of executions.
const MAX_FUZZ_IDENTITIES: usize = 1;

/// A token sample (one per line, lossily decoded, as the scan records cookies and fields)
/// analysed like `authprobe tokens analyze` does, then the report rendered. A first line
/// starting with `#` gives the options: a word that parses as an integer is the reference
/// (issue) time, `--issued-at`; the first other word is an identity value, `--identity`.
pub fn entropy_analyze(data: &[u8]) {
    let mut lines = data.split(|&b| b == b'\n');
    let mut options = Options::default();
    let mut tokens: Vec<String> = Vec::new();
    if let Some(first) = lines.next() {
        match first.strip_prefix(b"#") {
            Some(header) => {
                for word in String::from_utf8_lossy(header).split_whitespace() {
                    match word.parse::<i64>() {
                        Ok(t) => options.reference_time = Some(t),
                        Err(_) if options.identities.len() < MAX_FUZZ_IDENTITIES => {
                            options.identities.push(word.to_string())
                        }
                        Err(_) => {}
                    }
                }
            }
            None => tokens.push(String::from_utf8_lossy(first).into_owned()),
        }
    }
    tokens.extend(
        lines
            .take(MAX_FUZZ_TOKENS - tokens.len())
            .map(|l| String::from_utf8_lossy(l).into_owned()),
    );
    let Ok(analysis) = authprobe_entropy::analyze(&tokens, &options) else {
        return;
    };
    let _ = analysis.randomness_rejected();
    for weakness in [Weakness::LowEntropy, Weakness::Predictable, Weakness::IdentityDerived] {
        let _ = weakness.code();
        let _ = analysis.verdict(weakness).map(|v| v.summary.len());
    }
    let _ = analysis.reliability.as_str();
    for p in &analysis.predictions {
        let _ = p.next.len();
    }
    let _ = format!("{analysis:?}");
    let json = serde_json::to_string_pretty(&analysis).expect("an analysis serializes");
    let _ = serde_json::from_str::<serde_json::Value>(&json).expect("and parses back");
}

/// Every target by name, for the randomized harness.
pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("jwt_parse", jwt_parse),
    ("set_cookie", set_cookie),
    ("config_load", config_load),
    ("json_path", json_path),
    ("spec_load", spec_load),
    ("entropy_analyze", entropy_analyze),
];
