//! The mailbox on loopback: URL parsing, the SMTP sink fed by a real SMTP client, fake
//! Mailpit and MailHog APIs, and the redaction of what a message holds.

use super::*;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const TOKEN: &str = "c4n5b2-0a1b2c3d4e5f60718293a4b5c6d7e8f9";

fn reset_link() -> String {
    format!("http://testserver/accounts/reset/MQ/{TOKEN}/")
}

// ---- URL parsing ---------------------------------------------------------------------

#[test]
fn smtp_urls_name_a_loopback_address_and_port() {
    assert_eq!(
        MailboxUrl::parse("smtp://127.0.0.1:2525").unwrap(),
        MailboxUrl::Smtp("127.0.0.1:2525".parse().unwrap())
    );
    assert_eq!(
        MailboxUrl::parse("smtp://localhost:2525").unwrap(),
        MailboxUrl::Smtp("127.0.0.1:2525".parse().unwrap())
    );
    assert_eq!(
        MailboxUrl::parse("smtp://[::1]:25").unwrap(),
        MailboxUrl::Smtp("[::1]:25".parse().unwrap())
    );
    assert_eq!(
        MailboxUrl::parse("smtp://127.0.0.1:2525").unwrap().to_string(),
        "smtp://127.0.0.1:2525"
    );
}

#[test]
fn catcher_urls_keep_their_http_base() {
    assert_eq!(
        MailboxUrl::parse("mailpit+http://mail.internal:8025").unwrap(),
        MailboxUrl::Mailpit(Url::parse("http://mail.internal:8025/").unwrap())
    );
    assert_eq!(
        MailboxUrl::parse("mailhog+https://10.1.2.3/catcher").unwrap(),
        MailboxUrl::MailHog(Url::parse("https://10.1.2.3/catcher/").unwrap())
    );
    assert_eq!(
        MailboxUrl::parse("mailpit+http://127.0.0.1:8025").unwrap().to_string(),
        "mailpit+http://127.0.0.1:8025/"
    );
}

#[test]
fn bad_mailbox_urls_are_refused_with_the_reason() {
    use MailboxUrlError as E;
    assert!(matches!(MailboxUrl::parse("imap://127.0.0.1:143"), Err(E::UnknownScheme(s)) if s == "imap"));
    assert!(matches!(
        MailboxUrl::parse("mailbox+http://h:1"),
        Err(E::UnknownScheme(_))
    ));
    assert!(matches!(
        MailboxUrl::parse("mailpit+ftp://h:1"),
        Err(E::UnknownScheme(_))
    ));
    assert!(matches!(MailboxUrl::parse("smtp://10.0.0.5:2525"), Err(E::NotLoopback(h)) if h == "10.0.0.5"));
    assert!(matches!(
        MailboxUrl::parse("smtp://0.0.0.0:2525"),
        Err(E::NotLoopback(_))
    ));
    assert!(matches!(
        MailboxUrl::parse("smtp://mail.example.org:25"),
        Err(E::NotLoopback(_))
    ));
    assert!(matches!(MailboxUrl::parse("smtp://127.0.0.1"), Err(E::MissingPort(_))));
    assert!(matches!(MailboxUrl::parse("smtp://127.0.0.1:0"), Err(E::PortZero(_))));
    assert!(MailboxUrl::parse("127.0.0.1:2525").is_err());
    assert!(matches!(MailboxUrl::parse("not a url"), Err(E::NotAUrl(_))));
    let extra = MailboxUrl::parse("smtp://me:hunter22@127.0.0.1:25").unwrap_err();
    assert!(matches!(extra, E::Extra(_)));
    assert!(!extra.to_string().contains("hunter22"), "{extra}");
    assert!(MailboxUrl::parse("imap://x:1")
        .unwrap_err()
        .to_string()
        .contains("smtp://"));
}

// ---- the SMTP sink -------------------------------------------------------------------

/// A minimal SMTP client: sends `lines` one by one, returning every reply line read.
struct Client {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
}

impl Client {
    async fn connect(addr: std::net::SocketAddr) -> (Client, String) {
        let (read, writer) = TcpStream::connect(addr).await.unwrap().into_split();
        let mut client = Client {
            reader: BufReader::new(read),
            writer,
        };
        let greeting = client.reply().await;
        (client, greeting)
    }

    /// A whole reply (multi-line `250-` continuations joined), empty at end of stream.
    async fn reply(&mut self) -> String {
        let mut out = String::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line).await.unwrap() == 0 {
                return out;
            }
            out.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return out;
            }
        }
    }

    async fn send(&mut self, line: &str) -> String {
        self.writer.write_all(format!("{line}\r\n").as_bytes()).await.unwrap();
        self.reply().await
    }

    /// MAIL, RCPT, DATA and the message; the reply to the final dot.
    async fn mail(&mut self, to: &str, data: &str) -> String {
        assert!(self.send("MAIL FROM:<webmaster@testserver>").await.starts_with("250"));
        assert!(self.send(&format!("RCPT TO:<{to}>")).await.starts_with("250"));
        assert!(self.send("DATA").await.starts_with("354"));
        let mut body = String::new();
        for line in data.lines() {
            // Dot-stuffing, as RFC 5321 4.5.2 has the client do.
            if line.starts_with('.') {
                body.push('.');
            }
            body.push_str(line);
            body.push_str("\r\n");
        }
        self.writer.write_all(body.as_bytes()).await.unwrap();
        self.send(".").await
    }
}

/// A password-reset e-mail as Django's `PasswordResetForm` sends it with a quoted-printable
/// body: `=3D` escapes and soft line breaks split the link.
fn django_reset_email(to: &str) -> String {
    let link = reset_link();
    let (head, tail) = link.split_at(40);
    format!(
        "From: webmaster@testserver\r\n\
         To: {to}\r\n\
         Subject: Password reset on testserver\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=\"utf-8\"\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\
         \r\n\
         You're receiving this email because you requested a password reset for your user=\r\n \
         account at testserver.\r\n\
         \r\n\
         Please go to the following page and choose a new password:\r\n\
         \r\n\
         {head}=\r\n\
         {tail}\r\n\
         \r\n\
         .signature starts with a dot =3D kept\r\n"
    )
}

async fn sink_on_loopback() -> (Mailbox, Arc<Redactor>, std::net::SocketAddr) {
    let redactor = Arc::new(Redactor::default());
    // Port 0 (a free port, for tests) is what `--mailbox` refuses: built directly.
    let url = MailboxUrl::Smtp("127.0.0.1:0".parse().unwrap());
    let mailbox = Mailbox::open(&url, redactor.clone()).await.unwrap();
    let addr = mailbox.smtp_addr().unwrap();
    assert_ne!(addr.port(), 0);
    (mailbox, redactor, addr)
}

#[tokio::test]
async fn the_smtp_sink_receives_a_reset_email_and_reads_its_link() {
    let (mailbox, _redactor, addr) = sink_on_loopback().await;
    let since = SystemTime::now();
    let (mut client, greeting) = Client::connect(addr).await;
    assert!(greeting.starts_with("220"), "{greeting}");
    assert!(client.send("EHLO testserver").await.starts_with("250"));
    assert!(client.send("NOOP").await.starts_with("250"));
    // A transaction reset half-way leaves nothing behind.
    assert!(client.send("MAIL FROM:<x@testserver>").await.starts_with("250"));
    assert!(client.send("RCPT TO:<mallory@example.org>").await.starts_with("250"));
    assert!(client.send("RSET").await.starts_with("250"));
    let done = client
        .mail("Alice@Example.org", &django_reset_email("alice@example.org"))
        .await;
    assert!(done.starts_with("250"), "{done}");
    assert!(client.send("QUIT").await.starts_with("221"));

    let message = mailbox
        .wait_for("alice@example.org", since, Duration::from_secs(5))
        .await
        .expect("the reset e-mail");
    assert_eq!(message.subject, "Password reset on testserver");
    assert_eq!(message.to, vec!["alice@example.org".to_string()]);
    assert!(message.text.contains("choose a new password"), "{}", message.text);
    assert!(
        message.text.contains("\n.signature starts with a dot = kept"),
        "{}",
        message.text
    );
    assert_eq!(message.links(), vec![reset_link()]);
    // The recipient dropped by RSET got nothing.
    assert_eq!(
        mailbox
            .wait_for("mallory@example.org", since, Duration::from_millis(100))
            .await,
        None
    );
}

#[tokio::test]
async fn the_smtp_sink_waits_for_a_message_and_ignores_older_ones() {
    let (mailbox, _redactor, addr) = sink_on_loopback().await;
    let (mut client, _) = Client::connect(addr).await;
    client.send("HELO testserver").await;
    client
        .mail("bob@example.org", "Subject: old\r\n\r\nold link http://t/old/1\r\n")
        .await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let since = SystemTime::now();
    assert_eq!(
        mailbox
            .wait_for("bob@example.org", since, Duration::from_millis(100))
            .await,
        None
    );

    let later = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        client
            .mail("bob@example.org", "Subject: new\r\n\r\nnew link http://t/new/2\r\n")
            .await
    });
    let message = mailbox
        .wait_for("bob@example.org", since, Duration::from_secs(5))
        .await
        .expect("the message sent while waiting");
    assert_eq!(message.subject, "new");
    assert_eq!(message.links(), vec!["http://t/new/2".to_string()]);
    assert!(later.await.unwrap().starts_with("250"));
}

#[tokio::test]
async fn the_smtp_sink_refuses_an_oversized_message_and_overlong_lines() {
    let (mailbox, _redactor, addr) = sink_on_loopback().await;
    let since = SystemTime::now();
    let (mut client, _) = Client::connect(addr).await;
    client.send("EHLO testserver").await;
    let line = "a".repeat(999);
    let lines = smtp::MAX_MESSAGE_BYTES / 1000 + 10;
    let big = format!("Subject: big\r\n\r\n{}", format!("{line}\r\n").repeat(lines));
    let refused = client.mail("carol@example.org", &big).await;
    assert!(refused.starts_with("552"), "{refused}");
    assert_eq!(
        mailbox
            .wait_for("carol@example.org", since, Duration::from_millis(100))
            .await,
        None
    );

    // The connection is still usable after a refused message; an endless line closes it.
    client
        .writer
        .write_all("x".repeat(smtp::MAX_LINE_BYTES + 10).as_bytes())
        .await
        .unwrap();
    let closed = client.reply().await;
    assert!(closed.starts_with("500"), "{closed}");
    assert_eq!(client.reply().await, "", "closed after an overlong line");
}

#[tokio::test]
async fn the_smtp_sink_serves_a_bounded_number_of_connections() {
    let (mailbox, _redactor, addr) = sink_on_loopback().await;
    let mut open = Vec::new();
    for _ in 0..smtp::MAX_CONNECTIONS {
        let (client, greeting) = Client::connect(addr).await;
        assert!(greeting.starts_with("220"), "{greeting}");
        open.push(client);
    }
    let (mut refused, greeting) = Client::connect(addr).await;
    assert!(greeting.starts_with("421"), "{greeting}");
    assert_eq!(refused.reply().await, "", "closed after 421");
    // A connection that ends frees its slot.
    let mut first = open.remove(0);
    assert!(first.send("QUIT").await.starts_with("221"));
    drop(first);
    let mut greeting = String::new();
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        greeting = Client::connect(addr).await.1;
        if greeting.starts_with("220") {
            break;
        }
    }
    assert!(greeting.starts_with("220"), "{greeting}");
    drop(mailbox);
}

#[tokio::test]
async fn the_smtp_sink_stops_listening_when_dropped() {
    let (mailbox, _redactor, addr) = sink_on_loopback().await;
    let (mut open, _) = Client::connect(addr).await;
    drop(mailbox);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(TcpStream::connect(addr).await.is_err());
    // A conversation under way ends with it.
    assert_eq!(open.reply().await, "", "the open connection is closed");
}

// ---- redaction -----------------------------------------------------------------------

#[tokio::test]
async fn what_a_message_holds_is_registered_for_redaction() {
    let (mailbox, redactor, addr) = sink_on_loopback().await;
    let since = SystemTime::now();
    let (mut client, _) = Client::connect(addr).await;
    client.send("EHLO testserver").await;
    client
        .mail("alice@example.org", &django_reset_email("alice@example.org"))
        .await;
    // Before the mailbox hands the message out, nothing is registered.
    assert!(redactor.text(&reset_link()).contains(TOKEN));
    let message = mailbox
        .wait_for("alice@example.org", since, Duration::from_secs(5))
        .await
        .unwrap();

    let logged = redactor.text(&format!("POST {} -> 200 {}", reset_link(), message.text));
    assert!(!logged.contains(TOKEN), "{logged}");
    assert!(!logged.contains("choose a new password"), "{logged}");
    // The token alone (as a later request path or form field carries it) is redacted too.
    let alone = redactor.body(&format!("{{\"uid\":\"MQ\",\"reset\":\"{TOKEN}\"}} /set/{TOKEN}/"));
    assert!(!alone.contains(TOKEN), "{alone}");
    // Ordinary words of the link are not secrets.
    assert!(redactor
        .text("the reset page of testserver")
        .contains("reset page of testserver"));
    // A token in a single-page app's fragment route is a secret on its own too.
    let spa_token = "Zk3q9XbLm2Pq8RtV4wYs7a";
    let spa = Message::new(
        vec!["alice@example.org".into()],
        "Reset".into(),
        format!("Open http://front.test/#/password/reset/confirm/MQ/{spa_token}"),
        None,
        SystemTime::now(),
    );
    spa.register_secrets(&redactor);
    assert!(!redactor
        .body(&format!("{{\"token\":\"{spa_token}\"}}"))
        .contains(spa_token));
}

// ---- mail catchers -------------------------------------------------------------------

/// Serves `app` on 127.0.0.1:0; the base URL.
async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn rfc3339(at: SystemTime) -> String {
    time::OffsetDateTime::from(at)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

#[tokio::test]
async fn a_mailpit_api_yields_the_reset_email_sent_after_since() {
    use axum::extract::Path;
    use axum::routing::get;
    use axum::Json;
    let since = SystemTime::now();
    let before = rfc3339(since - Duration::from_secs(60));
    let after = rfc3339(since + Duration::from_secs(1));
    let list = serde_json::json!({
        "total": 3,
        "messages": [
            {"ID": "other", "To": [{"Name": "", "Address": "bob@example.org"}], "Created": after, "Subject": "Password reset"},
            {"ID": "new", "To": [{"Name": "Alice", "Address": "Alice@example.org"}], "Created": after, "Subject": "Password reset"},
            {"ID": "old", "To": [{"Name": "", "Address": "alice@example.org"}], "Created": before, "Subject": "Password reset"},
            {"ID": "bcc", "To": null, "Created": after, "Subject": "x"}
        ]
    });
    let app = axum::Router::new()
        .route("/api/v1/messages", get(move || async move { Json(list) }))
        .route(
            "/api/v1/message/{id}",
            get(|Path(id): Path<String>| async move {
                let link = match id.as_str() {
                    "new" => reset_link(),
                    other => format!("http://testserver/accounts/reset/MQ/{other}-stale-0000/"),
                };
                Json(serde_json::json!({
                    "ID": id,
                    "Subject": "Password reset on testserver",
                    "Text": format!("Please go to the following page and choose a new password:\n\n{link}\n"),
                    "HTML": ""
                }))
            }),
        );
    let base = serve(app).await;
    let redactor = Arc::new(Redactor::default());
    let url = MailboxUrl::parse(&format!("mailpit+{base}")).unwrap();
    let mailbox = Mailbox::open(&url, redactor.clone()).await.unwrap();
    assert_eq!(mailbox.smtp_addr(), None);
    let message = mailbox
        .wait_for("alice@example.org", since, Duration::from_secs(5))
        .await
        .expect("the reset e-mail");
    assert_eq!(message.subject, "Password reset on testserver");
    assert_eq!(message.links(), vec![reset_link()]);
    assert!(!redactor.text(&reset_link()).contains(TOKEN));
    assert_eq!(
        mailbox
            .wait_for("nobody@example.org", since, Duration::from_millis(300))
            .await,
        None
    );
}

#[tokio::test]
async fn a_mailhog_api_yields_the_reset_email_from_its_raw_message() {
    use axum::routing::get;
    use axum::Json;
    use base64::Engine;
    let since = SystemTime::now();
    let text = format!("Hi alice,\r\nreset here: {}\r\n", reset_link());
    let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    let html = format!("<p><a href=\"{}?next=/&amp;lang=en\">Reset</a></p>", reset_link());
    let raw = format!(
        "From: webmaster@testserver\r\nTo: alice@example.org\r\nSubject: =?utf-8?q?Password_reset_=E2=80=93_testserver?=\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n\
         --b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n--b1--\r\n"
    );
    let list = serde_json::json!({
        "total": 2, "count": 2, "start": 0,
        "items": [
            {"ID": "1@mailhog", "Created": rfc3339(since + Duration::from_secs(1)),
             "Raw": {"From": "webmaster@testserver", "To": ["alice@example.org"], "Data": raw, "Helo": "testserver"}},
            {"ID": "0@mailhog", "Created": rfc3339(since - Duration::from_secs(5)),
             "Raw": {"From": "webmaster@testserver", "To": ["alice@example.org"], "Data": "Subject: old\r\n\r\nold", "Helo": "x"}}
        ]
    });
    let app = axum::Router::new().route("/api/v2/messages", get(move || async move { Json(list) }));
    let base = serve(app).await;
    let redactor = Arc::new(Redactor::default());
    let url = MailboxUrl::parse(&format!("mailhog+{base}")).unwrap();
    let mailbox = Mailbox::open(&url, redactor.clone()).await.unwrap();
    let message = mailbox
        .wait_for("ALICE@example.org", since, Duration::from_secs(5))
        .await
        .expect("the reset e-mail");
    assert_eq!(message.subject, "Password reset – testserver");
    assert!(message.text.contains("Hi alice,"), "{}", message.text);
    assert_eq!(
        message.links(),
        vec![reset_link(), format!("{}?next=/&lang=en", reset_link())]
    );
    assert!(!redactor.text(&text).contains(TOKEN));
}

#[tokio::test]
async fn an_unreachable_catcher_holds_no_message() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let url = MailboxUrl::parse(&format!("mailpit+http://{addr}")).unwrap();
    let mailbox = Mailbox::open(&url, Arc::new(Redactor::default())).await.unwrap();
    let started = std::time::Instant::now();
    assert_eq!(
        mailbox
            .wait_for("alice@example.org", SystemTime::now(), Duration::from_millis(600))
            .await,
        None
    );
    assert!(started.elapsed() < Duration::from_secs(4));
}
