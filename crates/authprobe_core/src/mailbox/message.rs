//! One e-mail the target sent: who it went to, its subject, its text and the links in it.

use std::sync::LazyLock;
use std::time::SystemTime;

use regex::Regex;

use crate::redact::Redactor;

/// An e-mail as a check needs it. Its `text` holds secrets (a reset link's token): it is
/// registered with the scan's redactor before a check sees it (see [`super::Mailbox`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The recipients, lower-cased addresses (the envelope's, or the catcher's `To`).
    pub to: Vec<String>,
    pub subject: String,
    /// The text part (or the HTML part as text when there is no text part), decoded
    /// from quoted-printable or base64.
    pub text: String,
    /// The HTML part, decoded, if any: links are read from it too.
    pub html: Option<String>,
    /// When the mailbox received it.
    pub received: SystemTime,
}

/// An http(s) URL in free text or in an HTML attribute.
static LINK: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#"https?://[^\s<>"'`]+"#).expect("valid regex"));

/// A token-like piece of a link (path segment, query value) shorter than this is not
/// registered as a secret on its own: short pieces are words (`reset`, `confirm`).
const MIN_TOKEN: usize = 8;

impl Message {
    /// Parses a raw RFC 5322 message (headers, MIME parts, transfer encodings).
    pub fn parse(raw: &[u8], to: Vec<String>, received: SystemTime) -> Message {
        let parsed = mail_parser::MessageParser::default().parse(raw);
        let (subject, text, html) = match &parsed {
            Some(m) => (
                m.subject().unwrap_or_default().to_string(),
                m.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
                (m.html_body_count() > 0)
                    .then(|| m.body_html(0).map(|h| h.into_owned()))
                    .flatten(),
            ),
            None => (String::new(), String::from_utf8_lossy(raw).into_owned(), None),
        };
        Message::new(to, subject, text, html, received)
    }

    /// A message from parts already decoded (a catcher's JSON).
    pub fn new(to: Vec<String>, subject: String, text: String, html: Option<String>, received: SystemTime) -> Message {
        Message {
            to: to.into_iter().map(|a| normalize_address(&a)).collect(),
            subject,
            text,
            html: html.filter(|h| !h.trim().is_empty()),
            received,
        }
    }

    /// Whether it went to `recipient` (compared case-insensitively, `<>` ignored).
    pub fn is_to(&self, recipient: &str) -> bool {
        let wanted = normalize_address(recipient);
        self.to.contains(&wanted)
    }

    /// The http(s) URLs in the text and the HTML part, in order, each once, with trailing
    /// punctuation and HTML entity escapes (`&amp;`) undone.
    pub fn links(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let sources = std::iter::once(self.text.as_str()).chain(self.html.as_deref());
        for source in sources {
            for found in LINK.find_iter(source) {
                let link = found
                    .as_str()
                    .trim_end_matches(['.', ',', ';', ':', ')', ']', '}', '>', '!', '?'])
                    .replace("&amp;", "&");
                if !link.is_empty() && !out.contains(&link) {
                    out.push(link);
                }
            }
        }
        out
    }

    /// Registers what in the message is secret with `redactor`: the text and HTML whole,
    /// every link, and every long path segment, query value and fragment piece in a link
    /// (a reset token shows up on its own in later requests and answers).
    pub fn register_secrets(&self, redactor: &Redactor) {
        redactor.add_secret(self.text.trim());
        if let Some(html) = &self.html {
            redactor.add_secret(html.trim());
        }
        for link in self.links() {
            redactor.add_secret(&link);
            let Ok(url) = url::Url::parse(&link) else {
                continue;
            };
            for piece in link_pieces(&url) {
                if is_token_like(&piece) {
                    redactor.add_secret(&piece);
                }
            }
        }
    }
}

/// The pieces of a link a token can be: its path segments, its query values, and the
/// pieces of a single-page app's route in its fragment (djoser's
/// `#/password/reset/confirm/{uid}/{token}`).
pub fn link_pieces(url: &url::Url) -> Vec<String> {
    let segments = url.path_segments().into_iter().flatten().map(str::to_string);
    let values = url.query_pairs().map(|(_, v)| v.into_owned());
    let fragment = url
        .fragment()
        .into_iter()
        .flat_map(|f| f.split(['/', '?', '&', '=']))
        .map(str::to_string);
    segments.chain(values).chain(fragment).collect()
}

/// A piece of a link that looks like a token: long, and not a plain word (it has a digit,
/// or is long enough that no path word is).
fn is_token_like(piece: &str) -> bool {
    piece.len() >= MIN_TOKEN && (piece.chars().any(|c| c.is_ascii_digit()) || piece.len() >= 24)
}

/// `Alice <Alice@Example.org>` → `alice@example.org`.
fn normalize_address(address: &str) -> String {
    let address = address.trim();
    let inner = match (address.rfind('<'), address.rfind('>')) {
        (Some(open), Some(close)) if open < close => &address[open + 1..close],
        _ => address,
    };
    inner.trim().to_ascii_lowercase()
}
