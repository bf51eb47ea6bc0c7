//! The content oracle for exposed secrets: what an answer carries, whatever the route
//! says about itself. Password hashes of known formats, private keys, API keys of known
//! shapes, connection strings with a password, secret-named settings and password fields
//! with values, and other accounts' email addresses. AUTH001 reports an anonymous answer
//! that carries any of them, even on a route nothing declares protected.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use authprobe_core::{ProbeResponse, ScanContext};
use regex::Regex;
use serde_json::Value;

/// What kind of secret a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SecretKind {
    /// A password hash in a known format (the format's name).
    PasswordHash(&'static str),
    /// A PEM private key.
    PrivateKey,
    /// An API key of a provider's documented shape (the provider's name).
    ApiKey(&'static str),
    /// A URL or connection string with a password in it.
    ConnectionString,
    /// A value under a password or secret name (`password`, `SECRET_KEY`, `*_TOKEN`).
    NamedSecret,
    /// The plaintext password of one of the scan's own accounts, served back: proof by
    /// itself, whatever its length or the name it sits under.
    AccountPassword,
}

impl SecretKind {
    /// Whether the value's own shape proves what it is (not just the name it sits under).
    pub fn recognised_by_shape(self) -> bool {
        !matches!(self, SecretKind::NamedSecret)
    }

    fn describe(self) -> String {
        match self {
            SecretKind::PasswordHash(format) => format!("password hash ({format})"),
            SecretKind::PrivateKey => "private key".to_string(),
            SecretKind::ApiKey(provider) => format!("{provider} key"),
            SecretKind::ConnectionString => "connection string with a password".to_string(),
            SecretKind::NamedSecret => "secret-named value".to_string(),
            SecretKind::AccountPassword => "the plaintext password of a scan account".to_string(),
        }
    }
}

/// One secret found in an answer: where (a JSON path like `users[].password`, or the
/// variable name of a text dump), what, and the value (registered with the redactor by
/// the caller, never printed).
#[derive(Debug, Clone)]
pub struct FoundSecret {
    pub place: String,
    pub kind: SecretKind,
    pub value: String,
}

/// Everything secret an answer carries, and the distinct email addresses in it.
#[derive(Debug, Clone, Default)]
pub struct Contents {
    pub secrets: Vec<FoundSecret>,
    pub emails: BTreeSet<String>,
}

impl Contents {
    /// A short list for a message: "3 password hashes (Django md5) at users[].password, …".
    pub fn summary(&self) -> String {
        let mut groups: Vec<(String, SecretKind, usize)> = Vec::new();
        for s in &self.secrets {
            match groups.iter_mut().find(|(p, k, _)| *p == s.place && *k == s.kind) {
                Some((_, _, n)) => *n += 1,
                None => groups.push((s.place.clone(), s.kind, 1)),
            }
        }
        let parts: Vec<String> = groups
            .iter()
            .take(6)
            .map(|(place, kind, n)| {
                let what = kind.describe();
                if *n > 1 {
                    format!("{n} × {what} at {place}")
                } else {
                    format!("{what} at {place}")
                }
            })
            .collect();
        let mut text = parts.join(", ");
        if groups.len() > 6 {
            text.push_str(&format!(" and {} more", groups.len() - 6));
        }
        text
    }
}

/// Password hash formats: Django's `algorithm$…` encodings and the crypt(3) family.
static HASH_FORMATS: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    [
        (
            "Django PBKDF2",
            r"^pbkdf2_sha(?:256|1)\$\d+\$[^$]+\$[A-Za-z0-9+/=]{20,}$",
        ),
        (
            "Argon2",
            r"^(?:argon2\$)?\$?argon2(?:id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[^$]+\$[A-Za-z0-9+/=]{16,}$",
        ),
        (
            "bcrypt",
            r"^(?:bcrypt(?:_sha256)?\$)?\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}$",
        ),
        ("Django scrypt", r"^scrypt\$\d+\$[^$]+\$\d+\$\d+\$[A-Za-z0-9+/=]{20,}$"),
        ("Django MD5", r"^md5\$[^$]*\$[0-9a-f]{32}$"),
        ("Django SHA1", r"^sha1\$[^$]*\$[0-9a-f]{40}$"),
        ("SHA-512 crypt", r"^\$6\$[^$]+\$[./A-Za-z0-9]{86}$"),
        ("SHA-256 crypt", r"^\$5\$[^$]+\$[./A-Za-z0-9]{43}$"),
        ("yescrypt", r"^\$y\$[./A-Za-z0-9]+\$[./A-Za-z0-9]+\$[./A-Za-z0-9]{43}$"),
        ("MD5 crypt", r"^\$1\$[^$]{1,8}\$[./A-Za-z0-9]{22}$"),
    ]
    .into_iter()
    .map(|(name, re)| (name, Regex::new(re).expect("valid hash regex")))
    .collect()
});

/// API keys with documented, unambiguous shapes (prefix and length).
static KEY_SHAPES: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    [
        ("AWS access", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
        ("Stripe secret", r"\b(?:sk|rk)_live_[0-9A-Za-z]{16,}\b"),
        ("GitHub token", r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b"),
        ("GitHub fine-grained token", r"\bgithub_pat_[A-Za-z0-9_]{60,}\b"),
        ("GitLab token", r"\bglpat-[A-Za-z0-9_-]{20}\b"),
        ("Slack token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"),
        ("Google API", r"\bAIza[0-9A-Za-z_-]{35}\b"),
        ("SendGrid API", r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b"),
        ("OpenAI API", r"\bsk-(?:proj-)?[A-Za-z0-9_-]{32,}\b"),
    ]
    .into_iter()
    .map(|(name, re)| (name, Regex::new(re).expect("valid key regex")))
    .collect()
});

static PRIVATE_KEY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----").expect("valid PEM regex"));

/// `scheme://user:password@host`: a URL carrying its password.
static URL_WITH_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b[a-z][a-z0-9+.-]{1,20}://[^\s:/@]+:([^\s:/@]{3,})@[A-Za-z0-9.-]+").expect("valid URL regex")
});

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]+\.[A-Za-z]{2,24}\b").expect("valid email regex")
});

/// `NAME=value` lines of an environment or dotenv dump.
static ENV_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]{1,64})\s*=\s*["']?([^"'\r\n]*)"#)
        .expect("valid env regex")
});

/// Lowercase field names whose value is a password or a secret, whatever it looks like.
const SECRET_FIELD_NAMES: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "password_hash",
    "passwordhash",
    "hashed_password",
    "secret",
    "client_secret",
    "secret_key",
    "private_key",
    "api_secret",
    "aws_secret_access_key",
    "db_password",
    "database_password",
];

/// Words that, in an upper-case setting or variable name, mark it secret
/// (`SECRET_KEY`, `DB_PASSWORD`, `GITHUB_TOKEN`, `STRIPE_API_KEY`).
const SECRET_NAME_WORDS: &[&str] = &[
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "TOKEN",
    "PRIVATE_KEY",
    "API_KEY",
    "ACCESS_KEY",
];

/// Whether a field or variable name says its value is a secret.
fn secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if SECRET_FIELD_NAMES.contains(&lower.as_str()) {
        return true;
    }
    let upper_case = name.chars().any(|c| c.is_ascii_uppercase()) && !name.chars().any(|c| c.is_ascii_lowercase());
    upper_case && SECRET_NAME_WORDS.iter().any(|w| name.contains(w))
}

/// Values that stand in for a secret rather than being one: masks, placeholders, empties.
fn masked(value: &str) -> bool {
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    v.len() < 6
        || v.chars().all(|c| matches!(c, '*' | 'x' | 'X' | '•' | '.' | '-' | '#'))
        || lower.contains("redacted")
        || lower.contains("****")
        || lower.contains("hidden")
        || lower.contains("masked")
        // Django's unusable-password marker (`set_unusable_password()`): no secret in it.
        || v.starts_with('!')
        || lower.starts_with("<")
        || lower.starts_with("${")
        || lower.starts_with("{{")
}

/// What an answer carries. JSON bodies are walked field by field; plain-text bodies (a
/// dotenv file, a Git config, a dump) are read line by line. HTML pages are left to the
/// checks that read pages (DJ001 reads Django's debug pages).
pub fn contents_of(resp: &ProbeResponse) -> Contents {
    let mut contents = Contents::default();
    if let Some(json) = resp.json() {
        walk(&json, "", &mut contents, 0);
    } else if !resp.is_html() && !resp.body.is_empty() && std::str::from_utf8(&resp.body).is_ok() {
        read_text(&resp.text(), &mut contents);
    } else {
        return contents;
    }
    let text = resp.text();
    for m in EMAIL.find_iter(&text) {
        // `user:password@host` inside a URL is not an address.
        let in_url = text[..m.start()].ends_with([':', '/']);
        if !in_url {
            contents.emails.insert(m.as_str().to_ascii_lowercase());
        }
    }
    contents
}

/// What an answer carries for this scan ([`contents_of`]), and the plaintext password of
/// any of the scan's own accounts (`--user`) wherever the answer holds it as a value.
pub fn contents_for_scan(cx: &ScanContext, resp: &ProbeResponse) -> Contents {
    let passwords: Vec<&str> = cx.credentials.iter().map(|c| c.password.as_str()).collect();
    let names: Vec<&str> = cx.credentials.iter().map(|c| c.username.as_str()).collect();
    contents_with_passwords(resp, &passwords, &names)
}

/// [`contents_of`], plus every value that is exactly one of `passwords` (the scan's own
/// accounts'): a password the scan logged in with, served back in an answer, is proof by
/// itself, whatever its length (the length floor of [`masked`] guards against placeholders,
/// not against a known password) — under a secret-like name or in a record naming one of
/// the accounts; a long one anywhere. A password that is also one of `names` (an account
/// whose password is its username) proves nothing by appearing and is left out.
pub fn contents_with_passwords(resp: &ProbeResponse, passwords: &[&str], names: &[&str]) -> Contents {
    let mut contents = contents_of(resp);
    let known: Vec<&str> = passwords
        .iter()
        .copied()
        .filter(|p| !p.is_empty() && !names.iter().any(|n| n.eq_ignore_ascii_case(p)))
        .collect();
    if known.is_empty() {
        return contents;
    }
    let mut found = Vec::new();
    if let Some(json) = resp.json() {
        find_passwords(&json, "", &known, names, &mut found, 0);
    } else if !resp.is_html() {
        for c in ENV_LINE.captures_iter(&resp.text()) {
            let value = c[2].trim().trim_matches(['"', '\'']);
            if known.contains(&value) && (value.len() >= SELF_EVIDENT_PASSWORD_LEN || secret_name(&c[1])) {
                found.push((c[1].to_string(), value.to_string()));
            }
        }
    }
    for (place, value) in found {
        // The same value already judged by its name is the same secret, now proven.
        contents.secrets.retain(|s| !(s.place == place && s.value == value));
        contents.secrets.push(FoundSecret {
            place,
            kind: SecretKind::AccountPassword,
            value,
        });
    }
    contents
}

/// Passwords this long are proof wherever they appear; shorter ones (`1234`, `test`) could
/// be any value, so they count under a secret-like name or in the account's own record.
const SELF_EVIDENT_PASSWORD_LEN: usize = 8;

fn find_passwords(
    value: &Value,
    place: &str,
    known: &[&str],
    names: &[&str],
    out: &mut Vec<(String, String)>,
    depth: usize,
) {
    if depth > 12 || out.len() > 50 {
        return;
    }
    match value {
        Value::Object(map) => {
            let names_an_account = map
                .values()
                .filter_map(Value::as_str)
                .any(|v| names.iter().any(|n| n.eq_ignore_ascii_case(v)));
            for (key, v) in map {
                let here = field_place(place, key);
                match v {
                    Value::String(s) if known.contains(&s.as_str()) => {
                        if s.len() >= SELF_EVIDENT_PASSWORD_LEN || secret_name(key) || names_an_account {
                            out.push((here, s.clone()));
                        }
                    }
                    _ => find_passwords(v, &here, known, names, out, depth + 1),
                }
            }
        }
        Value::Array(items) => {
            let here = format!("{place}[]");
            for v in items {
                match v {
                    Value::String(s) if known.contains(&s.as_str()) && s.len() >= SELF_EVIDENT_PASSWORD_LEN => {
                        out.push((here.clone(), s.clone()))
                    }
                    _ => find_passwords(v, &here, known, names, out, depth + 1),
                }
            }
        }
        _ => {}
    }
}

/// The secrets of the records in `json` that belong to someone else: objects holding one
/// of `theirs` (another account's username or email) as a value and none of `mine`, with
/// the secrets they carry (a user listing's `password` hash, a profile's API key). Places
/// are JSON paths like those of [`contents_of`] (`results[].password`).
pub fn secrets_of_records(json: &Value, theirs: &[String], mine: &[String]) -> Vec<FoundSecret> {
    let mut out = Contents::default();
    collect_records(json, "", theirs, mine, &mut out, 0);
    out.secrets
}

fn collect_records(value: &Value, place: &str, theirs: &[String], mine: &[String], out: &mut Contents, depth: usize) {
    if depth > 12 {
        return;
    }
    let names = |map: &serde_json::Map<String, Value>, who: &[String]| {
        map.values()
            .filter_map(Value::as_str)
            .any(|v| who.iter().any(|w| w.eq_ignore_ascii_case(v)))
    };
    match value {
        Value::Object(map) if names(map, theirs) && !names(map, mine) => walk(value, place, out, depth),
        Value::Object(map) => {
            for (key, v) in map {
                collect_records(v, &field_place(place, key), theirs, mine, out, depth + 1);
            }
        }
        Value::Array(items) => {
            let here = format!("{place}[]");
            items
                .iter()
                .for_each(|v| collect_records(v, &here, theirs, mine, out, depth + 1));
        }
        _ => {}
    }
}

/// The JSON path of field `key` of the object at `place` (`users[].password`).
fn field_place(place: &str, key: &str) -> String {
    if place.is_empty() {
        key.to_string()
    } else {
        format!("{place}.{key}")
    }
}

fn walk(value: &Value, place: &str, out: &mut Contents, depth: usize) {
    if depth > 12 || out.secrets.len() > 200 {
        return;
    }
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                let here = field_place(place, key);
                if let Value::String(s) = v {
                    judge_value(key, s, &here, out);
                } else {
                    walk(v, &here, out, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            let here = format!("{place}[]");
            for v in items {
                if let Value::String(s) = v {
                    judge_value("", s, &here, out);
                } else {
                    walk(v, &here, out, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// Judges one string value under `name`, found at `place`.
fn judge_value(name: &str, value: &str, place: &str, out: &mut Contents) {
    if let Some(kind) = shape_of(value) {
        out.secrets.push(FoundSecret {
            place: place.to_string(),
            kind,
            value: secret_part(kind, value),
        });
    } else if secret_name(name) && !masked(value) {
        out.secrets.push(FoundSecret {
            place: place.to_string(),
            kind: SecretKind::NamedSecret,
            value: value.to_string(),
        });
    }
}

/// What a value is by its shape alone.
fn shape_of(value: &str) -> Option<SecretKind> {
    let v = value.trim();
    if let Some((format, _)) = HASH_FORMATS.iter().find(|(_, re)| re.is_match(v)) {
        return Some(SecretKind::PasswordHash(format));
    }
    if PRIVATE_KEY.is_match(v) {
        return Some(SecretKind::PrivateKey);
    }
    if let Some((provider, _)) = KEY_SHAPES.iter().find(|(_, re)| re.is_match(v)) {
        return Some(SecretKind::ApiKey(provider));
    }
    URL_WITH_PASSWORD
        .captures(v)
        .filter(|c| !masked(&c[1]))
        .map(|_| SecretKind::ConnectionString)
}

/// The part of a value to redact: the password of a connection string, else the whole.
fn secret_part(kind: SecretKind, value: &str) -> String {
    match kind {
        SecretKind::ConnectionString => URL_WITH_PASSWORD
            .captures(value)
            .map(|c| c[1].to_string())
            .unwrap_or_else(|| value.to_string()),
        _ => value.trim().to_string(),
    }
}

/// A text dump: `NAME=value` lines judged by name and shape, then shapes anywhere.
fn read_text(text: &str, out: &mut Contents) {
    for c in ENV_LINE.captures_iter(text) {
        judge_value(&c[1], c[2].trim(), &c[1], out);
    }
    if PRIVATE_KEY.is_match(text) && !out.secrets.iter().any(|s| s.kind == SecretKind::PrivateKey) {
        let start = PRIVATE_KEY.find(text).map(|m| m.start()).unwrap_or(0);
        let block: String = text[start..].lines().take(40).collect::<Vec<_>>().join("\n");
        out.secrets.push(FoundSecret {
            place: "the body".to_string(),
            kind: SecretKind::PrivateKey,
            value: block,
        });
    }
    for c in URL_WITH_PASSWORD.captures_iter(text) {
        if !masked(&c[1]) && !out.secrets.iter().any(|s| s.value == c[1]) {
            out.secrets.push(FoundSecret {
                place: "a URL in the body".to_string(),
                kind: SecretKind::ConnectionString,
                value: c[1].to_string(),
            });
        }
    }
    for (provider, re) in KEY_SHAPES.iter() {
        for m in re.find_iter(text) {
            if !out.secrets.iter().any(|s| s.value == m.as_str()) {
                out.secrets.push(FoundSecret {
                    place: "the body".to_string(),
                    kind: SecretKind::ApiKey(provider),
                    value: m.as_str().to_string(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use authprobe_core::ExchangeId;

    fn answer(content_type: &str, body: &str) -> ProbeResponse {
        let mut resp = ProbeResponse {
            exchange: ExchangeId(0),
            url: url::Url::parse("http://t/debug").unwrap(),
            status: 200,
            headers: Default::default(),
            body: body.to_string().into(),
            body_truncated: false,
            elapsed: std::time::Duration::ZERO,
        };
        resp.headers.insert("content-type", content_type.parse().unwrap());
        resp
    }

    fn kinds(c: &Contents) -> Vec<SecretKind> {
        c.secrets.iter().map(|s| s.kind).collect()
    }

    #[test]
    fn a_debug_dump_names_every_secret_it_carries() {
        let body = serde_json::json!({
            "debug": true,
            "environment": {
                "DATABASE_URL": "postgres://app:s3cr3t-pass@db.internal:5432/app",
                "AWS_ACCESS_KEY_ID": "AKIAABCDEFGHIJKLMNOP",
                "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "LOG_LEVEL": "debug",
            },
            "users": [
                {"id": 1, "username": "alice", "email": "alice@example.com", "password": "md5$abc$0123456789abcdef0123456789abcdef"},
                {"id": 2, "username": "bob", "email": "bob@example.com", "password": "pbkdf2_sha256$870000$salt$bm90IGEgcmVhbCBoYXNoIGJ1dCBsb25n"},
            ],
        })
        .to_string();
        let c = contents_of(&answer("application/json", &body));
        let k = kinds(&c);
        assert!(k.contains(&SecretKind::ConnectionString), "{k:?}");
        assert!(k.contains(&SecretKind::ApiKey("AWS access")), "{k:?}");
        assert!(k.contains(&SecretKind::NamedSecret), "{k:?}");
        assert!(k.contains(&SecretKind::PasswordHash("Django MD5")), "{k:?}");
        assert!(k.contains(&SecretKind::PasswordHash("Django PBKDF2")), "{k:?}");
        assert_eq!(c.secrets.len(), 5, "{:?}", c.secrets);
        assert_eq!(c.emails.len(), 2);
        let db = c
            .secrets
            .iter()
            .find(|s| s.kind == SecretKind::ConnectionString)
            .unwrap();
        assert_eq!(db.value, "s3cr3t-pass", "only the password is the secret");
        assert_eq!(db.place, "environment.DATABASE_URL");
        let summary = c.summary();
        assert!(summary.contains("users[].password"), "{summary}");
    }

    #[test]
    fn a_dotenv_file_and_a_git_config_are_read_as_text() {
        let env = "DEBUG=1\nSECRET_KEY='django-insecure-abcdefghijklmnop'\nDB_PASSWORD=hunter22\nPORT=8000\n";
        let c = contents_of(&answer("text/plain", env));
        assert_eq!(c.secrets.len(), 2, "{:?}", c.secrets);
        let git = "[remote \"origin\"]\n\turl = https://deploy:glpat-abcdefghijklmnopqrst@gitlab.example.com/app.git\n";
        let c = contents_of(&answer("application/octet-stream", git));
        assert!(kinds(&c).contains(&SecretKind::ConnectionString), "{:?}", c.secrets);
    }

    #[test]
    fn ordinary_answers_carry_nothing() {
        for body in [
            r#"{"id": 1, "username": "alice", "email": "alice@example.com"}"#,
            r#"{"password": "********", "SECRET_KEY": "[redacted]", "API_TOKEN": "<set me>"}"#,
            r#"{"detail": "Authentication credentials were not provided."}"#,
            r#"{"components": {"schemas": {"Login": {"properties": {"password": {"type": "string"}}}}}}"#,
            r#"{"results": [{"id": 3, "title": "hello", "url": "http://127.0.0.1:8000/api/notes/3/"}]}"#,
            r#"{"status": "ok", "hash": "5d41402abc4b2a76b9719d911017c592"}"#,
        ] {
            let c = contents_of(&answer("application/json", body));
            assert!(c.secrets.is_empty(), "{body}: {:?}", c.secrets);
        }
        let page = "<html><body>SECRET_KEY = 'abcdefghijklmnopqrstuvwxyz'</body></html>";
        assert!(contents_of(&answer("text/html", page)).secrets.is_empty());
    }

    #[test]
    fn only_another_accounts_records_count_as_theirs() {
        let hash = "pbkdf2_sha256$870000$salt$bm90IGEgcmVhbCBoYXNoIGJ1dCBsb25n";
        let listing = serde_json::json!({"count": 3, "results": [
            {"username": "alice", "password": hash},
            {"username": "bob", "email": "bob@example.com", "password": hash, "api_key": "sk_live_0123456789abcdefABCD"},
            {"username": "carol", "password": "!unusable"},
        ]});
        let (bob, alice) = (["bob".to_string()], ["alice".to_string()]);
        let found = secrets_of_records(&listing, &bob, &alice);
        let places: Vec<(&str, SecretKind)> = found.iter().map(|s| (s.place.as_str(), s.kind)).collect();
        assert_eq!(
            places,
            [
                ("results[].api_key", SecretKind::ApiKey("Stripe secret")),
                ("results[].password", SecretKind::PasswordHash("Django PBKDF2"))
            ]
        );
        // A record naming both accounts is not someone else's alone.
        let shared = serde_json::json!({"from": "alice", "to": "bob", "password": hash});
        assert!(secrets_of_records(&shared, &bob, &alice).is_empty());
        let without_secrets = serde_json::json!([{"username": "bob", "email": "bob@example.com"}]);
        assert!(secrets_of_records(&without_secrets, &bob, &alice).is_empty());
    }

    #[test]
    fn the_scans_own_short_password_is_found_whatever_its_length_and_name() {
        let body = r#"{"users": [{"username": "alice", "password": "pw-1", "nickname": "ally"}, {"username": "bob", "secret": "pw-2"}]}"#;
        let plain = contents_of(&answer("application/json", body));
        assert!(
            plain.secrets.is_empty(),
            "4 characters look like a placeholder: {:?}",
            plain.secrets
        );
        let c = contents_with_passwords(&answer("application/json", body), &["pw-1", "pw-2"], &["alice", "bob"]);
        let places: Vec<(&str, SecretKind)> = c.secrets.iter().map(|s| (s.place.as_str(), s.kind)).collect();
        assert_eq!(
            places,
            [
                ("users[].password", SecretKind::AccountPassword),
                ("users[].secret", SecretKind::AccountPassword)
            ]
        );
        assert!(c
            .summary()
            .contains("the plaintext password of a scan account at users[].password"));
        // A password that is also a username proves nothing; other values are not passwords.
        let named = contents_with_passwords(
            &answer("application/json", r#"{"owner": "alice"}"#),
            &["alice"],
            &["alice"],
        );
        assert!(named.secrets.is_empty());
        let other = contents_with_passwords(
            &answer("application/json", r#"{"title": "pw-10"}"#),
            &["pw-1"],
            &["alice"],
        );
        assert!(other.secrets.is_empty());
        // A short password that is also an ordinary value elsewhere proves nothing there.
        let env = contents_with_passwords(
            &answer("application/json", r#"{"env": "test", "build": "1234"}"#),
            &["test", "1234"],
            &["alice"],
        );
        assert!(env.secrets.is_empty(), "{:?}", env.secrets);
        let long = contents_with_passwords(
            &answer("application/json", r#"{"note": "alice-pass-1"}"#),
            &["alice-pass-1"],
            &["alice"],
        );
        assert_eq!(long.secrets.len(), 1);
        // A dump of the seed's settings.
        let dump = contents_with_passwords(
            &answer("text/plain", "SEED_USER=alice\nSEED_PASSWORD='pw-1'\n"),
            &["pw-1"],
            &["alice"],
        );
        assert_eq!(dump.secrets.len(), 1, "{:?}", dump.secrets);
        assert_eq!(dump.secrets[0].kind, SecretKind::AccountPassword);
    }
}
