//! The SMTP sink of `--mailbox smtp://127.0.0.1:PORT`: accepts whatever the target sends
//! for the scan's duration and keeps it in memory for [`super::Mailbox::wait_for`].
//!
//! The protocol (EHLO/HELO, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT) is
//! the `mailin` crate's state machine; this module brings the I/O, bounded: a connection
//! limit, a line limit, a message size limit, an idle timeout and a cap on the messages
//! kept, so a misbehaving client cannot exhaust the scanner.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use mailin::{Action, Handler, Response, SessionBuilder};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use super::inbox::Inbox;
use super::Message;

/// Connections served at once; one more is told 421 and closed.
pub const MAX_CONNECTIONS: usize = 16;
/// The largest message accepted (RFC 5321's SIZE sense); a larger one is refused with 552.
pub const MAX_MESSAGE_BYTES: usize = 2 * 1024 * 1024;
/// The longest line read (RFC 5321 allows 1000 for text lines; some senders exceed it).
pub const MAX_LINE_BYTES: usize = 8 * 1024;
/// A connection silent this long is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// A running SMTP sink; it stops listening when dropped.
pub struct SmtpSink {
    addr: SocketAddr,
    inbox: Arc<Inbox>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl SmtpSink {
    /// Listens on `addr` (port 0 picks a free one: see [`SmtpSink::local_addr`]).
    pub async fn start(addr: SocketAddr) -> io::Result<SmtpSink> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let inbox = Arc::new(Inbox::default());
        let server = tokio::spawn(serve(listener, inbox.clone()));
        Ok(SmtpSink { addr, inbox, server })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The first message to `recipient` received at or after `since`, waiting up to
    /// `timeout` for it.
    pub async fn wait_for(&self, recipient: &str, since: SystemTime, timeout: Duration) -> Option<Message> {
        self.inbox.wait_for(recipient, since, timeout).await
    }
}

/// Accepts connections until aborted; the conversations run in a `JoinSet` this task
/// owns, so aborting it (dropping the sink) ends them too.
async fn serve(listener: TcpListener, inbox: Arc<Inbox>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut conversations = tokio::task::JoinSet::new();
    loop {
        // Reap the finished conversations so the set stays small.
        while conversations.try_join_next().is_some() {}
        let Ok((mut stream, peer)) = listener.accept().await else {
            // Out of descriptors and the like: wait a little rather than spin.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            conversations.spawn(async move {
                let _ = stream.write_all(b"421 Too many connections, try again later\r\n").await;
            });
            continue;
        };
        let inbox = inbox.clone();
        conversations.spawn(async move {
            let _ = converse(stream, peer.ip(), inbox).await;
            drop(slot);
        });
    }
}

/// One SMTP conversation, until QUIT, an error, the idle timeout or an overlong line.
async fn converse(stream: TcpStream, peer: IpAddr, inbox: Arc<Inbox>) -> io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut session = SessionBuilder::new("authprobe-smtp-sink").build(peer, Collector::new(inbox));
    reply(&mut write, &session.greeting()).await?;
    let mut line = Vec::with_capacity(256);
    loop {
        line.clear();
        let mut limited = (&mut reader).take(MAX_LINE_BYTES as u64);
        let n = match tokio::time::timeout(IDLE_TIMEOUT, limited.read_until(b'\n', &mut line)).await {
            Ok(result) => result?,
            Err(_) => {
                let _ = write.write_all(b"421 Idle timeout, closing connection\r\n").await;
                return Ok(());
            }
        };
        if n == 0 {
            return Ok(());
        }
        if !line.ends_with(b"\n") {
            // Either the line limit or a connection closed mid-line.
            let _ = write.write_all(b"500 Line too long, closing connection\r\n").await;
            return Ok(());
        }
        // mailin reads lines ending in CRLF; bare-LF senders are tolerated.
        if !line.ends_with(b"\r\n") {
            line.pop();
            line.extend_from_slice(b"\r\n");
        }
        let response = session.process(&line);
        match response.action {
            Action::NoReply => {}
            Action::Close => {
                reply(&mut write, &response).await?;
                return Ok(());
            }
            // STARTTLS is never offered, so never asked for.
            Action::Reply | Action::UpgradeTls => reply(&mut write, &response).await?,
        }
    }
}

async fn reply(write: &mut tokio::net::tcp::OwnedWriteHalf, response: &Response) -> io::Result<()> {
    let buffer = response.buffer()?;
    write.write_all(&buffer).await?;
    write.flush().await
}

/// The `mailin` handler of one connection: gathers a message, keeps it on `data_end`.
struct Collector {
    inbox: Arc<Inbox>,
    to: Vec<String>,
    data: Vec<u8>,
    too_big: bool,
}

impl Collector {
    fn new(inbox: Arc<Inbox>) -> Collector {
        Collector {
            inbox,
            to: Vec::new(),
            data: Vec::new(),
            too_big: false,
        }
    }
}

impl Handler for Collector {
    fn mail(&mut self, _ip: IpAddr, _domain: &str, _from: &str) -> Response {
        // A new transaction (also after RSET): nothing of the last one carries over.
        self.to.clear();
        self.data.clear();
        self.too_big = false;
        mailin::response::OK
    }

    fn rcpt(&mut self, to: &str) -> Response {
        if self.to.len() >= 100 {
            return mailin::response::OUT_OF_SPACE;
        }
        self.to.push(to.to_string());
        mailin::response::OK
    }

    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.to = to.to_vec();
        self.data.clear();
        self.too_big = false;
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> io::Result<()> {
        if self.data.len() + buf.len() > MAX_MESSAGE_BYTES {
            self.too_big = true;
        } else if !self.too_big {
            self.data.extend_from_slice(buf);
        }
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let data = std::mem::take(&mut self.data);
        if std::mem::take(&mut self.too_big) {
            return mailin::response::NO_STORAGE;
        }
        let to = std::mem::take(&mut self.to);
        self.inbox.push(Message::parse(&data, to, SystemTime::now()));
        mailin::response::OK
    }
}
