//! A scan's stop switch. The CLI pulls it on Ctrl-C or SIGTERM; the probe then refuses new
//! requests and abandons those in flight, the checks wind down, and the engine still builds
//! a report from what was found, marked incomplete.

use std::sync::Arc;
use tokio::sync::watch;

/// Shared by the CLI (which pulls it) and the probe (which obeys it).
#[derive(Debug)]
pub struct Interrupt {
    reason: watch::Sender<Option<String>>,
}

impl Interrupt {
    pub fn new() -> Arc<Interrupt> {
        Arc::new(Interrupt {
            reason: watch::channel(None).0,
        })
    }

    /// Stops the scan; the first reason given is kept (e.g. `interrupted by SIGTERM`).
    pub fn trigger(&self, reason: impl Into<String>) {
        let reason = reason.into();
        self.reason.send_if_modified(|current| {
            if current.is_none() {
                *current = Some(reason);
                true
            } else {
                false
            }
        });
    }

    pub fn is_triggered(&self) -> bool {
        self.reason.borrow().is_some()
    }

    /// Why the scan was stopped, if it was.
    pub fn reason(&self) -> Option<String> {
        self.reason.borrow().clone()
    }

    /// Resolves once the switch is pulled (at once if it already was).
    pub async fn triggered(&self) {
        let mut rx = self.reason.subscribe();
        let _ = rx.wait_for(Option::is_some).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_reason_wins_and_waiters_wake() {
        let stop = Interrupt::new();
        assert!(!stop.is_triggered());
        let waiter = {
            let stop = stop.clone();
            tokio::spawn(async move { stop.triggered().await })
        };
        stop.trigger("interrupted by SIGTERM");
        stop.trigger("interrupted by SIGINT");
        waiter.await.unwrap();
        stop.triggered().await;
        assert_eq!(stop.reason().as_deref(), Some("interrupted by SIGTERM"));
    }
}
