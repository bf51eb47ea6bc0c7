//! The messages a mailbox holds in memory (the SMTP sink's, or those a test delivers),
//! and the wait for one to arrive.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use tokio::sync::Notify;

use super::Message;

/// Messages kept; the oldest goes first.
pub const MAX_MESSAGES: usize = 512;

/// The messages received, and a wake-up for those waiting for one.
#[derive(Default)]
pub(crate) struct Inbox {
    messages: Mutex<VecDeque<Message>>,
    arrived: Notify,
}

impl Inbox {
    pub(crate) fn push(&self, message: Message) {
        let mut messages = self.messages.lock().expect("inbox lock");
        if messages.len() == MAX_MESSAGES {
            messages.pop_front();
        }
        messages.push_back(message);
        drop(messages);
        self.arrived.notify_waiters();
    }

    fn find(&self, recipient: &str, since: SystemTime) -> Option<Message> {
        let messages = self.messages.lock().expect("inbox lock");
        messages
            .iter()
            .find(|m| m.received >= since && m.is_to(recipient))
            .cloned()
    }

    /// The first message to `recipient` received at or after `since`, waiting up to
    /// `timeout` for it.
    pub(crate) async fn wait_for(&self, recipient: &str, since: SystemTime, timeout: Duration) -> Option<Message> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Registered before looking, so a message pushed in between still wakes us.
            let arrived = self.arrived.notified();
            if let Some(found) = self.find(recipient, since) {
                return Some(found);
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return self.find(recipient, since);
            }
        }
    }
}
