//! `--verbose`: the scan's phases and steps as plain lines on standard error (instead of a
//! progress bar), each stamped with the seconds since the scan started.

use authprobe_core::engine::ScanObserver;
use std::sync::Mutex;
use std::time::Instant;

/// Passes every event on to `inner` (the progress bar) and, when on, prints it.
pub struct Verbose<'a> {
    inner: &'a dyn ScanObserver,
    on: bool,
    started: Instant,
    /// The current phase, its step count and the steps done.
    phase: Mutex<(String, usize, usize)>,
}

impl<'a> Verbose<'a> {
    pub fn new(inner: &'a dyn ScanObserver, on: bool) -> Self {
        Verbose {
            inner,
            on,
            started: Instant::now(),
            phase: Mutex::new((String::new(), 0, 0)),
        }
    }

    /// Prints one line, stamped, when verbose.
    pub fn say(&self, line: &str) {
        if self.on {
            eprintln!("[{:>6.1}s] {line}", self.started.elapsed().as_secs_f64());
        }
    }
}

impl ScanObserver for Verbose<'_> {
    fn phase(&self, name: &str, total: usize) {
        self.inner.phase(name, total);
        *self.phase.lock().expect("phase lock") = (name.to_string(), total, 0);
        match total {
            0 => self.say(name),
            n => self.say(&format!("{name} ({n} step{})", if n == 1 { "" } else { "s" })),
        }
    }

    fn step(&self, label: &str) {
        self.inner.step(label);
        let line = {
            let mut phase = self.phase.lock().expect("phase lock");
            phase.2 += 1;
            match phase.1 {
                0 => format!("  {}: {label}", phase.0),
                total => format!("  {}: {label} ({}/{total})", phase.0, phase.2),
            }
        };
        self.say(&line);
    }

    fn requests(&self, meter: authprobe_core::probe::RequestMeter) {
        self.inner.requests(meter);
    }
}
