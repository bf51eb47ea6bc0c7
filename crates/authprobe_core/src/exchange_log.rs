//! The probe's record of every exchange, in bounded memory.
//!
//! The first [`ExchangeLogSettings::in_memory`] exchanges of a scan stay in memory (a
//! default scan, with its budget of 1,500 requests, never goes further). Every later one is
//! appended to a spill file (an unnamed temporary file, gone when the scan ends) and only
//! its place in the file and a few flags stay in memory, so a scan of 100,000 requests holds
//! about 20 bytes per exchange instead of a few kilobytes. A spilled exchange is still
//! evidence: [`ExchangeLog::get`] reads it back, and so do the visits that walk the whole
//! record. An exchange is *dropped* (its id kept, its content gone) only when the spill file
//! cannot be written or has reached [`ExchangeLogSettings::max_spill_bytes`]; the report
//! counts both (`stats.exchanges_spilled`, `stats.exchanges_dropped`).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};

use crate::exchange::{Exchange, ExchangeId, RecordedRequest, RecordedResponse};

/// How much of the record stays in memory, and how much may be spilled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExchangeLogSettings {
    /// Exchanges kept in memory (the first ones of the scan: preflight, spec, logins).
    pub in_memory: usize,
    /// Bytes the spill file may grow to; later exchanges are dropped.
    pub max_spill_bytes: u64,
}

impl Default for ExchangeLogSettings {
    fn default() -> Self {
        ExchangeLogSettings {
            in_memory: 2048,
            max_spill_bytes: 2 * 1024 * 1024 * 1024,
        }
    }
}

/// Which recorded exchanges a visit reads (see [`ExchangeLog::visit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Every exchange.
    All,
    /// Exchanges whose response set a cookie (`Set-Cookie`).
    SettingCookies,
    /// Exchanges whose response carried a `Location` header.
    Redirecting,
}

/// What the log did with the exchanges of a scan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExchangeLogStats {
    /// Exchanges recorded in all.
    pub recorded: usize,
    /// Written to the spill file (still readable as evidence).
    pub spilled: usize,
    /// Not kept at all: the spill file could not be written or was full.
    pub dropped: usize,
    /// Bytes written to the spill file.
    pub spill_bytes: u64,
}

const SETS_COOKIE: u8 = 1;
const HAS_LOCATION: u8 = 2;

/// Where one exchange is.
#[derive(Debug, Clone)]
enum Slot {
    Memory(Arc<Exchange>),
    Spilled { offset: u64, len: u32, flags: u8 },
    Dropped,
}

impl Slot {
    fn flags(&self) -> u8 {
        match self {
            Slot::Memory(x) => flags_of(x.response.as_ref()),
            Slot::Spilled { flags, .. } => *flags,
            Slot::Dropped => 0,
        }
    }
}

fn flags_of(response: Option<&RecordedResponse>) -> u8 {
    let mut flags = 0;
    for (name, _) in response.map(|r| r.headers.as_slice()).unwrap_or_default() {
        if name.eq_ignore_ascii_case("set-cookie") {
            flags |= SETS_COOKIE;
        } else if name.eq_ignore_ascii_case("location") {
            flags |= HAS_LOCATION;
        }
    }
    flags
}

/// The append-only spill file: written through a buffer, read back by position.
struct Spill {
    writer: BufWriter<File>,
    reader: Arc<File>,
    /// Bytes handed to the writer.
    written: u64,
    /// Bytes known to be in the file (the writer flushed up to here).
    flushed: u64,
    /// The file's name where it cannot be removed while open (not Unix).
    #[cfg_attr(unix, allow(dead_code))]
    path: Option<std::path::PathBuf>,
}

impl Spill {
    fn create() -> std::io::Result<Spill> {
        let dir = std::env::temp_dir();
        let mut last_error = None;
        for attempt in 0..8u32 {
            let name = format!(
                "authprobe-exchanges-{}-{:016x}-{attempt}",
                std::process::id(),
                rand::random::<u64>()
            );
            let path = dir.join(name);
            // Append mode: a positional read (or, elsewhere, a seek) never moves where the
            // next record is written.
            match std::fs::OpenOptions::new()
                .read(true)
                .append(true)
                .create_new(true)
                .open(&path)
            {
                Ok(file) => {
                    // Unix: unlinked at once, the file lives as long as its handles.
                    let path = if cfg!(unix) {
                        let _ = std::fs::remove_file(&path);
                        None
                    } else {
                        Some(path)
                    };
                    let reader = Arc::new(file.try_clone()?);
                    return Ok(Spill {
                        writer: BufWriter::with_capacity(64 * 1024, file),
                        reader,
                        written: 0,
                        flushed: 0,
                        path,
                    });
                }
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| std::io::Error::other("no temporary file")))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.flushed < self.written {
            self.writer.flush()?;
            self.flushed = self.written;
        }
        Ok(())
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        #[cfg(not(unix))]
        if let Some(path) = self.path.take() {
            // Both handles must be closed first; the writer's is closed by the flush below
            // failing or not, the reader's by its last clone. Best effort.
            let _ = self.writer.flush();
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, buf, offset)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

#[cfg(not(any(unix, windows)))]
fn read_at(_: &File, _: &mut [u8], _: u64) -> std::io::Result<()> {
    Err(std::io::Error::other("positional reads are not supported here"))
}

struct Inner {
    slots: Vec<Slot>,
    /// `None` before the first spill; `Err` once the file failed (later exchanges drop).
    spill: Option<Result<Spill, ()>>,
    stats: ExchangeLogStats,
    /// Requests recorded per method.
    methods: BTreeMap<String, usize>,
}

/// Every exchange of a scan, by id; see the module documentation.
pub struct ExchangeLog {
    settings: ExchangeLogSettings,
    inner: Mutex<Inner>,
}

impl ExchangeLog {
    pub fn new(settings: ExchangeLogSettings) -> ExchangeLog {
        ExchangeLog {
            settings,
            inner: Mutex::new(Inner {
                slots: Vec::new(),
                spill: None,
                stats: ExchangeLogStats::default(),
                methods: BTreeMap::new(),
            }),
        }
    }

    /// Records one exchange and returns its id (its place in the record).
    pub fn push(
        &self,
        request: RecordedRequest,
        response: Option<RecordedResponse>,
        error: Option<String>,
        elapsed_ms: u64,
        insecure: bool,
    ) -> ExchangeId {
        let mut exchange = Exchange {
            id: ExchangeId(0),
            request,
            response,
            error,
            elapsed_ms,
            insecure,
        };
        let mut inner = self.inner.lock().expect("exchange log lock");
        let id = ExchangeId(inner.slots.len());
        exchange.id = id;
        inner.stats.recorded += 1;
        match inner.methods.get_mut(exchange.request.method.as_str()) {
            Some(n) => *n += 1,
            None => {
                inner.methods.insert(exchange.request.method.clone(), 1);
            }
        }
        if inner.slots.len() < self.settings.in_memory {
            inner.slots.push(Slot::Memory(Arc::new(exchange)));
            return id;
        }
        let slot = self.spill(&mut inner, &exchange);
        inner.slots.push(slot);
        id
    }

    /// Appends `exchange` to the spill file, or drops it when the file failed or is full.
    fn spill(&self, inner: &mut Inner, exchange: &Exchange) -> Slot {
        let flags = flags_of(exchange.response.as_ref());
        let spill = inner.spill.get_or_insert_with(|| Spill::create().map_err(|_| ()));
        let Ok(file) = spill else {
            inner.stats.dropped += 1;
            return Slot::Dropped;
        };
        let record = encode(exchange);
        let too_big =
            u32::try_from(record.len()).is_err() || file.written + record.len() as u64 > self.settings.max_spill_bytes;
        if too_big {
            inner.stats.dropped += 1;
            return Slot::Dropped;
        }
        if file.writer.write_all(&record).is_err() {
            inner.spill = Some(Err(()));
            inner.stats.dropped += 1;
            return Slot::Dropped;
        }
        let offset = file.written;
        file.written += record.len() as u64;
        inner.stats.spilled += 1;
        inner.stats.spill_bytes = file.written;
        Slot::Spilled {
            offset,
            len: record.len() as u32,
            flags,
        }
    }

    /// One exchange (read back from the spill file if it was spilled); `None` for an id
    /// never recorded or an exchange that was dropped.
    pub fn get(&self, id: ExchangeId) -> Option<Exchange> {
        let (slot, reader) = {
            let mut inner = self.inner.lock().expect("exchange log lock");
            let slot = inner.slots.get(id.0)?.clone();
            let reader = match slot {
                Slot::Memory(x) => return Some(Exchange::clone(&x)),
                Slot::Dropped => return None,
                Slot::Spilled { .. } => flushed_reader(&mut inner)?,
            };
            (slot, reader)
        };
        read_slot(&reader, id, &slot)
    }

    /// Calls `visit` with the recorded exchanges `which` selects, in id order, until it
    /// breaks. Spilled exchanges are read back one at a time, so a visit of a large record
    /// never holds it all; the log is not locked while `visit` runs. Dropped exchanges are
    /// skipped.
    pub fn visit(&self, which: Recorded, mut visit: impl FnMut(&Exchange) -> ControlFlow<()>) {
        let wanted = |flags: u8| match which {
            Recorded::All => true,
            Recorded::SettingCookies => flags & SETS_COOKIE != 0,
            Recorded::Redirecting => flags & HAS_LOCATION != 0,
        };
        let (slots, reader) = {
            let mut inner = self.inner.lock().expect("exchange log lock");
            let slots: Vec<(usize, Slot)> = inner
                .slots
                .iter()
                .enumerate()
                .filter(|(_, s)| !matches!(s, Slot::Dropped) && wanted(s.flags()))
                .map(|(i, s)| (i, s.clone()))
                .collect();
            let spilled = slots.iter().any(|(_, s)| matches!(s, Slot::Spilled { .. }));
            let reader = if spilled { flushed_reader(&mut inner) } else { None };
            (slots, reader)
        };
        for (i, slot) in slots {
            let flow = match &slot {
                Slot::Memory(x) => visit(x),
                Slot::Spilled { .. } => match reader.as_ref().and_then(|r| read_slot(r, ExchangeId(i), &slot)) {
                    Some(x) => visit(&x),
                    None => continue,
                },
                Slot::Dropped => continue,
            };
            if flow.is_break() {
                return;
            }
        }
    }

    /// Exchanges recorded so far.
    pub fn len(&self) -> usize {
        self.inner.lock().expect("exchange log lock").slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What the log kept, spilled and dropped so far.
    pub fn stats(&self) -> ExchangeLogStats {
        self.inner.lock().expect("exchange log lock").stats
    }

    /// Requests recorded per method (`GET`, `POST`, ...).
    pub fn methods(&self) -> BTreeMap<String, usize> {
        self.inner.lock().expect("exchange log lock").methods.clone()
    }
}

/// The spill file's reader, once everything written so far is in the file.
fn flushed_reader(inner: &mut Inner) -> Option<Arc<File>> {
    match &mut inner.spill {
        Some(Ok(spill)) => match spill.flush() {
            Ok(()) => Some(spill.reader.clone()),
            Err(_) => None,
        },
        _ => None,
    }
}

fn read_slot(reader: &File, id: ExchangeId, slot: &Slot) -> Option<Exchange> {
    let Slot::Spilled { offset, len, .. } = slot else {
        return None;
    };
    let mut buf = vec![0u8; *len as usize];
    read_at(reader, &mut buf, *offset).ok()?;
    let mut exchange = decode(&buf)?;
    exchange.id = id;
    Some(exchange)
}

// The spill format: little-endian lengths, UTF-8 strings, one record per exchange (its id
// is its slot, so not written).

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => {
            out.push(1);
            put_str(out, s);
        }
        None => out.push(0),
    }
}

fn put_headers(out: &mut Vec<u8>, headers: &[(String, String)]) {
    out.extend_from_slice(&(headers.len() as u32).to_le_bytes());
    for (name, value) in headers {
        put_str(out, name);
        put_str(out, value);
    }
}

fn encode(x: &Exchange) -> Vec<u8> {
    let req = &x.request;
    let size = 64
        + req.method.len()
        + req.url.len()
        + req.body.as_ref().map_or(0, String::len)
        + req.headers.iter().map(|(k, v)| k.len() + v.len() + 8).sum::<usize>()
        + x.response.as_ref().map_or(0, |r| {
            r.body.len() + r.headers.iter().map(|(k, v)| k.len() + v.len() + 8).sum::<usize>()
        })
        + x.error.as_ref().map_or(0, String::len);
    let mut out = Vec::with_capacity(size);
    put_str(&mut out, &req.method);
    put_str(&mut out, &req.url);
    put_headers(&mut out, &req.headers);
    put_opt_str(&mut out, req.body.as_deref());
    match &x.response {
        Some(r) => {
            out.push(1);
            out.extend_from_slice(&r.status.to_le_bytes());
            put_headers(&mut out, &r.headers);
            put_str(&mut out, &r.body);
            out.push(u8::from(r.body_truncated));
        }
        None => out.push(0),
    }
    put_opt_str(&mut out, x.error.as_deref());
    out.extend_from_slice(&x.elapsed_ms.to_le_bytes());
    out.push(u8::from(x.insecure));
    out
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn bytes(&mut self, n: usize) -> Option<&[u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.bytes(1).map(|b| b[0])
    }

    fn u32(&mut self) -> Option<u32> {
        self.bytes(4)
            .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")))
    }

    fn string(&mut self) -> Option<String> {
        let len = self.u32()? as usize;
        String::from_utf8(self.bytes(len)?.to_vec()).ok()
    }

    fn opt_string(&mut self) -> Option<Option<String>> {
        match self.u8()? {
            0 => Some(None),
            _ => self.string().map(Some),
        }
    }

    fn headers(&mut self) -> Option<Vec<(String, String)>> {
        let n = self.u32()? as usize;
        let mut out = Vec::with_capacity(n.min(256));
        for _ in 0..n {
            out.push((self.string()?, self.string()?));
        }
        Some(out)
    }
}

fn decode(buf: &[u8]) -> Option<Exchange> {
    let mut r = Reader(buf);
    let request = RecordedRequest {
        method: r.string()?,
        url: r.string()?,
        headers: r.headers()?,
        body: r.opt_string()?,
    };
    let response = match r.u8()? {
        0 => None,
        _ => Some(RecordedResponse {
            status: u16::from_le_bytes(r.bytes(2)?.try_into().ok()?),
            headers: r.headers()?,
            body: r.string()?,
            body_truncated: r.u8()? != 0,
        }),
    };
    let error = r.opt_string()?;
    let elapsed_ms = u64::from_le_bytes(r.bytes(8)?.try_into().ok()?);
    let insecure = r.u8()? != 0;
    Some(Exchange {
        id: ExchangeId(0),
        request,
        response,
        error,
        elapsed_ms,
        insecure,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(i: usize) -> RecordedRequest {
        RecordedRequest {
            method: if i.is_multiple_of(2) { "GET" } else { "POST" }.into(),
            url: format!("http://t/api/items{i}/"),
            headers: vec![("Authorization".into(), format!("Bearer tok-{i}"))],
            body: (i % 2 == 1).then(|| format!(r#"{{"n":{i}}}"#)),
        }
    }

    fn response(i: usize) -> RecordedResponse {
        let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
        if i.is_multiple_of(3) {
            headers.push(("set-cookie".into(), format!("sessionid=s{i}; Path=/")));
        }
        if i.is_multiple_of(5) {
            headers.push(("Location".into(), format!("/next/{i}")));
        }
        RecordedResponse {
            status: 200,
            headers,
            body: format!(r#"{{"item":{i},"text":"é ü"}}"#),
            body_truncated: i.is_multiple_of(7),
        }
    }

    fn filled(settings: ExchangeLogSettings, n: usize) -> ExchangeLog {
        let log = ExchangeLog::new(settings);
        for i in 0..n {
            let (response, error) = if i % 11 == 10 {
                (None, Some(format!("timed out {i}")))
            } else {
                (Some(response(i)), None)
            };
            assert_eq!(
                log.push(request(i), response, error, i as u64, i % 4 == 0),
                ExchangeId(i)
            );
        }
        log
    }

    #[test]
    fn spilled_exchanges_read_back_exactly_as_recorded() {
        let kept = filled(ExchangeLogSettings::default(), 40);
        let spilled = filled(
            ExchangeLogSettings {
                in_memory: 5,
                ..Default::default()
            },
            40,
        );
        let stats = spilled.stats();
        assert_eq!((stats.recorded, stats.spilled, stats.dropped), (40, 35, 0));
        assert!(stats.spill_bytes > 0);
        for i in 0..40 {
            let (a, b) = (kept.get(ExchangeId(i)).unwrap(), spilled.get(ExchangeId(i)).unwrap());
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "exchange {i}");
        }
        assert!(spilled.get(ExchangeId(40)).is_none());
        assert_eq!(spilled.methods(), kept.methods());
        assert_eq!(spilled.methods()["GET"], 20);
    }

    #[test]
    fn visits_walk_memory_and_spill_in_order_and_by_header() {
        let log = filled(
            ExchangeLogSettings {
                in_memory: 4,
                ..Default::default()
            },
            30,
        );
        let ids = |which| {
            let mut ids = Vec::new();
            log.visit(which, |x| {
                ids.push(x.id.0);
                ControlFlow::Continue(())
            });
            ids
        };
        assert_eq!(ids(Recorded::All), (0..30).collect::<Vec<_>>());
        let cookies: Vec<usize> = (0..30)
            .filter(|&i: &usize| i.is_multiple_of(3) && i % 11 != 10)
            .collect();
        assert_eq!(ids(Recorded::SettingCookies), cookies);
        let redirects: Vec<usize> = (0..30)
            .filter(|&i: &usize| i.is_multiple_of(5) && i % 11 != 10)
            .collect();
        assert_eq!(ids(Recorded::Redirecting), redirects);
        let mut seen = 0;
        log.visit(Recorded::All, |_| {
            seen += 1;
            if seen == 7 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        assert_eq!(seen, 7);
    }

    #[test]
    fn a_full_spill_file_drops_and_counts_what_does_not_fit() {
        let log = filled(
            ExchangeLogSettings {
                in_memory: 2,
                max_spill_bytes: 400,
            },
            20,
        );
        let stats = log.stats();
        assert!(stats.spilled > 0 && stats.dropped > 0, "{stats:?}");
        assert_eq!(stats.recorded, 2 + stats.spilled + stats.dropped);
        assert!(log.get(ExchangeId(19)).is_none(), "the last one was dropped");
        assert!(log.get(ExchangeId(2)).is_some(), "the first spilled one reads back");
        let mut visited = 0;
        log.visit(Recorded::All, |_| {
            visited += 1;
            ControlFlow::Continue(())
        });
        assert_eq!(visited, 2 + stats.spilled);
    }
}
