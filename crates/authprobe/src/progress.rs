//! Progress on standard error, drawn from the engine's events (the library draws nothing).

use authprobe_core::engine::ScanObserver;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::Mutex;
use std::time::Duration;

pub struct Progress {
    bar: Mutex<Option<ProgressBar>>,
    enabled: bool,
}

impl Progress {
    /// Draws only when standard error is a terminal and `quiet` is off.
    pub fn new(quiet: bool) -> Self {
        let enabled = !quiet && !ProgressDrawTarget::stderr().is_hidden();
        Progress {
            bar: Mutex::new(None),
            enabled,
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = self.bar.lock().expect("progress lock").take() {
            bar.finish_and_clear();
        }
    }
}

impl ScanObserver for Progress {
    fn phase(&self, name: &str, total: usize) {
        if !self.enabled {
            return;
        }
        let mut slot = self.bar.lock().expect("progress lock");
        if let Some(old) = slot.take() {
            old.finish_and_clear();
        }
        let bar = if total > 0 {
            ProgressBar::new(total as u64).with_style(
                ProgressStyle::with_template("{spinner} {prefix:>10} [{bar:30}] {pos}/{len} {msg}")
                    .expect("valid template")
                    .progress_chars("=> "),
            )
        } else {
            ProgressBar::new_spinner()
                .with_style(ProgressStyle::with_template("{spinner} {prefix:>10} {msg}").expect("valid template"))
        };
        bar.set_prefix(name.to_string());
        bar.enable_steady_tick(Duration::from_millis(100));
        *slot = Some(bar);
    }

    fn step(&self, label: &str) {
        if let Some(bar) = self.bar.lock().expect("progress lock").as_ref() {
            bar.inc(1);
            bar.set_message(label.to_string());
        }
    }
}
