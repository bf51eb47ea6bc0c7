//! Progress on standard error, drawn from the engine's events (the library draws nothing):
//! bars on a terminal; elsewhere (a CI log) a heartbeat line every few seconds saying what
//! is running; nothing at all with `--quiet`.

use authprobe_core::engine::ScanObserver;
use authprobe_core::probe::RequestMeter;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The environment variable that sets the heartbeat's interval in seconds (`0` for none).
pub const HEARTBEAT_ENV: &str = "AUTHPROBE_HEARTBEAT_SECS";
const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(5);

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// Bars redrawn in place: standard error is a terminal.
    Bars,
    /// One line every interval: standard error is a file or a pipe (CI).
    Heartbeat(Duration),
    Off,
}

impl Mode {
    /// `interval` is the value of [`HEARTBEAT_ENV`], if set.
    fn choose(quiet: bool, terminal: bool, interval: Option<&str>) -> Result<Mode, String> {
        if quiet {
            return Ok(Mode::Off);
        }
        if terminal {
            return Ok(Mode::Bars);
        }
        let every = match interval.map(str::trim) {
            None | Some("") => DEFAULT_HEARTBEAT,
            Some(text) => {
                let secs = text
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s >= 0.0)
                    .ok_or_else(|| format!("{HEARTBEAT_ENV}={text} is not a number of seconds"))?;
                if secs == 0.0 {
                    return Ok(Mode::Off);
                }
                Duration::from_secs_f64(secs)
            }
        };
        Ok(Mode::Heartbeat(every))
    }
}

/// What the scan is doing, as the heartbeat reports it.
struct State {
    started: Instant,
    phase: Option<String>,
    done: usize,
    total: usize,
    meter: Option<RequestMeter>,
}

impl State {
    /// `authprobe: 12 s, 340/1500 requests, running checks (18/52)`.
    fn heartbeat_line(&self) -> String {
        let mut line = format!("authprobe: {}", elapsed(self.started.elapsed()));
        if let Some(meter) = &self.meter {
            line.push_str(&format!(", {}/{} requests", meter.sent(), meter.budget()));
        }
        match &self.phase {
            None => line.push_str(", starting"),
            Some(phase) if self.total > 0 => {
                line.push_str(&format!(", running {phase} ({}/{})", self.done, self.total))
            }
            Some(phase) => line.push_str(&format!(", running {phase}")),
        }
        line
    }
}

/// `12 s`, `3 min 05 s`.
fn elapsed(d: Duration) -> String {
    let secs = d.as_secs();
    if secs < 60 {
        format!("{secs} s")
    } else {
        format!("{} min {:02} s", secs / 60, secs % 60)
    }
}

/// The thread that prints heartbeat lines until told to stop.
struct Heartbeat {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl Heartbeat {
    fn start(state: Arc<Mutex<State>>, every: Duration) -> Heartbeat {
        let (stop, stopped) = mpsc::channel::<()>();
        // Until told to stop, or the scan is over (the sender dropped).
        let thread = std::thread::spawn(move || {
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                let line = state.lock().expect("progress lock").heartbeat_line();
                eprintln!("{line}");
            }
        });
        Heartbeat { stop, thread }
    }
}

pub struct Progress {
    mode: Mode,
    state: Arc<Mutex<State>>,
    bar: Mutex<Option<ProgressBar>>,
    heartbeat: Mutex<Option<Heartbeat>>,
}

impl Progress {
    /// Bars when standard error is a terminal, heartbeat lines when it is not (every
    /// `AUTHPROBE_HEARTBEAT_SECS`, default 5), nothing with `quiet`.
    pub fn new(quiet: bool) -> Self {
        let interval = std::env::var(HEARTBEAT_ENV).ok();
        let mode =
            Mode::choose(quiet, std::io::stderr().is_terminal(), interval.as_deref()).unwrap_or_else(|problem| {
                eprintln!(
                    "warning: {problem}; a heartbeat line every {} s",
                    DEFAULT_HEARTBEAT.as_secs()
                );
                Mode::Heartbeat(DEFAULT_HEARTBEAT)
            });
        let state = Arc::new(Mutex::new(State {
            started: Instant::now(),
            phase: None,
            done: 0,
            total: 0,
            meter: None,
        }));
        let heartbeat = match mode {
            Mode::Heartbeat(every) => Some(Heartbeat::start(state.clone(), every)),
            _ => None,
        };
        Progress {
            mode,
            state,
            bar: Mutex::new(None),
            heartbeat: Mutex::new(heartbeat),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = self.bar.lock().expect("progress lock").take() {
            bar.finish_and_clear();
        }
        if let Some(heartbeat) = self.heartbeat.lock().expect("progress lock").take() {
            let _ = heartbeat.stop.send(());
            let _ = heartbeat.thread.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

impl ScanObserver for Progress {
    fn requests(&self, meter: RequestMeter) {
        self.state.lock().expect("progress lock").meter = Some(meter);
    }

    fn phase(&self, name: &str, total: usize) {
        {
            let mut state = self.state.lock().expect("progress lock");
            state.phase = Some(name.to_string());
            state.done = 0;
            state.total = total;
        }
        if self.mode != Mode::Bars {
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
        self.state.lock().expect("progress lock").done += 1;
        if let Some(bar) = self.bar.lock().expect("progress lock").as_ref() {
            bar.inc(1);
            bar.set_message(label.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_silences_progress_and_a_terminal_gets_bars() {
        assert_eq!(Mode::choose(true, true, None), Ok(Mode::Off));
        assert_eq!(Mode::choose(true, false, Some("1")), Ok(Mode::Off));
        assert_eq!(Mode::choose(false, true, Some("1")), Ok(Mode::Bars));
    }

    #[test]
    fn off_a_terminal_the_heartbeat_interval_comes_from_the_environment() {
        assert_eq!(Mode::choose(false, false, None), Ok(Mode::Heartbeat(DEFAULT_HEARTBEAT)));
        assert_eq!(
            Mode::choose(false, false, Some("0.5")),
            Ok(Mode::Heartbeat(Duration::from_millis(500)))
        );
        assert_eq!(Mode::choose(false, false, Some("0")), Ok(Mode::Off));
        assert!(Mode::choose(false, false, Some("soon")).is_err());
        assert!(Mode::choose(false, false, Some("-1")).is_err());
    }

    #[test]
    fn a_heartbeat_line_says_what_is_running() {
        let mut state = State {
            started: Instant::now(),
            phase: None,
            done: 0,
            total: 0,
            meter: None,
        };
        assert_eq!(state.heartbeat_line(), "authprobe: 0 s, starting");
        state.phase = Some("discovery".into());
        assert_eq!(state.heartbeat_line(), "authprobe: 0 s, running discovery");
        state.phase = Some("checks".into());
        state.done = 18;
        state.total = 52;
        assert_eq!(state.heartbeat_line(), "authprobe: 0 s, running checks (18/52)");
        assert_eq!(elapsed(Duration::from_secs(185)), "3 min 05 s");
    }
}
