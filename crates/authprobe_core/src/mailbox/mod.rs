//! The mailbox: what the target e-mails (a password-reset link, a sign-up confirmation),
//! read so a check can follow the recovery flow end to end (PASS002, coming).
//!
//! `--mailbox URL` names one of two kinds:
//!
//! - `smtp://127.0.0.1:2525`: authprobe runs an SMTP sink on that loopback address for
//!   the scan's duration ([`smtp::SmtpSink`]); the staging app is pointed at it.
//! - `mailpit+http://HOST:8025` or `mailhog+http://HOST:8025` (`+https` too): the HTTP API
//!   of a mail catcher the team already runs ([`catcher::Catcher`]).
//!
//! Whatever a mailbox hands out has been registered with the scan's [`Redactor`] first: the
//! body and every link and token in it, so no reset token reaches a report, log or
//! stored scan unredacted.

pub mod catcher;
mod inbox;
pub mod message;
pub mod smtp;

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use url::Url;

use crate::redact::Redactor;

pub use message::Message;

/// Where the scan reads the target's e-mail, as `--mailbox` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailboxUrl {
    /// An SMTP sink authprobe runs on this loopback address.
    Smtp(SocketAddr),
    /// A running Mailpit, its HTTP API under this base URL (`http://HOST:8025/`).
    Mailpit(Url),
    /// A running MailHog, its HTTP API under this base URL.
    MailHog(Url),
}

/// Why a `--mailbox` value was refused; each message says what a good one looks like.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailboxUrlError {
    #[error("not a URL ({0}); expected smtp://127.0.0.1:PORT or mailpit+http://HOST:PORT")]
    NotAUrl(String),
    #[error(
        "unknown mailbox scheme `{0}`; expected smtp:// (authprobe's own SMTP sink), \
         mailpit+http(s):// or mailhog+http(s):// (a running mail catcher's API)"
    )]
    UnknownScheme(String),
    #[error(
        "the SMTP sink listens on a loopback address only (127.0.0.1, ::1 or localhost), \
         not `{0}`: it accepts mail from anyone who reaches it"
    )]
    NotLoopback(String),
    #[error("`{0}` names no port; the SMTP sink needs one, e.g. smtp://127.0.0.1:2525")]
    MissingPort(String),
    #[error("`{0}`: port 0 would pick a port the target cannot be told; name one, e.g. 2525")]
    PortZero(String),
    #[error("`{0}` names no host")]
    MissingHost(String),
    #[error("`{0}`: a mailbox URL takes no user, password, query or fragment")]
    Extra(String),
}

impl MailboxUrl {
    /// Reads a `--mailbox` value (see the module doc for the forms).
    pub fn parse(value: &str) -> Result<MailboxUrl, MailboxUrlError> {
        let value = value.trim();
        let url = Url::parse(value).map_err(|e| MailboxUrlError::NotAUrl(e.to_string()))?;
        if !url.username().is_empty() || url.password().is_some() || url.query().is_some() || url.fragment().is_some() {
            return Err(MailboxUrlError::Extra(crate::redact::strip_userinfo(value)));
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| MailboxUrlError::MissingHost(value.to_string()))?;
        match url.scheme() {
            "smtp" => {
                // `url` knows no default port for smtp, so `port()` is the written one.
                let port = url
                    .port()
                    .ok_or_else(|| MailboxUrlError::MissingPort(value.to_string()))?;
                if port == 0 {
                    return Err(MailboxUrlError::PortZero(value.to_string()));
                }
                let ip = loopback_ip(host).ok_or_else(|| MailboxUrlError::NotLoopback(host.to_string()))?;
                Ok(MailboxUrl::Smtp(SocketAddr::new(ip, port)))
            }
            scheme => {
                let (kind, http) = scheme
                    .split_once('+')
                    .ok_or_else(|| MailboxUrlError::UnknownScheme(scheme.to_string()))?;
                if http != "http" && http != "https" {
                    return Err(MailboxUrlError::UnknownScheme(scheme.to_string()));
                }
                let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
                let host = match url.host() {
                    Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
                    _ => host.to_string(),
                };
                let mut path = url.path().to_string();
                if !path.ends_with('/') {
                    path.push('/');
                }
                let base = Url::parse(&format!("{http}://{host}{port}{path}"))
                    .map_err(|e| MailboxUrlError::NotAUrl(e.to_string()))?;
                match kind {
                    "mailpit" => Ok(MailboxUrl::Mailpit(base)),
                    "mailhog" => Ok(MailboxUrl::MailHog(base)),
                    _ => Err(MailboxUrlError::UnknownScheme(scheme.to_string())),
                }
            }
        }
    }
}

impl std::str::FromStr for MailboxUrl {
    type Err = MailboxUrlError;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        MailboxUrl::parse(value)
    }
}

impl fmt::Display for MailboxUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MailboxUrl::Smtp(addr) => write!(f, "smtp://{addr}"),
            MailboxUrl::Mailpit(base) => write!(f, "mailpit+{base}"),
            MailboxUrl::MailHog(base) => write!(f, "mailhog+{base}"),
        }
    }
}

/// The loopback address `host` names, if it names one.
fn loopback_ip(host: &str) -> Option<IpAddr> {
    if host.eq_ignore_ascii_case("localhost") {
        return Some(IpAddr::from([127, 0, 0, 1]));
    }
    let ip: IpAddr = host.trim_start_matches('[').trim_end_matches(']').parse().ok()?;
    ip.is_loopback().then_some(ip)
}

/// Why a mailbox could not be opened or read.
#[derive(Debug, thiserror::Error)]
pub enum MailboxError {
    #[error("could not start the SMTP sink on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("could not build the mail catcher's HTTP client: {0}")]
    Client(String),
}

/// An open mailbox: the running SMTP sink, or a mail catcher's API.
pub struct Mailbox {
    source: Source,
    redactor: Arc<Redactor>,
}

enum Source {
    Sink(smtp::SmtpSink),
    Catcher(catcher::Catcher),
    Memory(Arc<inbox::Inbox>),
}

/// Delivers messages into a mailbox made by [`Mailbox::in_memory`]: what a program
/// embedding the scanner (or a fixture test's scripted target) "sends".
#[derive(Clone)]
pub struct MailDrop {
    inbox: Arc<inbox::Inbox>,
}

impl MailDrop {
    pub fn deliver(&self, message: Message) {
        self.inbox.push(message);
    }
}

impl Mailbox {
    /// Opens the mailbox `url` names: starts the SMTP sink (it stops when the `Mailbox` is
    /// dropped) or prepares the catcher's client. Messages it hands out are registered
    /// with `redactor` first.
    pub async fn open(url: &MailboxUrl, redactor: Arc<Redactor>) -> Result<Mailbox, MailboxError> {
        let source = match url {
            MailboxUrl::Smtp(addr) => Source::Sink(
                smtp::SmtpSink::start(*addr)
                    .await
                    .map_err(|source| MailboxError::Bind { addr: *addr, source })?,
            ),
            MailboxUrl::Mailpit(base) => Source::Catcher(catcher::Catcher::mailpit(base.clone())?),
            MailboxUrl::MailHog(base) => Source::Catcher(catcher::Catcher::mailhog(base.clone())?),
        };
        Ok(Mailbox { source, redactor })
    }

    /// A mailbox held in memory, filled through the [`MailDrop`] returned with it.
    pub fn in_memory(redactor: Arc<Redactor>) -> (Mailbox, MailDrop) {
        let inbox = Arc::new(inbox::Inbox::default());
        let drop = MailDrop { inbox: inbox.clone() };
        (
            Mailbox {
                source: Source::Memory(inbox),
                redactor,
            },
            drop,
        )
    }

    /// What the scan's reports say the mailbox is (no secret in it).
    pub fn describe(&self) -> String {
        match &self.source {
            Source::Sink(sink) => format!("the SMTP sink on {}", sink.local_addr()),
            Source::Catcher(_) => "the mail catcher".to_string(),
            Source::Memory(_) => "the in-memory mailbox".to_string(),
        }
    }

    /// The address the SMTP sink listens on (the bound port when the URL asked for 0).
    pub fn smtp_addr(&self) -> Option<SocketAddr> {
        match &self.source {
            Source::Sink(sink) => Some(sink.local_addr()),
            Source::Catcher(_) | Source::Memory(_) => None,
        }
    }

    /// The first message to `recipient` (case-insensitive) received at or after `since`,
    /// waiting up to `timeout` for one to arrive; `None` when none did. Its body, links
    /// and the tokens in them are registered for redaction before it is returned.
    pub async fn wait_for(&self, recipient: &str, since: SystemTime, timeout: Duration) -> Option<Message> {
        let found = match &self.source {
            Source::Sink(sink) => sink.wait_for(recipient, since, timeout).await,
            Source::Catcher(catcher) => catcher.wait_for(recipient, since, timeout).await,
            Source::Memory(inbox) => inbox.wait_for(recipient, since, timeout).await,
        };
        if let Some(message) = &found {
            message.register_secrets(&self.redactor);
        }
        found
    }
}

#[cfg(test)]
mod tests;
