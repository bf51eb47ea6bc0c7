//! Ctrl-C and SIGTERM during a scan: the first one stops the scan and lets it write a
//! partial report marked incomplete (exit 2); a second one quits at once (exit 130).

use authprobe_core::interrupt::Interrupt;
use std::sync::Arc;

/// Listens for SIGINT/SIGTERM for the rest of the process and pulls `interrupt` on the
/// first. Must be spawned on the scan's runtime before the scan starts.
pub async fn stop_scan_on_signal(interrupt: Arc<Interrupt>) {
    let mut signals = Signals::new();
    let name = signals.next().await;
    interrupt.trigger(format!("interrupted by {name}"));
    eprintln!("\n{name}: stopping the scan and writing a partial report (again to quit at once)");
    let name = signals.next().await;
    eprintln!("{name} again: quitting without a report");
    std::process::exit(130);
}

#[cfg(unix)]
struct Signals {
    term: Option<tokio::signal::unix::Signal>,
    int: Option<tokio::signal::unix::Signal>,
}

#[cfg(unix)]
impl Signals {
    fn new() -> Signals {
        use tokio::signal::unix::{signal, SignalKind};
        Signals {
            term: signal(SignalKind::terminate()).ok(),
            int: signal(SignalKind::interrupt()).ok(),
        }
    }

    async fn next(&mut self) -> &'static str {
        async fn recv(signal: &mut Option<tokio::signal::unix::Signal>) {
            match signal {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            _ = recv(&mut self.term) => "SIGTERM",
            _ = recv(&mut self.int) => "SIGINT",
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn new() -> Signals {
        Signals
    }

    async fn next(&mut self) -> &'static str {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}
