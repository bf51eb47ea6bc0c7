//! A mail catcher the team already runs, read through its HTTP API:
//!
//! - Mailpit: `GET /api/v1/messages` (newest first: `ID`, `To[].Address`, `Created`),
//!   then `GET /api/v1/message/{ID}` (`Subject`, `Text`, `HTML`);
//! - MailHog: `GET /api/v2/messages` (newest first: `Raw.To`, `Raw.Data` the message as
//!   sent, `Created`).
//!
//! Only reads: a scan never deletes what the catcher holds.

use std::time::{Duration, SystemTime};

use serde::Deserialize;
use url::Url;

use super::{MailboxError, Message};

/// How often a catcher is asked again while waiting for a message.
const POLL_EVERY: Duration = Duration::from_millis(250);
/// Messages of the list read per poll (the newest ones).
const PAGE: usize = 50;
/// One API request's time limit.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest answer read from the catcher.
const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Mailpit,
    MailHog,
}

/// A mail catcher's API client.
pub struct Catcher {
    kind: Kind,
    base: Url,
    client: reqwest::Client,
}

impl Catcher {
    pub fn mailpit(base: Url) -> Result<Catcher, MailboxError> {
        Catcher::new(Kind::Mailpit, base)
    }

    pub fn mailhog(base: Url) -> Result<Catcher, MailboxError> {
        Catcher::new(Kind::MailHog, base)
    }

    fn new(kind: Kind, base: Url) -> Result<Catcher, MailboxError> {
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| MailboxError::Client(e.to_string()))?;
        Ok(Catcher { kind, base, client })
    }

    /// The first message to `recipient` the catcher received at or after `since`, asking
    /// every [`POLL_EVERY`] until `timeout`. A catcher that cannot be reached or answers
    /// garbage counts as holding no such message.
    pub async fn wait_for(&self, recipient: &str, since: SystemTime, timeout: Duration) -> Option<Message> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(found) = self.find(recipient, since).await {
                return Some(found);
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return None;
            }
            tokio::time::sleep(POLL_EVERY.min(deadline - now)).await;
        }
    }

    async fn find(&self, recipient: &str, since: SystemTime) -> Option<Message> {
        match self.kind {
            Kind::Mailpit => self.find_mailpit(recipient, since).await,
            Kind::MailHog => self.find_mailhog(recipient, since).await,
        }
    }

    async fn get<T: for<'de> Deserialize<'de>>(&self, path: &str) -> Option<T> {
        let url = self.base.join(path).ok()?;
        let answer = self.client.get(url).send().await.ok()?;
        if !answer.status().is_success() {
            return None;
        }
        if answer.content_length().is_some_and(|n| n as usize > MAX_ANSWER_BYTES) {
            return None;
        }
        let body = answer.bytes().await.ok()?;
        if body.len() > MAX_ANSWER_BYTES {
            return None;
        }
        serde_json::from_slice(&body).ok()
    }

    async fn find_mailpit(&self, recipient: &str, since: SystemTime) -> Option<Message> {
        let list: MailpitList = self.get(&format!("api/v1/messages?limit={PAGE}")).await?;
        // Newest first: the earliest match after `since` is the last one.
        let summary = list
            .messages
            .iter()
            .filter(|m| created(&m.created).is_some_and(|t| t >= since))
            .filter(|m| m.to.iter().flatten().any(|a| same_address(&a.address, recipient)))
            .min_by_key(|m| created(&m.created))?;
        let id = url::form_urlencoded::byte_serialize(summary.id.as_bytes()).collect::<String>();
        let full: MailpitMessage = self.get(&format!("api/v1/message/{id}")).await?;
        Some(Message::new(
            summary.to.iter().flatten().map(|a| a.address.clone()).collect(),
            full.subject,
            full.text,
            Some(full.html),
            created(&summary.created)?,
        ))
    }

    async fn find_mailhog(&self, recipient: &str, since: SystemTime) -> Option<Message> {
        let list: MailHogList = self.get(&format!("api/v2/messages?limit={PAGE}")).await?;
        let item = list
            .items
            .iter()
            .filter(|m| created(&m.created).is_some_and(|t| t >= since))
            .filter(|m| m.raw.to.iter().any(|a| same_address(a, recipient)))
            .min_by_key(|m| created(&m.created))?;
        Some(Message::parse(
            item.raw.data.as_bytes(),
            item.raw.to.clone(),
            created(&item.created)?,
        ))
    }
}

fn same_address(address: &str, recipient: &str) -> bool {
    let trim = |a: &str| {
        a.trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_ascii_lowercase()
    };
    trim(address) == trim(recipient)
}

/// An RFC 3339 timestamp (both catchers' `Created`) as a `SystemTime`.
fn created(stamp: &str) -> Option<SystemTime> {
    let at = time::OffsetDateTime::parse(stamp, &time::format_description::well_known::Rfc3339).ok()?;
    Some(SystemTime::from(at))
}

#[derive(Deserialize)]
struct MailpitList {
    #[serde(default)]
    messages: Vec<MailpitSummary>,
}

#[derive(Deserialize)]
struct MailpitSummary {
    #[serde(rename = "ID")]
    id: String,
    /// `null` when the message had no `To` (only `Bcc`).
    #[serde(rename = "To", default)]
    to: Option<Vec<MailpitAddress>>,
    #[serde(rename = "Created")]
    created: String,
}

#[derive(Deserialize)]
struct MailpitAddress {
    #[serde(rename = "Address")]
    address: String,
}

#[derive(Deserialize)]
struct MailpitMessage {
    #[serde(rename = "Subject", default)]
    subject: String,
    #[serde(rename = "Text", default)]
    text: String,
    #[serde(rename = "HTML", default)]
    html: String,
}

#[derive(Deserialize)]
struct MailHogList {
    #[serde(default)]
    items: Vec<MailHogItem>,
}

#[derive(Deserialize)]
struct MailHogItem {
    #[serde(rename = "Raw")]
    raw: MailHogRaw,
    #[serde(rename = "Created")]
    created: String,
}

#[derive(Deserialize)]
struct MailHogRaw {
    #[serde(rename = "To", default)]
    to: Vec<String>,
    #[serde(rename = "Data", default)]
    data: String,
}
