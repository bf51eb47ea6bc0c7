//! Password recovery as the target runs it, read from what it e-mails: the reset link in
//! the message, the set-password form the link opens, the form's submission, and the
//! lifetime the message states. PASS002 drives these; the words and shapes that say "this
//! is a reset link" live here, in the auth layer, not in the check.
//!
//! A link is *open* when following it (a fresh cookie jar, same-origin redirects) ends on
//! a page with a form that posts a password: Django's `PasswordResetConfirmView`, Rails'
//! and Laravel's reset pages all answer so, and an invalid or used token ends on a page
//! without one. That makes validity observable with GETs alone.

use std::sync::{Arc, LazyLock};

use regex::Regex;
use url::Url;

use super::Flows;
use crate::cookies::CookieJar;
use crate::exchange::ExchangeId;
use crate::html;
use crate::mailbox::Message;
use crate::probe::{Probe, ProbeError, ProbeRequest, ProbeResponse};

/// Same-origin redirects followed from a reset link to its form.
const MAX_HOPS: usize = 3;
/// The shortest piece of a link taken for its token (Django's is ~39 characters, Rails'
/// and Laravel's 20–64; `uidb64` segments and words are shorter).
const MIN_TOKEN_LEN: usize = 16;

/// The flow role a set-password form reached from a mailed link has in the report.
pub const CONFIRM_ROLE: &str = "password_reset_confirm";

/// A reset link read from an e-mail: the URL and the token-like piece in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetLink {
    pub url: Url,
    /// The longest token-like path segment or query value.
    pub token: String,
}

impl ResetLink {
    /// The host (and port, when not the scheme's default) the link points at.
    pub fn authority(&self) -> String {
        let host = self.url.host_str().unwrap_or_default();
        match self.url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        }
    }

    /// The same link with its token altered in its last characters (same length, same
    /// alphabet): what an invalid token looks like to the target.
    pub fn tampered(&self) -> ResetLink {
        let mut chars: Vec<char> = self.token.chars().collect();
        for c in chars.iter_mut().rev().take(4) {
            *c = match *c {
                '0'..='8' | 'a'..='y' | 'A'..='Y' => char::from(*c as u8 + 1),
                '9' => '0',
                'z' => 'a',
                'Z' => 'A',
                other => other,
            };
        }
        let token: String = chars.into_iter().collect();
        let url = Url::parse(&self.url.as_str().replacen(&self.token, &token, 1)).unwrap_or_else(|_| self.url.clone());
        ResetLink { url, token }
    }
}

/// The links of `message` that carry a token, best first (the longest token first).
pub fn reset_links(message: &Message) -> Vec<ResetLink> {
    let mut links: Vec<ResetLink> = message
        .links()
        .iter()
        .filter_map(|raw| {
            let url = Url::parse(raw).ok()?;
            let token = token_piece(&url)?;
            Some(ResetLink { url, token })
        })
        .collect();
    links.sort_by_key(|l| std::cmp::Reverse(l.token.len()));
    links
}

/// The longest token-like piece of `url`: a path segment or query value that is long and
/// not a word (it has a digit, or mixes cases, or is very long).
fn token_piece(url: &Url) -> Option<String> {
    crate::mailbox::message::link_pieces(url)
        .into_iter()
        .filter(|p| is_token_like(p))
        .max_by_key(|p| p.len())
}

/// `url`'s path with its token-like segments replaced by `{token}`: how a form reached
/// through a mailed link is named in reports.
pub fn templated_path(url: &Url) -> String {
    let segments: Vec<&str> = url
        .path()
        .split('/')
        .map(|s| if is_token_like(s) { "{token}" } else { s })
        .collect();
    segments.join("/")
}

fn is_token_like(piece: &str) -> bool {
    let has_digit = piece.chars().any(|c| c.is_ascii_digit());
    let mixed_case = piece.chars().any(|c| c.is_ascii_lowercase()) && piece.chars().any(|c| c.is_ascii_uppercase());
    piece.len() >= MIN_TOKEN_LEN
        && piece.chars().all(|c| c.is_ascii_alphanumeric() || "-_.~=%".contains(c))
        && (has_digit || mixed_case || piece.len() >= 32)
}

/// The field of a reset request's answer that carries a reset token itself: a
/// token-named value (`token`, `reset_token`, `resetKey`) or a link with a token in it.
/// Such an answer hands the reset to whoever asks for it.
pub fn token_in_answer(body: &serde_json::Value) -> Option<String> {
    let found = super::extract::from_body(body);
    found.opaque_key.or(found.access_key).or_else(|| link_field(body, 0))
}

/// The key of a string value (at any depth) that is a URL with a token in it.
fn link_field(value: &serde_json::Value, depth: usize) -> Option<String> {
    use serde_json::Value;
    if depth > 4 {
        return None;
    }
    match value {
        Value::Object(map) => map.iter().find_map(|(key, v)| match v {
            Value::String(s) => Url::parse(s)
                .ok()
                .filter(|u| u.scheme().starts_with("http") && token_piece(u).is_some())
                .map(|_| key.clone()),
            other => link_field(other, depth + 1),
        }),
        Value::Array(items) => items.iter().find_map(|v| link_field(v, depth + 1)),
        _ => None,
    }
}

/// What following a reset link showed.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The page the link ended on, and where its set-password form posts, if it has one.
    pub form: Option<SetPasswordForm>,
    /// The exchanges, first to last (evidence).
    pub exchanges: Vec<ExchangeId>,
    /// The last answer.
    pub last: ProbeResponse,
}

/// A set-password form reached from a reset link, with the session the link started.
#[derive(Debug, Clone)]
pub struct SetPasswordForm {
    pub page: Url,
    pub action: Url,
    pub hidden: Vec<(String, String)>,
    pub password_fields: Vec<String>,
    pub jar: Arc<CookieJar>,
}

/// Follows `link` as a browser would (a fresh cookie jar, same-origin redirects, GET only)
/// and reads the set-password form at the end, if any.
pub async fn open(probe: &Probe, link: &ResetLink) -> Result<Opened, ProbeError> {
    let jar = Arc::new(CookieJar::new());
    let mut url = link.url.clone();
    let mut exchanges = Vec::new();
    let mut hops = 0;
    loop {
        let resp = probe
            .send(
                ProbeRequest::get(url.clone())
                    .with_jar(jar.clone())
                    .header("Accept", "text/html"),
            )
            .await?;
        exchanges.push(resp.exchange);
        match resp.location() {
            Some(next) if resp.is_redirect() && hops < MAX_HOPS && next.origin() == link.url.origin() => {
                hops += 1;
                url = next;
            }
            _ => {
                let form = set_password_form(&resp, &url, &jar);
                return Ok(Opened {
                    form,
                    exchanges,
                    last: resp,
                });
            }
        }
    }
}

/// The form of `page` that posts a new password to the page's origin.
fn set_password_form(resp: &ProbeResponse, page: &Url, jar: &Arc<CookieJar>) -> Option<SetPasswordForm> {
    if !resp.is_success() || !resp.is_html() {
        return None;
    }
    html::forms(&resp.text())
        .into_iter()
        .filter(|f| f.posts() && f.password_inputs() > 0)
        .find_map(|f| {
            let action = f.target(page).filter(|a| a.origin() == page.origin())?;
            Some(SetPasswordForm {
                page: page.clone(),
                action,
                hidden: f.hidden(),
                password_fields: f
                    .inputs
                    .iter()
                    .filter(|i| i.kind == "password")
                    .map(|i| i.name.clone())
                    .collect(),
                jar: jar.clone(),
            })
        })
}

/// Submits `form` with `password` in every password field (the new one and its
/// confirmation), as the browser would, through the flows' method policy. `Ok(true)` when
/// the target took it: a redirect, or a page without the form again.
pub async fn submit(
    probe: &Probe,
    flows: &Flows,
    form: &SetPasswordForm,
    password: &str,
) -> Result<(bool, ProbeResponse), ProbeError> {
    flows.admit_mailed_form(probe, CONFIRM_ROLE, &form.action);
    let mut fields: Vec<(&str, &str)> = form.hidden.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    fields.extend(form.password_fields.iter().map(|name| (name.as_str(), password)));
    let req = ProbeRequest::post_form(form.action.clone(), &fields)
        .with_jar(form.jar.clone())
        .header("Referer", form.page.as_str())
        .header("Origin", form.page.origin().ascii_serialization());
    let resp = probe.send(req).await?;
    let taken =
        resp.is_redirect() || (resp.is_success() && set_password_form(&resp, &form.action, &form.jar).is_none());
    Ok((taken, resp))
}

/// A lifetime the message states for its link ("expires in 24 hours", "valid for 3
/// days", "this link will expire in 15 minutes"), in seconds.
pub fn stated_lifetime(message: &Message) -> Option<i64> {
    static STATED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?i)\b(?:expire[sd]?|valid|good|usable|active|works?)\b[^.\n]{0,40}?\b(\d{1,4}|an?|one|two|three|four|five|six|seven|ten|twelve|twenty-four|thirty|forty-eight|seventy-two)\s*(minute|min|hour|hr|day|week)s?\b",
        )
        .expect("valid regex")
    });
    let text = match &message.html {
        Some(html) if message.text.trim().is_empty() => html::text(html),
        _ => message.text.clone(),
    };
    let caps = STATED.captures(&text)?;
    let count: i64 = match caps[1].to_ascii_lowercase().as_str() {
        "a" | "an" | "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "ten" => 10,
        "twelve" => 12,
        "twenty-four" => 24,
        "thirty" => 30,
        "forty-eight" => 48,
        "seventy-two" => 72,
        digits => digits.parse().ok()?,
    };
    let unit = match caps[2].to_ascii_lowercase().as_str() {
        "minute" | "min" => 60,
        "hour" | "hr" => 3600,
        "day" => 86_400,
        _ => 7 * 86_400,
    };
    Some(count * unit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn mail(text: &str) -> Message {
        Message::new(
            vec!["alice@example.com".into()],
            "Password reset".into(),
            text.into(),
            None,
            SystemTime::now(),
        )
    }

    #[test]
    fn the_reset_link_is_the_one_with_the_longest_token() {
        let m = mail(
            "Hi,\nhttps://shop.example/help\nReset: http://127.0.0.1:8000/reset/MQ/cl2x4b-0a1b2c3d4e5f60718293a4b5c6d7e8f9/\nThanks",
        );
        let links = reset_links(&m);
        assert_eq!(links.len(), 1, "{links:?}");
        assert_eq!(links[0].token, "cl2x4b-0a1b2c3d4e5f60718293a4b5c6d7e8f9");
        assert_eq!(links[0].authority(), "127.0.0.1:8000");
        let spa =
            mail("Reset: http://127.0.0.1:8000/#/password/reset/confirm/MQ/cl2x4b-0a1b2c3d4e5f60718293a4b5c6d7e8f9");
        assert_eq!(reset_links(&spa)[0].token, "cl2x4b-0a1b2c3d4e5f60718293a4b5c6d7e8f9");
        let query = mail("Go to https://app.example.com/password/reset?token=Ab3dEf6hIj9kLm2nOp5q&email=a%40b.c");
        assert_eq!(reset_links(&query)[0].token, "Ab3dEf6hIj9kLm2nOp5q");
        assert_eq!(reset_links(&query)[0].authority(), "app.example.com");
    }

    #[test]
    fn a_mailed_form_is_named_without_its_token() {
        let url = Url::parse("http://127.0.0.1:9/account/reset-password/Zk3q9XbLm2Pq8RtV4wYsA1/").unwrap();
        assert_eq!(templated_path(&url), "/account/reset-password/{token}/");
        let plain = Url::parse("http://127.0.0.1:9/reset/MQ/set-password/").unwrap();
        assert_eq!(templated_path(&plain), "/reset/MQ/set-password/");
    }

    #[test]
    fn a_tampered_link_keeps_the_shape_and_changes_the_token() {
        let m = mail("http://127.0.0.1:8000/reset/MQ/cl2x4b-0a1b2c3d4e5f60718293a4b5c6d7e8fz/");
        let link = &reset_links(&m)[0];
        let bad = link.tampered();
        assert_ne!(bad.token, link.token);
        assert_eq!(bad.token.len(), link.token.len());
        assert!(bad.url.as_str().starts_with("http://127.0.0.1:8000/reset/MQ/cl2x4b-"));
        assert!(bad.url.as_str().contains(&bad.token));
    }

    #[test]
    fn a_reset_answer_with_a_token_is_told_from_a_plain_one() {
        let plain = serde_json::json!({"detail": "If an account with this email exists, a reset link has been sent."});
        assert_eq!(token_in_answer(&plain), None);
        let field = serde_json::json!({"detail": "sent", "reset_token": "Zk3q9XbLm2Pq8RtV4wYs"});
        assert_eq!(token_in_answer(&field).as_deref(), Some("reset_token"));
        let link = serde_json::json!({"data": {"link": "https://app.example/reset?token=Zk3q9XbLm2Pq8RtV4wYs"}});
        assert_eq!(token_in_answer(&link).as_deref(), Some("link"));
    }

    #[test]
    fn the_lifetime_a_message_states_is_read() {
        assert_eq!(stated_lifetime(&mail("This link expires in 1 hour.")), Some(3600));
        assert_eq!(stated_lifetime(&mail("This link expires in 3 days.")), Some(259_200));
        assert_eq!(stated_lifetime(&mail("The link is valid for 24 hours")), Some(86_400));
        assert_eq!(
            stated_lifetime(&mail("This link will expire in 15 minutes.")),
            Some(900)
        );
        assert_eq!(stated_lifetime(&mail("Link expires in an hour")), Some(3600));
        assert_eq!(stated_lifetime(&mail("Click the link to choose a new password.")), None);
    }
}
