//! Spreading candidates over threads: a producer (the calling thread) cuts the sources into
//! work items (ranges of the built-ins or of a mask, chunks of whole wordlist lines) and
//! hands them to worker threads through a bounded channel, so memory stays constant however
//! large a wordlist is.
//!
//! One run tries several targets ([`crack_many_sources`]): each candidate is tested against
//! every target not yet found, sharing the per-candidate work the targets have in common
//! (see [`super::engine`]); a target found is tried no further, and the run ends when all
//! are found, the sources run out or the budget is spent.

use super::cpu_budget::{CpuBudget, ThreadClock};
use super::engine::{MultiEngine, BATCH};
use super::keyspace::WordRule;
use super::{builtin_candidates, CrackError, CrackOutcome, CrackTarget, Mask};
use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Wordlist bytes per work item.
const CHUNK: usize = 1 << 20;
/// Mask or built-in candidates per work item.
const RANGE: u64 = 1 << 15;
/// Candidates between two looks at the stop flag and the clock.
const CHECK_EVERY: u64 = 4096;
/// Bytes per line assumed for a wordlist not read yet (rockyou averages about 9).
const GUESSED_LINE_BYTES: u64 = 10;

/// Where candidates come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The built-in candidates ([`builtin_candidates`]).
    Builtin,
    /// A file with one candidate per line (`\n` or `\r\n`), streamed.
    Wordlist(PathBuf),
    /// Every candidate of a mask.
    Mask(Mask),
    /// A pass over the built-in English dictionary ([`super::keyspace`]).
    Words(WordRule),
}

/// How long and on how many threads.
#[derive(Debug, Clone, Default)]
pub struct CrackOptions {
    /// Stop after this long (`None`: run until found or exhausted).
    pub budget: Option<Duration>,
    /// Worker threads (0 = one per core).
    pub threads: usize,
    /// Run in the background, within this CPU-time budget (which replaces `budget`): the
    /// workers take a lower CPU priority, so cracking inside a scan takes the cores the
    /// probing leaves idle and never slows the probing (or a target on the same machine),
    /// and the CPU time they get, not the time that passes, is what is counted.
    pub background: Option<Arc<CpuBudget>>,
}

/// Shared with a running [`crack_sources`]: stop it from another thread (Ctrl-C) and read
/// its progress (for a progress bar).
#[derive(Debug, Default)]
pub struct CrackControl {
    stop: AtomicBool,
    tried: AtomicU64,
    estimated_total: AtomicU64,
}

impl CrackControl {
    /// Asks the run to stop as soon as possible; it returns what it tried so far.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    pub fn is_stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Candidates tested so far.
    pub fn tried(&self) -> u64 {
        self.tried.load(Ordering::Relaxed)
    }

    /// Candidates the sources hold: exact for built-ins and masks, estimated from the file
    /// size and the line lengths seen so far for wordlists.
    pub fn estimated_total(&self) -> u64 {
        self.estimated_total.load(Ordering::Relaxed)
    }
}

/// A slice of one source's candidates, tagged with the source's index.
struct Work {
    source: usize,
    items: Items,
}

enum Items {
    Builtin(u64, u64),
    Mask(Arc<Mask>, u64, u64),
    Words(Arc<WordRule>, u64, u64),
    Lines(Vec<u8>),
}

/// Whether every candidate of a source was tried: all its work items were sent and each
/// was tested to its end.
#[derive(Default)]
struct SourceProgress {
    sent: AtomicU64,
    done: AtomicU64,
    all_sent: AtomicBool,
}

impl SourceProgress {
    fn exhausted(&self) -> bool {
        self.all_sent.load(Ordering::Relaxed) && self.sent.load(Ordering::Relaxed) == self.done.load(Ordering::Relaxed)
    }
}

struct Run<'a> {
    targets: &'a [CrackTarget],
    control: &'a CrackControl,
    started: Instant,
    deadline: Option<Instant>,
    /// In the background: the CPU time the workers may spend, instead of the deadline.
    cpu_budget: Option<Arc<CpuBudget>>,
    /// Set when every target is found, on the deadline or on a stop request.
    halt: AtomicBool,
    /// Set when candidates were left untried.
    interrupted: AtomicBool,
    /// Per target: whether its key was found (it is then tried no further).
    solved: Vec<AtomicBool>,
    /// Targets not found yet.
    unsolved: AtomicUsize,
    /// Per target: its key and what the run had done when it was found.
    found: Vec<Mutex<Option<Found>>>,
    /// Per source, in the order given.
    progress: Vec<SourceProgress>,
}

/// A target's key, with the run's progress when it was found.
struct Found {
    secret: Vec<u8>,
    tried: u64,
    elapsed: Duration,
    sources_exhausted: Vec<bool>,
}

impl Run<'_> {
    /// Whether to stop now (every target found, a stop request, or the deadline passed).
    fn halted(&self) -> bool {
        if self.halt.load(Ordering::Relaxed) {
            return true;
        }
        let out_of_time = match &self.cpu_budget {
            Some(budget) => budget.is_spent(),
            None => self.deadline.is_some_and(|d| Instant::now() >= d),
        };
        if out_of_time || self.control.is_stopped() {
            self.halt.store(true, Ordering::Relaxed);
            return true;
        }
        false
    }

    fn interrupt(&self) {
        self.interrupted.store(true, Ordering::Relaxed);
    }

    /// Whether `target` is still to be tried.
    #[inline]
    fn active(&self, target: usize) -> bool {
        !self.solved[target].load(Ordering::Relaxed)
    }

    /// A fast-path match of `target`, confirmed with the reference implementation; `tried`:
    /// the candidates tried up to and including it.
    fn report(&self, target: usize, candidate: &[u8], tried: u64) {
        if !self.active(target) {
            return;
        }
        if !self.targets[target].verify(candidate) {
            debug_assert!(false, "fast path and reference HMAC disagree on {candidate:?}");
            return;
        }
        let mut found = self.found[target].lock().expect("found lock");
        if found.is_some() {
            return;
        }
        *found = Some(Found {
            secret: candidate.to_vec(),
            tried,
            elapsed: self.started.elapsed(),
            sources_exhausted: self.progress.iter().map(SourceProgress::exhausted).collect(),
        });
        self.solved[target].store(true, Ordering::Relaxed);
        if self.unsolved.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.halt.store(true, Ordering::Relaxed);
        }
    }

    fn all_found(&self) -> bool {
        self.unsolved.load(Ordering::Relaxed) == 0
    }
}

/// Tries `sources` in order on `options.threads` threads until the secret is found, every
/// candidate was tried, the budget elapsed or `control` was stopped.
///
/// Every wordlist is opened before anything starts, so a wrong path fails fast.
pub fn crack_sources(
    target: &CrackTarget,
    sources: &[Source],
    options: &CrackOptions,
    control: &CrackControl,
) -> Result<CrackOutcome, CrackError> {
    let mut outcomes = crack_many_sources(std::slice::from_ref(target), sources, options, control)?;
    Ok(outcomes.remove(0))
}

/// [`crack_sources`] for several targets in one pass: the sources are walked once, each
/// candidate tested against every target not found yet, until all are found, every
/// candidate was tried, the budget elapsed or `control` was stopped. One outcome per target,
/// in the order given: a found target's `tried`, `elapsed` and `sources_exhausted` are the
/// run's when its key was found; `control` counts the candidates walked.
pub fn crack_many_sources(
    targets: &[CrackTarget],
    sources: &[Source],
    options: &CrackOptions,
    control: &CrackControl,
) -> Result<Vec<CrackOutcome>, CrackError> {
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    // The built-in lists are built once per process; building them is not cracking time
    // (on a loaded machine it could otherwise eat a short budget whole).
    for source in sources {
        match source {
            Source::Builtin => {
                builtin_candidates();
            }
            Source::Words(_) => {
                super::keyspace::english_words();
            }
            _ => {}
        }
    }
    let started = Instant::now();
    let mut files = Vec::new();
    for source in sources {
        if let Source::Wordlist(path) = source {
            let open = || -> std::io::Result<(File, u64)> {
                let file = File::open(path)?;
                let size = file.metadata()?.len();
                Ok((file, size))
            };
            files.push(open().map_err(|source| CrackError::Wordlist {
                path: path.clone(),
                source,
            })?);
        }
    }
    let threads = match options.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let run = Run {
        targets,
        control,
        started,
        deadline: options.budget.map(|b| started + b),
        cpu_budget: options.background.clone(),
        halt: AtomicBool::new(false),
        interrupted: AtomicBool::new(false),
        solved: targets.iter().map(|_| AtomicBool::new(false)).collect(),
        unsolved: AtomicUsize::new(targets.len()),
        found: targets.iter().map(|_| Mutex::new(None)).collect(),
        progress: sources.iter().map(|_| SourceProgress::default()).collect(),
    };
    let mut estimate = Estimate::new(sources, &files);
    control.estimated_total.store(estimate.total(), Ordering::Relaxed);

    let (tx, rx) = sync_channel::<Work>(threads * 2);
    let rx = Mutex::new(rx);
    let produced = std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                if options.background.is_some() {
                    lower_this_threads_priority();
                }
                work(&MultiEngine::new(targets), &rx, &run);
            });
        }
        let produced = produce(sources, files, &tx, &run, &mut estimate);
        drop(tx);
        produced
    });
    produced?;
    let (tried, elapsed) = (control.tried(), started.elapsed());
    let exhausted = !run.interrupted.load(Ordering::Relaxed);
    let sources_exhausted: Vec<bool> = run.progress.iter().map(SourceProgress::exhausted).collect();
    Ok(run
        .found
        .into_iter()
        .map(|found| match found.into_inner().expect("found lock") {
            Some(found) => CrackOutcome {
                found: Some(found.secret),
                tried: found.tried.min(tried),
                elapsed: found.elapsed,
                exhausted: false,
                sources_exhausted: found.sources_exhausted,
            },
            None => CrackOutcome {
                found: None,
                tried,
                elapsed,
                exhausted,
                sources_exhausted: sources_exhausted.clone(),
            },
        })
        .collect())
}

/// The nice value background workers take: the scheduler then gives them a small share of
/// a core that other work wants (about a tenth) and all of an idle one.
#[cfg(target_os = "linux")]
const BACKGROUND_NICE: libc::c_int = 10;

/// Lowers the calling thread's CPU priority to [`BACKGROUND_NICE`] (on Linux, `nice` is per
/// thread), never raising it: a scan started with `nice -n 15` keeps its workers at 15.
/// Lowering one's own priority needs no privilege; where it fails the thread runs as it was.
fn lower_this_threads_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid, getpriority and setpriority take no pointers; they act on the calling
    // thread only.
    unsafe {
        let tid = libc::gettid() as libc::id_t;
        let current = libc::getpriority(libc::PRIO_PROCESS, tid);
        if current < BACKGROUND_NICE {
            let _ = libc::setpriority(libc::PRIO_PROCESS, tid, BACKGROUND_NICE);
        }
    }
}

/// The candidate count of each source, refined as wordlists are read.
struct Estimate {
    exact: u64,
    /// Per wordlist: (size, bytes read, lines read).
    wordlists: Vec<(u64, u64, u64)>,
}

impl Estimate {
    fn new(sources: &[Source], files: &[(File, u64)]) -> Estimate {
        let exact = sources.iter().map(super::source_len).fold(0u64, u64::saturating_add);
        Estimate {
            exact,
            wordlists: files.iter().map(|(_, size)| (*size, 0, 0)).collect(),
        }
    }

    fn total(&self) -> u64 {
        let (bytes, all_lines) = self
            .wordlists
            .iter()
            .fold((0, 0), |(b, l), &(_, read, lines)| (b + read, l + lines));
        self.wordlists
            .iter()
            .map(|&(size, read, lines)| {
                let left = size.saturating_sub(read);
                let per_line = match (lines, bytes) {
                    (0, 0) => GUESSED_LINE_BYTES,
                    (0, _) => bytes / all_lines.max(1),
                    _ => read / lines,
                };
                lines + left / per_line.max(1)
            })
            .fold(self.exact, u64::saturating_add)
    }
}

fn produce(
    sources: &[Source],
    files: Vec<(File, u64)>,
    tx: &SyncSender<Work>,
    run: &Run,
    estimate: &mut Estimate,
) -> Result<(), CrackError> {
    let mut files = files.into_iter().enumerate();
    for (index, source) in sources.iter().enumerate() {
        if run.halted() {
            run.interrupt();
            return Ok(());
        }
        let send = |items: Items| send(tx, run, Work { source: index, items });
        match source {
            Source::Builtin => {
                if !send_ranges(builtin_candidates().len() as u64, |s, e| send(Items::Builtin(s, e))) {
                    return Ok(());
                }
            }
            Source::Mask(mask) => {
                let mask = Arc::new(mask.clone());
                if !send_ranges(mask.len(), |s, e| send(Items::Mask(mask.clone(), s, e))) {
                    return Ok(());
                }
            }
            Source::Words(rule) => {
                let rule = Arc::new(rule.clone());
                if !send_ranges(rule.len(), |s, e| send(Items::Words(rule.clone(), s, e))) {
                    return Ok(());
                }
            }
            Source::Wordlist(path) => {
                let (file_index, (file, _)) = files.next().expect("one open file per wordlist");
                let stats = |read: u64, lines: u64| {
                    estimate.wordlists[file_index].1 = read;
                    estimate.wordlists[file_index].2 = lines;
                    run.control.estimated_total.store(estimate.total(), Ordering::Relaxed);
                };
                stream_lines(file, tx, run, index, stats).map_err(|source| CrackError::Wordlist {
                    path: path.clone(),
                    source,
                })?;
            }
        }
        run.progress[index].all_sent.store(true, Ordering::Relaxed);
    }
    Ok(())
}

/// Cuts `0..len` into ranges of [`RANGE`] candidates and sends each; false when the run
/// halted.
fn send_ranges(len: u64, mut send: impl FnMut(u64, u64) -> bool) -> bool {
    let mut start = 0u64;
    while start < len {
        let end = start.saturating_add(RANGE).min(len);
        if !send(start, end) {
            return false;
        }
        start = end;
    }
    true
}

/// Sends a work item; false when the run halted (the item is dropped).
fn send(tx: &SyncSender<Work>, run: &Run, work: Work) -> bool {
    if run.halted() {
        run.interrupt();
        return false;
    }
    let source = work.source;
    // Workers drain the channel even after a halt, so this never blocks for long.
    let sent = tx.send(work).is_ok();
    if sent {
        run.progress[source].sent.fetch_add(1, Ordering::Relaxed);
    }
    sent
}

/// Reads a wordlist in chunks of whole lines. A line longer than a chunk is skipped.
fn stream_lines(
    mut file: File,
    tx: &SyncSender<Work>,
    run: &Run,
    source: usize,
    mut stats: impl FnMut(u64, u64),
) -> std::io::Result<()> {
    let mut carry: Vec<u8> = Vec::new();
    let mut skip_to_newline = false;
    let (mut read_total, mut lines_total) = (0u64, 0u64);
    loop {
        let mut buf = Vec::with_capacity(CHUNK + carry.len());
        buf.append(&mut carry);
        let start = buf.len();
        buf.resize(start + CHUNK, 0);
        let n = read_full(&mut file, &mut buf[start..])?;
        buf.truncate(start + n);
        read_total += n as u64;
        let eof = n < CHUNK;
        if skip_to_newline {
            match buf.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    buf.drain(..=i);
                    skip_to_newline = false;
                }
                None if eof => return Ok(()),
                None => continue,
            }
        }
        if !eof {
            match buf.iter().rposition(|&b| b == b'\n') {
                Some(i) => carry.extend_from_slice(&buf[i + 1..]),
                None => {
                    skip_to_newline = true;
                    continue;
                }
            }
            buf.truncate(buf.len() - carry.len());
        }
        if !buf.is_empty() {
            lines_total += buf.iter().filter(|&&b| b == b'\n').count() as u64 + u64::from(buf.last() != Some(&b'\n'));
            stats(read_total, lines_total);
            if !send(
                tx,
                run,
                Work {
                    source,
                    items: Items::Lines(buf),
                },
            ) {
                return Ok(());
            }
        }
        if eof {
            return Ok(());
        }
    }
}

fn read_full(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// A worker: tests the candidates of each work item; after a halt it only drains the channel.
fn work(tester: &MultiEngine, rx: &Mutex<Receiver<Work>>, run: &Run) {
    let mut counter = Counter {
        run,
        pending: 0,
        clock: ThreadClock::start(),
    };
    loop {
        let item = match rx.lock().expect("work queue lock").recv() {
            Ok(item) => item,
            Err(_) => break,
        };
        if run.halt.load(Ordering::Relaxed) {
            run.interrupt();
            continue;
        }
        let complete = match item.items {
            Items::Builtin(start, end) => {
                let list = &builtin_candidates()[start as usize..end as usize];
                counter.test_all(tester, list.iter().map(Vec::as_slice))
            }
            Items::Mask(mask, start, end) => test_mask(&mut counter, tester, &mask, start, end),
            Items::Words(rule, start, end) => test_words(&mut counter, tester, &rule, start, end),
            Items::Lines(chunk) => {
                let lines = chunk.strip_suffix(b"\n").unwrap_or(&chunk).split(|&b| b == b'\n');
                counter.test_all(tester, lines.map(|line| line.strip_suffix(b"\r").unwrap_or(line)))
            }
        };
        if complete {
            run.progress[item.source].done.fetch_add(1, Ordering::Relaxed);
        } else if !run.all_found() {
            run.interrupt();
        }
    }
    counter.flush();
}

/// Tests the candidates `start..end` of a mask; false when abandoned.
fn test_mask(counter: &mut Counter, tester: &MultiEngine, mask: &Mask, start: u64, end: u64) -> bool {
    let width = mask.width();
    let mut digits = [0usize; super::MAX_MASK_LEN];
    let mut next = [0u8; super::MAX_MASK_LEN];
    mask.seek(start, &mut digits[..width], &mut next[..width]);
    let mut lanes = [[0u8; super::MAX_MASK_LEN]; BATCH];
    let mut index = start;
    while index < end {
        let n = (end - index).min(BATCH as u64) as usize;
        for lane in lanes.iter_mut().take(n) {
            lane[..width].copy_from_slice(&next[..width]);
            mask.step(&mut digits[..width], &mut next[..width]);
        }
        let batch: [&[u8]; BATCH] = std::array::from_fn(|i| &lanes[i][..width]);
        if !counter.test(tester, &batch[..n]) {
            return false;
        }
        index += n as u64;
    }
    true
}

/// Tests the candidates `start..end` of a dictionary pass; false when abandoned.
fn test_words(counter: &mut Counter, tester: &MultiEngine, rule: &WordRule, start: u64, end: u64) -> bool {
    let mut lanes = [[0u8; super::MAX_MASK_LEN]; BATCH];
    let mut lens = [0usize; BATCH];
    let mut index = start;
    while index < end {
        let n = (end - index).min(BATCH as u64) as usize;
        for (i, lane) in lanes.iter_mut().take(n).enumerate() {
            lens[i] = rule.write(index + i as u64, lane);
        }
        let batch: [&[u8]; BATCH] = std::array::from_fn(|i| &lanes[i][..lens[i]]);
        if !counter.test(tester, &batch[..n]) {
            return false;
        }
        index += n as u64;
    }
    true
}

/// Counts tested candidates and looks at the halt conditions every [`CHECK_EVERY`].
struct Counter<'a, 'r> {
    run: &'a Run<'r>,
    pending: u64,
    /// The worker's CPU time, charged to a background run's budget.
    clock: ThreadClock,
}

impl Counter<'_, '_> {
    /// Tests a batch of candidates against every target not found yet; false when the item
    /// should be abandoned (every target found, or halted).
    #[inline]
    fn test(&mut self, tester: &MultiEngine, batch: &[&[u8]]) -> bool {
        let run = self.run;
        let pending = self.pending;
        let mut hit = false;
        tester.test_batch(batch, &|target| run.active(target), &mut |target, i| {
            hit = true;
            run.report(target, batch[i], run.control.tried() + pending + i as u64 + 1);
        });
        self.pending += batch.len() as u64;
        if hit {
            self.flush();
            return !run.halt.load(Ordering::Relaxed);
        }
        if self.pending >= CHECK_EVERY {
            self.flush();
            if self.run.halted() {
                return false;
            }
        }
        true
    }

    /// Tests every candidate of an iterator, [`BATCH`] at a time; false when abandoned.
    fn test_all<'c>(&mut self, tester: &MultiEngine, candidates: impl Iterator<Item = &'c [u8]>) -> bool {
        let mut batch: [&[u8]; BATCH] = [&[]; BATCH];
        let mut n = 0;
        for candidate in candidates {
            batch[n] = candidate;
            n += 1;
            if n == BATCH {
                if !self.test(tester, &batch) {
                    return false;
                }
                n = 0;
            }
        }
        n == 0 || self.test(tester, &batch[..n])
    }

    fn flush(&mut self) {
        self.run.control.tried.fetch_add(self.pending, Ordering::Relaxed);
        self.pending = 0;
        if let Some(budget) = &self.run.cpu_budget {
            budget.charge(self.clock.lap());
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    fn own_nice() -> libc::c_int {
        // SAFETY: no pointers; reads the calling thread's nice value.
        unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) }
    }

    #[test]
    fn a_background_worker_lowers_its_own_priority_and_no_other_threads() {
        let before = own_nice();
        let worker = std::thread::spawn(|| {
            super::lower_this_threads_priority();
            own_nice()
        })
        .join()
        .unwrap();
        assert_eq!(worker, super::BACKGROUND_NICE.max(before));
        assert_eq!(own_nice(), before, "the calling thread keeps its priority");
    }
}
