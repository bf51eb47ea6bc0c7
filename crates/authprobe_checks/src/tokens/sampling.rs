//! Token sampling shared by TOKEN001–TOKEN003: finds cheap token sources (cookies set on
//! anonymous GETs, token-like JSON fields of GET endpoints, the keys and session ids the
//! login flows issue, the identities' own tokens),
//! samples them within the request budget, and runs `authprobe_entropy` on each once per
//! scan. Only GET requests; tokens never leave this module unredacted.

use authprobe_core::Shared;
use std::collections::HashSet;
use std::sync::Arc;

use authprobe_core::auth::identity::Identity;
use authprobe_core::auth::vocab::{ACCOUNT_KEYS, CREDENTIAL_COOKIE_WORDS, CSRF_COOKIE, DEFAULT_SESSION_COOKIE};
use authprobe_core::exchange::ExchangeId;
use authprobe_core::probe::{Method, ProbeRequest, ProbeResponse};
use authprobe_core::{Confidence, ScanContext};
use authprobe_entropy::{Analysis, Options, Strength, Verdict};
use futures::StreamExt;
use url::Url;

/// Samples per issuing source in the `standard` and `safe` profiles, and in `thorough`.
pub const STANDARD_SAMPLES: usize = 48;
pub const THOROUGH_SAMPLES: usize = 400;
/// Requests left to the other checks whatever the token checks want (they need ~450; at
/// most a third of a small budget, e.g. the `safe` profile's 300).
pub const RESERVE: usize = 450;
/// Fewest samples an issuing source is analysed with.
pub const MIN_SAMPLES: usize = 20;
/// Sources sampled at most.
const MAX_SOURCES: usize = 6;

/// JSON fields whose string values are tokens (exact names, case-insensitive).
const TOKEN_FIELDS: &[&str] = &[
    "key",
    "token",
    "code",
    "api_key",
    "apikey",
    "access_key",
    "auth_token",
    "invite",
    "invite_code",
    "pairing_code",
    "reset_token",
    "reset_code",
    "otp",
    "secret",
    "session_key",
    DEFAULT_SESSION_COOKIE,
    "nonce",
    "csrf_token",
    CSRF_COOKIE,
    "jti",
];

/// Where tokens come from and how to get another one.
#[derive(Debug, Clone)]
enum Fetch {
    /// A cookie set by an anonymous GET.
    Cookie { url: Url, name: String },
    /// A string field of a JSON GET response, fetched as the identity with this index
    /// (`None`: anonymously).
    Field {
        url: Url,
        field: FieldPath,
        identity: Option<usize>,
    },
}

/// One token source and what its sample showed.
#[derive(Debug)]
pub struct Source {
    /// What the tokens are, e.g. "cookie `csrftoken` set by an anonymous GET /accounts/login/".
    pub label: String,
    /// The path the tokens come from.
    pub endpoint: String,
    /// Whether each request issues a new token (statistics apply) or the token belongs to
    /// the identity (only derivation from the identity is checked).
    pub issued: bool,
    pub tokens: Vec<String>,
    /// The first and the last sampling exchanges.
    pub evidence: Vec<ExchangeId>,
    pub analysis: Option<Analysis>,
    /// Identity-derivation verdicts of per-identity sources.
    pub identity: Vec<Verdict>,
    /// The structure whose predicted next token the server then issued, and that exchange.
    pub prediction_hit: Option<(String, ExchangeId)>,
    /// A prediction was made and checked against one more token, which did not match.
    pub prediction_missed: bool,
}

impl Source {
    /// "48 tokens from cookie `csrftoken` …", for messages and skip reasons.
    pub fn describe(&self) -> String {
        format!("{} token(s) from {}", self.tokens.len(), self.label)
    }

    /// The sample's entropy figures in one sentence.
    pub fn figures(&self) -> String {
        match &self.analysis {
            Some(a) => format!(
                "Sample: {} tokens (reliability {}), {} alphabet, length {}{}; alphabet × length bound {:.1} bits, effective entropy ≈ {:.1} bits at significance {}.",
                a.analysed,
                a.reliability.as_str(),
                a.alphabet.name,
                a.min_len,
                if a.max_len > a.min_len { format!("-{}", a.max_len) } else { String::new() },
                a.bound_bits,
                a.effective_bits,
                a.significance
            ),
            None => format!("Sample: {} token(s).", self.tokens.len()),
        }
    }
}

/// Every source the scan sampled, and why some could not be.
#[derive(Debug, Default)]
pub struct Sampling {
    pub sources: Vec<Source>,
    /// Samples per issuing source the budget allowed.
    pub per_source: usize,
    pub notes: Vec<String>,
}

impl Sampling {
    pub fn issued(&self) -> impl Iterator<Item = &Source> {
        self.sources.iter().filter(|s| s.issued && s.analysis.is_some())
    }

    /// The reason a statistics check cannot run, or `None` when an issuing source was analysed.
    pub fn statistics_skip_reason(&self) -> Option<String> {
        if self.issued().next().is_some() {
            return None;
        }
        let found: Vec<String> = self.sources.iter().map(Source::describe).collect();
        let mut reason = if found.is_empty() {
            "no token source found: no cookie set by an anonymous GET and no token-like JSON field (key, token, code, …) on a GET endpoint".to_string()
        } else {
            format!(
                "no source issues a new token per request with at least {MIN_SAMPLES} samples (found: {})",
                found.join("; ")
            )
        };
        for note in &self.notes {
            reason.push_str("; ");
            reason.push_str(note);
        }
        Some(reason)
    }
}

/// Maps the strength of an offline verdict to a finding's confidence.
pub fn confidence(strength: Strength) -> Confidence {
    match strength {
        Strength::Conclusive => Confidence::Confirmed,
        Strength::Strong => Confidence::Firm,
        Strength::Weak => Confidence::Tentative,
    }
}

/// The scan's sampling, done once by whichever token check asks first.
pub async fn sampling(cx: &ScanContext) -> Arc<Sampling> {
    cx.shared(Shared::TokenSamples, || sample_all(cx)).await
}

/// Identity values tokens could be derived from: usernames, and the id and email the
/// identity endpoint returned.
fn identity_hints(cx: &ScanContext) -> Vec<String> {
    let mut hints: Vec<String> = Vec::new();
    let mut push = |v: String| {
        if !v.is_empty() && !hints.contains(&v) {
            hints.push(v);
        }
    };
    for identity in &cx.identities {
        if let Some(u) = &identity.username {
            push(u.clone());
        }
    }
    if let Some(url) = &cx.identity_endpoint {
        if let Some(json) = cx
            .inventory
            .get(url)
            .and_then(|e| e.authenticated.as_ref())
            .and_then(|r| r.json())
        {
            for field in ["id", "pk", "user_id", "uuid"].iter().chain(ACCOUNT_KEYS) {
                match json.get(field) {
                    Some(serde_json::Value::String(s)) => push(s.clone()),
                    Some(serde_json::Value::Number(n)) => push(n.to_string()),
                    _ => {}
                }
            }
        }
    }
    hints
}

fn looks_like_token(value: &str) -> bool {
    value.len() >= 4
        && value.len() <= 512
        && !value.starts_with('/')
        && !value.contains("://")
        && !value.chars().any(char::is_whitespace)
        && !authprobe_jwt::Jwt::looks_like(value)
}

/// How deep inside nested objects token fields are looked for: `{"data": {"attributes":
/// {"code": …}}}` (JSON:API) is two levels down. Arrays are not entered (a listing's first
/// item is not a token source of its own).
const MAX_FIELD_DEPTH: usize = 3;

/// The path of a JSON field from the body's root: `["data", "code"]` for
/// `{"data": {"code": …}}`.
type FieldPath = Vec<String>;

/// The field's path as reports show it: `code`, `data.code`.
fn field_name(path: &[String]) -> String {
    path.join(".")
}

/// The string value at `path` in `json`.
fn field_value<'a>(json: &'a serde_json::Value, path: &[String]) -> Option<&'a str> {
    path.iter().try_fold(json, |v, key| v.get(key))?.as_str()
}

/// The token-like string fields of a JSON answer, shallowest first: top-level fields, then
/// those inside envelopes and nested objects (`data`, `result`, `{"data": {"attributes":
/// …}}`), at most [`MAX_FIELD_DEPTH`] objects down.
fn token_fields(resp: &ProbeResponse) -> Vec<FieldPath> {
    let Some(json) = resp.json() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut level: Vec<(FieldPath, &serde_json::Value)> = vec![(Vec::new(), &json)];
    for depth in 0..=MAX_FIELD_DEPTH {
        let mut next = Vec::new();
        for (path, value) in level {
            let Some(map) = value.as_object() else { continue };
            for (k, v) in map {
                let mut here = path.clone();
                here.push(k.clone());
                if TOKEN_FIELDS.iter().any(|f| f.eq_ignore_ascii_case(k)) && v.as_str().is_some_and(looks_like_token) {
                    out.push(here);
                } else if v.is_object() && depth < MAX_FIELD_DEPTH {
                    next.push((here, v));
                }
            }
        }
        level = next;
    }
    out
}

fn has_header(headers: &[(String, String)], name: &str) -> bool {
    headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name))
}

/// A source worth sampling: how to fetch, its label, and the first token with its exchange.
type Candidate = (Fetch, String, Option<(String, ExchangeId)>);

/// Sources worth sampling, each with a first token and its exchange when known.
fn candidates(cx: &ScanContext) -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for e in &cx.inventory.endpoints {
        // The anonymous answer first: a field anyone can read is an anonymous source,
        // sampled (and labelled) as such even when the identity's answer carries it too.
        let views = [(e.anonymous_ok(), None), (e.authenticated.as_ref(), Some(0usize))];
        for (resp, identity) in views {
            let Some(resp) = resp.filter(|r| r.is_success()) else {
                continue;
            };
            let Some(json) = resp.json() else { continue };
            for field in token_fields(resp) {
                let name = field_name(&field);
                if !seen.insert(format!("field {} {name}", e.url)) {
                    continue;
                }
                let value = field_value(&json, &field).map(str::to_string);
                let who = if identity.is_some() {
                    "an authenticated"
                } else {
                    "an anonymous"
                };
                out.push((
                    Fetch::Field {
                        url: e.url.clone(),
                        field,
                        identity,
                    },
                    format!("JSON field `{name}` of {who} GET {}", e.url.path()),
                    value.map(|v| (v, resp.exchange)),
                ));
            }
        }
    }
    for (cookie, id) in cx.probe.set_cookies() {
        let Some(x) = cx.probe.exchange(id) else { continue };
        if x.request.method != "GET"
            || has_header(&x.request.headers, "cookie")
            || has_header(&x.request.headers, "authorization")
            || cookie.value.len() < 4
            || client_side_data(&cookie.value)
            || !CREDENTIAL_COOKIE_WORDS
                .iter()
                .any(|n| cookie.name.to_ascii_lowercase().contains(n))
        {
            continue;
        }
        if !seen.insert(format!("cookie {}", cookie.name)) {
            continue;
        }
        let Ok(url) = Url::parse(&x.request.url) else { continue };
        let label = format!("cookie `{}` set by an anonymous GET {}", cookie.name, url.path());
        out.push((
            Fetch::Cookie {
                url,
                name: cookie.name.clone(),
            },
            label,
            Some((cookie.value.clone(), id)),
        ));
    }
    // Top-level fields and cookies before fields inside envelopes (stable: the inventory's
    // order otherwise), then the most the scan samples.
    out.sort_by_key(|(how, _, _)| match how {
        Fetch::Field { field, .. } => field.len(),
        Fetch::Cookie { .. } => 1,
    });
    out.truncate(MAX_SOURCES);
    out
}

/// One more token from a source, with the exchange and the response `Date`.
async fn fetch(
    cx: &ScanContext,
    how: &Fetch,
    as_identity: Option<&Identity>,
) -> Option<(String, ExchangeId, Option<i64>)> {
    match how {
        Fetch::Cookie { url, name } => {
            let resp = cx.probe.send(ProbeRequest::get(url.clone())).await.ok()?;
            let value = resp
                .set_cookies()
                .into_iter()
                .find(|c| &c.name == name && !c.deletes)?
                .value;
            Some((value, resp.exchange, date(&resp)))
        }
        Fetch::Field { url, field, .. } => {
            let req = ProbeRequest::method(Method::Get, url.clone());
            let req = match as_identity {
                Some(identity) => identity.authorize(req),
                None => req,
            };
            let resp = cx.probe.send(req).await.ok()?;
            if !resp.is_success() {
                return None;
            }
            let value = field_value(&resp.json()?, field)?.to_string();
            Some((value, resp.exchange, date(&resp)))
        }
    }
}

/// The response `Date` (IMF-fixdate, e.g. `Mon, 23 Nov 2026 13:42:22 GMT`) as Unix time.
fn date(resp: &ProbeResponse) -> Option<i64> {
    http_date(resp.header("date")?)
}

fn http_date(raw: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let parts: Vec<&str> = raw.split_whitespace().collect();
    let [_, day, month, year, clock, "GMT"] = parts.as_slice() else {
        return None;
    };
    let month = MONTHS.iter().position(|m| m == month)? as u8 + 1;
    let date = time::Date::from_calendar_date(
        year.parse().ok()?,
        time::Month::try_from(month).ok()?,
        day.parse().ok()?,
    )
    .ok()?;
    let mut hms = clock.split(':').map(|p| p.parse::<u8>().ok());
    let t = time::Time::from_hms(hms.next()??, hms.next()??, hms.next()??).ok()?;
    Some(time::PrimitiveDateTime::new(date, t).assume_utc().unix_timestamp())
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

async fn sample_all(cx: &ScanContext) -> Sampling {
    let mut sampling = Sampling::default();
    let hints = identity_hints(cx);
    let target = if cx.config.profile == "thorough" {
        THOROUGH_SAMPLES
    } else {
        STANDARD_SAMPLES
    };
    let found = candidates(cx);
    let reserve = RESERVE.min(cx.probe.settings().max_requests / 3);
    let available = cx.probe.remaining_budget().saturating_sub(reserve);
    sampling.per_source = target.min(available / found.len().max(1));
    if sampling.per_source < target {
        sampling.notes.push(format!(
            "the request budget allowed {} samples per source ({} requests left, {reserve} kept for the other checks)",
            sampling.per_source,
            cx.probe.remaining_budget()
        ));
    }

    // Sources are independent: they are sampled side by side, each one's tokens in the
    // order the target issued them (a counter shows only in an unbroken run). The outcomes
    // come back in the sources' order, as one at a time would give them. A source's
    // samples are the scan's longest chain of requests: they go first.
    let per_source = sampling.per_source;
    let sampled: Vec<Sampled> = futures::stream::iter(found)
        .map(|(how, label, first)| cx.chain(sample_source(cx, how, label, first, per_source, &hints)))
        .buffered(cx.fan_out())
        .collect()
        .await;
    for outcome in sampled {
        match outcome {
            Sampled::Unreachable => {}
            Sampled::Source(source) => sampling.sources.push(*source),
            Sampled::TooFew(source) => {
                sampling.notes.push(format!(
                    "{} (fewer than {MIN_SAMPLES}: not analysed)",
                    source.describe()
                ));
                sampling.sources.push(*source);
            }
        }
    }

    // What the login flows issue: the key or session id of fresh logins of the primary
    // account, sampled like any issuing source (a login is a flow, not a guess).
    if let Some(source) = login_source(cx, &hints).await {
        sampling.sources.push(source);
    }

    // The identities' own credentials: the keys and session ids their logins issued, JWT
    // ids (no request needed), checked against the identities and their login times.
    let mut held: Vec<(String, Vec<String>)> = Vec::new();
    let mut login_time: Option<i64> = None;
    for identity in &cx.identities {
        login_time = login_time.or_else(|| issued_at(cx, identity));
        let mut add = |what: &str, v: String| match held.iter_mut().find(|(w, _)| w == what) {
            Some((_, vs)) => vs.push(v),
            None => held.push((what.to_string(), vec![v])),
        };
        if let Some(t) = identity.token().filter(|t| !authprobe_jwt::Jwt::looks_like(t)) {
            let how = identity.presentation().map(|p| p.describe()).unwrap_or_default();
            add(
                &format!("the keys the identities' logins issued ({how})"),
                t.to_string(),
            );
        }
        for jwt in [&identity.access_jwt, &identity.refresh_jwt].into_iter().flatten() {
            if let Some(jti) = authprobe_jwt::Jwt::parse(jwt).ok().and_then(|j| j.string_claim("jti")) {
                add("the `jti` claims of the identities' JWTs", jti);
            }
        }
        if let Some(jar) = &identity.session {
            for name in jar.names() {
                // Signed client-side session data is content, not an id.
                if let Some(v) = jar.get(&name).filter(|v| v.len() >= 8 && !client_side_data(v)) {
                    add(&format!("the identities' session cookie `{name}`"), v);
                }
            }
        }
    }
    for (label, tokens) in held {
        let strs: Vec<&str> = tokens.iter().map(String::as_str).collect();
        let identity = authprobe_entropy::identity::derived(&strs, &hints, login_time.or(Some(now())));
        sampling.sources.push(Source {
            label,
            endpoint: cx.target.url.path().to_string(),
            issued: false,
            tokens,
            evidence: cx.identities.iter().filter_map(|i| i.login_exchange).take(1).collect(),
            analysis: None,
            identity,
            prediction_hit: None,
            prediction_missed: false,
        });
    }
    sampling
}

/// Sampled tokens are secrets like any other: the report shows fingerprints only.
/// What sampling one source gave.
enum Sampled {
    /// No second token came: the source is left out.
    Unreachable,
    Source(Box<Source>),
    /// An issuing source with fewer than [`MIN_SAMPLES`] tokens: listed, not analysed.
    TooFew(Box<Source>),
}

/// Samples one source: a second token tells an issuing source from a per-identity one;
/// an issuing source is then sampled up to `per_source` tokens, one request after the other.
async fn sample_source(
    cx: &ScanContext,
    how: Fetch,
    label: String,
    first: Option<(String, ExchangeId)>,
    per_source: usize,
    hints: &[String],
) -> Sampled {
    let primary = match &how {
        Fetch::Field { identity: Some(i), .. } => cx.identities.get(*i),
        _ => None,
    };
    let endpoint = match &how {
        Fetch::Cookie { url, .. } | Fetch::Field { url, .. } => url.path().to_string(),
    };
    let mut tokens = Vec::new();
    let mut evidence = Vec::new();
    let mut reference = None;
    if let Some((value, id)) = first {
        tokens.push(value);
        evidence.push(id);
    }
    // A second token tells issuing sources from per-identity ones.
    let Some((second, id, d)) = fetch(cx, &how, primary).await else {
        return Sampled::Unreachable;
    };
    reference = d.or(reference);
    let issued = tokens.first().is_none_or(|t| *t != second);
    tokens.push(second);
    evidence.push(id);
    if !issued {
        // The identity's own token: one per identity, checked for derivation only.
        tokens.truncate(1);
        if matches!(how, Fetch::Field { identity: Some(_), .. }) {
            for other in cx.identities.iter().skip(1) {
                if let Some((v, id, _)) = fetch(cx, &how, Some(other)).await {
                    tokens.push(v);
                    evidence.push(id);
                }
            }
        }
        register(cx, &tokens);
        let strs: Vec<&str> = tokens.iter().map(String::as_str).collect();
        let identity = authprobe_entropy::identity::derived(&strs, hints, reference.or(Some(now())));
        return Sampled::Source(Box::new(Source {
            label,
            endpoint,
            issued: false,
            tokens,
            evidence: vec![evidence[0]],
            analysis: None,
            identity,
            prediction_hit: None,
            prediction_missed: false,
        }));
    }
    let mut last = id;
    while tokens.len() < per_source {
        match fetch(cx, &how, primary).await {
            Some((v, id, d)) => {
                tokens.push(v);
                last = id;
                reference = d.or(reference);
            }
            None => break,
        }
    }
    evidence = vec![evidence[0], last];
    register(cx, &tokens);
    let mut source = Source {
        label,
        endpoint,
        issued: true,
        tokens,
        evidence,
        analysis: None,
        identity: Vec::new(),
        prediction_hit: None,
        prediction_missed: false,
    };
    if source.tokens.len() < MIN_SAMPLES {
        return Sampled::TooFew(Box::new(source));
    }
    let options = Options {
        identities: hints.to_vec(),
        reference_time: reference.or(Some(now())),
        ..Options::default()
    };
    let analysis = authprobe_entropy::analyze(&source.tokens, &options).ok();
    // A structure that names the next tokens is put to the test: one more request.
    if let Some(p) = analysis
        .as_ref()
        .and_then(|a| a.predictions.iter().find(|p| !p.next.is_empty()))
    {
        if let Some((next, id, _)) = fetch(cx, &how, primary).await {
            cx.redactor.add_secret(&next);
            if p.next.contains(&next) {
                source.prediction_hit = Some((p.kind.to_string(), id));
            } else {
                source.prediction_missed = true;
            }
        }
    }
    source.analysis = analysis;
    Sampled::Source(Box::new(source))
}

/// Fresh logins of the primary account sampled per source: a few in the standard
/// profiles (enough for derivation from the identity and the login time, and to tell a
/// per-login key from a per-account one), [`MIN_SAMPLES`] in `thorough` (enough for the
/// statistics). Each is a successful login of the scan's own account; sampling stops at
/// the first refused one.
const LOGIN_SAMPLES: usize = 4;

/// The credential a login issued `identity`, as (what it is, value): an opaque key, or the
/// session cookie its jar holds. JWTs are left to the JWT checks, and signed client-side
/// session data ([`client_side_data`]) is not an id.
fn login_credential(cx: &ScanContext, identity: &Identity) -> Option<(String, String)> {
    if let Some(token) = identity.token() {
        if authprobe_jwt::Jwt::looks_like(token) || identity.access_jwt.is_some() {
            return None;
        }
        let how = identity.presentation().map(|p| p.describe()).unwrap_or_default();
        return Some((format!("the key ({how})"), token.to_string()));
    }
    let jar = identity.session.as_ref()?;
    let auth = cx.auth();
    jar.names()
        .into_iter()
        .filter(|n| auth.is_session_cookie(n))
        .find_map(|name| {
            let value = jar.get(&name).filter(|v| v.len() >= 4 && !client_side_data(v))?;
            Some((format!("the session cookie `{name}`"), value))
        })
}

/// When `identity` logged in: its login answer's `Date`, else now.
fn issued_at(cx: &ScanContext, identity: &Identity) -> Option<i64> {
    let exchange = cx.probe.exchange(identity.login_exchange?)?;
    let response = exchange.response?;
    let date = response
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("date"))
        .and_then(|(_, v)| http_date(v));
    date.or(Some(now()))
}

/// The keys or session ids the primary identity's login flow issues, from fresh logins of
/// its account: an issuing source when each login gets a new one (analysed with the
/// statistics once there are [`MIN_SAMPLES`], checked for derivation from the identity and
/// the login time in any case), or the account's own key when every login gets the same.
async fn login_source(cx: &ScanContext, hints: &[String]) -> Option<Source> {
    // The read-only profile sends no POST, logins included.
    if cx.probe.settings().read_only {
        return None;
    }
    let auth = cx.auth();
    let primary = auth.primary()?;
    let account = auth.primary_account()?;
    let login_url = primary.login_url.as_ref()?;
    let flow = auth.account_logins().find(|f| &f.url == login_url)?;
    let (what, first) = login_credential(cx, primary)?;
    let wanted = if cx.config.profile == "thorough" {
        MIN_SAMPLES
    } else {
        LOGIN_SAMPLES
    };
    let mut tokens = vec![first];
    let mut evidence: Vec<ExchangeId> = primary.login_exchange.into_iter().collect();
    let mut reference = issued_at(cx, primary);
    while tokens.len() < wanted.min(cx.probe.remaining_budget() / 4) {
        let Some(fresh) = auth.fresh_login(flow, account).await else {
            break;
        };
        let Some((_, value)) = login_credential(cx, &fresh) else {
            break;
        };
        reference = issued_at(cx, &fresh).or(reference);
        evidence.extend(fresh.login_exchange);
        tokens.push(value);
        // An API that keeps one key per account revokes the last one on each login: after
        // the first fresh login, the primary identity's own key is checked, and sampling
        // stops rather than cost the rest of the scan its identity.
        if tokens.len() == 2 && !still_signed_in(cx, primary).await {
            break;
        }
    }
    register(cx, &tokens);
    let issued = tokens.windows(2).any(|w| w[0] != w[1]);
    let label = format!(
        "{what} the login POST {} issued `{}` ({} logins)",
        flow.url.path(),
        account.username,
        tokens.len()
    );
    let evidence: Vec<ExchangeId> = [evidence.first(), evidence.last()]
        .into_iter()
        .flatten()
        .copied()
        .collect();
    let mut source = Source {
        label,
        endpoint: flow.url.path().to_string(),
        issued,
        tokens,
        evidence,
        analysis: None,
        identity: Vec::new(),
        prediction_hit: None,
        prediction_missed: false,
    };
    if issued && source.tokens.len() >= MIN_SAMPLES {
        let options = Options {
            identities: hints.to_vec(),
            reference_time: reference.or(Some(now())),
            ..Options::default()
        };
        source.analysis = authprobe_entropy::analyze(&source.tokens, &options).ok();
    } else {
        let strs: Vec<&str> = source.tokens.iter().map(String::as_str).collect();
        source.identity = authprobe_entropy::identity::derived(&strs, hints, reference.or(Some(now())));
        if issued {
            source.issued = false; // too few for the statistics: derivation only
        }
    }
    Some(source)
}

/// Whether `identity`'s credential still opens the identity endpoint (true when there is
/// none to ask).
async fn still_signed_in(cx: &ScanContext, identity: &Identity) -> bool {
    let Some(url) = &cx.identity_endpoint else { return true };
    match cx.probe.send(identity.authorize(ProbeRequest::get(url.clone()))).await {
        Ok(resp) => resp.is_success(),
        Err(_) => true,
    }
}

/// Whether a cookie value is signed client-side session data rather than a session id:
/// its first part decodes (base64, optionally after a `.` that marks compression) to a
/// JSON object, followed by a signature (itsdangerous/Flask and Starlette
/// `payload.timestamp.signature`, Django's signed cookies `payload:timestamp:signature`,
/// Rails' `data--digest`), or the whole value decodes to JSON (cookie-session, whose
/// signature is a cookie of its own). Such a value holds content (a flash message, a
/// cart) and is the same for the same content: no id to sample, decided by what the value
/// is, not by the cookie's name.
pub(crate) fn client_side_data(value: &str) -> bool {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    let value = value.trim_matches('"');
    let decodes_to_json = |part: &str| {
        [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|e| e.decode(part).ok())
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .is_some_and(|v| v.is_object() || v.is_array())
    };
    if decodes_to_json(value) {
        return true;
    }
    let (compressed, rest) = match value.strip_prefix('.') {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    for separator in ["--", ".", ":"] {
        let parts: Vec<&str> = rest.split(separator).collect();
        let signed = parts.len() >= 2 && parts[1..].iter().all(|p| p.len() >= 4);
        if !signed || parts[0].len() < 8 {
            continue;
        }
        let payload = parts[0];
        // A zlib-compressed payload (itsdangerous' leading `.`) starts with 0x78 once decoded.
        let zlib = compressed
            && [URL_SAFE_NO_PAD, URL_SAFE]
                .iter()
                .find_map(|e| e.decode(payload).ok())
                .is_some_and(|b| b.first() == Some(&0x78) && parts.len() >= 3);
        if zlib || decodes_to_json(payload) {
            return true;
        }
    }
    false
}

fn register(cx: &ScanContext, tokens: &[String]) {
    for t in tokens.iter().filter(|t| t.len() >= 6) {
        cx.redactor.add_secret(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_client_side_session_data_is_not_a_session_id() {
        // Flask (itsdangerous URLSafeTimedSerializer): {"_flashes": [...]}.
        let flask = "eyJfZmxhc2hlcyI6W3siIHQiOlsibWVzc2FnZSIsIlBsZWFzZSBsb2cgaW4gdG8gYWNjZXNzIHRoaXMgcGFnZS4iXX1dfQ.Z1Rz9g.kHc2qZ4XWm0wD5yX0Jb6z9c4uA0";
        assert!(client_side_data(flask));
        // Starlette SessionMiddleware: standard base64 JSON, then timestamp and signature.
        let starlette = "eyJfbWVzc2FnZXMiOiBbIlNpZ25lZCBvdXQuIl19.Z1Rz9g.Zm9vYmFyYmF6cXV4cXV1eHh4eA";
        assert!(client_side_data(starlette));
        // As Starlette 1.x sets it: padded standard base64, then `.timestamp.signature`.
        let padded = "eyJfbWVzc2FnZXMiOiBbeyJtZXNzYWdlIjogIlBsZWFzZSBzaWduIGluIHRvIHNlZSB5b3VyIG5vdGVzLiIsICJjYXRlZ29yeSI6ICJpbmZvIn1dfQ==.axctEA.HdkkAPLcaqQgs2jH1cKfS3_nP3Q";
        assert!(client_side_data(padded));
        // Flask, compressed: a leading dot, zlib data.
        assert!(client_side_data(
            ".eJyrVopPy0kszkgtVrKKrlZSKEstqlSyUkrNS87PLShKLS5OTVHSUSpILC4uzy9KAQoAs_sMFQ.Z1Rz9g.x9aYhB3qzQ1mK0w"
        ));
        // cookie-session: the JSON alone (its signature is the `session.sig` cookie).
        assert!(client_side_data("eyJ1c2VySWQiOjF9"));
        // Session ids: random, signed random (express-session), Django's, PHP's.
        assert!(!client_side_data(
            "s%3AbX2q9cZ1Lw8rT0yV4nJ6mK3pH5sD7fG.kLx0dP2mR9tZ4wQ6vB8nC1sA3fG5hJ7k"
        ));
        assert!(!client_side_data("k2v9x7q1m3n5b8c0z4l6j2h9g7f5d3s1"));
        assert!(!client_side_data("8d3f0c2ae1b94d7f9a6e5c4b3a291807"));
        assert!(!client_side_data("1234"));
    }

    #[test]
    fn http_dates_parse_to_unix_time() {
        assert_eq!(http_date("Mon, 23 Nov 2026 13:42:22 GMT"), Some(1_795_441_342));
        assert_eq!(http_date("yesterday"), None);
    }

    fn source(issued: bool, n: usize) -> Source {
        Source {
            label: "JSON field `key` of an authenticated GET /api/v1/keys/".into(),
            endpoint: "/api/v1/keys/".into(),
            issued,
            tokens: vec!["x".repeat(32); n],
            evidence: Vec::new(),
            analysis: None,
            identity: Vec::new(),
            prediction_hit: None,
            prediction_missed: false,
        }
    }

    #[test]
    fn skip_reasons_name_the_sources_and_their_sample_counts() {
        let none = Sampling::default();
        assert!(none
            .statistics_skip_reason()
            .unwrap()
            .starts_with("no token source found"));
        let only_static = Sampling {
            sources: vec![source(false, 2)],
            per_source: 48,
            notes: vec!["the request budget allowed 10 samples per source".into()],
        };
        let reason = only_static.statistics_skip_reason().unwrap();
        assert!(
            reason.contains("2 token(s) from JSON field `key` of an authenticated GET /api/v1/keys/")
                && reason.contains("budget allowed 10"),
            "{reason}"
        );
        assert_eq!(confidence(Strength::Conclusive), Confidence::Confirmed);
        assert_eq!(confidence(Strength::Weak), Confidence::Tentative);
    }

    fn fields(body: &str) -> Vec<String> {
        let resp = crate::ratelimit::test_response(200, body, false);
        token_fields(&resp).iter().map(|p| field_name(p)).collect()
    }

    #[test]
    fn token_fields_are_read_inside_envelopes_and_nested_objects_shallowest_first() {
        assert_eq!(fields(r#"{"code": "40000001", "name": "x"}"#), ["code"]);
        // Laravel API resources, a `result` envelope, JSON:API attributes.
        assert_eq!(fields(r#"{"data": {"code": "40000001", "team": 3}}"#), ["data.code"]);
        assert_eq!(
            fields(r#"{"ok": true, "result": {"invite": {"token": "aB3dE5fG7h"}}}"#),
            ["result.invite.token"]
        );
        assert_eq!(
            fields(r#"{"data": {"type": "invites", "attributes": {"code": "40000001"}}, "token": "zzzz9999"}"#),
            ["token", "data.attributes.code"]
        );
        // Bounded: three objects down at most; arrays are not entered.
        assert!(fields(r#"{"a": {"b": {"c": {"d": {"code": "40000001"}}}}}"#).is_empty());
        assert!(fields(r#"{"data": [{"code": "40000001"}]}"#).is_empty());
        assert!(
            fields(r#"{"data": {"code": "/api/x/"}}"#).is_empty(),
            "a path is not a token"
        );
        let json: serde_json::Value = serde_json::from_str(r#"{"data": {"code": "40000001"}}"#).unwrap();
        assert_eq!(field_value(&json, &["data".into(), "code".into()]), Some("40000001"));
        assert_eq!(field_value(&json, &["code".into()]), None);
    }

    #[test]
    fn urls_jwts_and_short_values_are_not_tokens() {
        assert!(looks_like_token("40000001"));
        assert!(!looks_like_token("/api/token/"));
        assert!(!looks_like_token("abc"));
        assert!(!looks_like_token("https://x.example/a"));
        assert!(!looks_like_token(
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl"
        ));
    }
}
