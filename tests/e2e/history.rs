//! Scan history and the dashboard: the store survives kill -9, keeps no secret, the
//! dashboard renders real scans in a real headless Chromium, escapes hostile findings,
//! defends itself, and the monitor sends signed alerts.

use crate::util::{alice_access_token, authprobe, repo_root, scan, tempfile, Server, Testbed, ALICE, BOB};
use authprobe_core::Severity;
use authprobe_store::fixtures::{finding, report};
use authprobe_store::{Retention, Store};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A fresh database path of this test's own.
fn fresh_db(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("authprobe-e2e-hist-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("history.db")
}

fn history_json(db: &Path) -> Vec<Value> {
    let run = authprobe(&["history", "--db", db.to_str().unwrap(), "--json", "--limit", "1000"]);
    assert_eq!(run.code, 0, "history failed: {}", run.stderr);
    serde_json::from_str::<Value>(&run.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// Every byte of the database and its journal files.
fn db_bytes(db: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let path = PathBuf::from(format!("{}{suffix}", db.display()));
        if let Ok(b) = std::fs::read(&path) {
            bytes.extend(b);
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn every_scan_is_saved_without_any_supplied_secret() {
    let bed = Testbed::shared("none", false);
    let token = alice_access_token(&bed);
    let db = fresh_db("secrets");
    let run = scan(&bed, &["--bearer", &token, "--db", db.to_str().unwrap()]);
    assert_eq!(run.code, 0, "scan failed: {}", run.stderr);
    let printed = run.report();

    let scans = history_json(&db);
    assert_eq!(scans.len(), 1);
    assert_eq!(scans[0]["target"], printed["target"]["url"]);
    assert_eq!(scans[0]["score"], printed["score"]);
    let id = scans[0]["id"].as_i64().unwrap().to_string();
    let shown = authprobe(&["show", &id, "--db", db.to_str().unwrap(), "--format", "json"]);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert_eq!(shown.report(), printed, "show returns the report the scan printed");

    // The table, filtered by the target as a user types it (no trailing slash).
    let table = authprobe(&["history", bed.url.trim_end_matches('/'), "--db", db.to_str().unwrap()]);
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(table.stdout.starts_with("   ID"), "{}", table.stdout);
    assert!(
        table.stdout.contains(bed.url.as_str()) && table.stdout.chars().any(|c| ('▁'..='█').contains(&c)),
        "{}",
        table.stdout
    );
    let other = authprobe(&["history", "http://elsewhere.test/", "--db", db.to_str().unwrap()]);
    assert!(
        other.stdout.is_empty() && other.stderr.contains("no stored scans"),
        "{}",
        other.stderr
    );

    let bytes = db_bytes(&db);
    assert!(bytes.len() > 4096, "the database holds the report");
    assert!(contains(&bytes, "/api/"), "the grep can see report text");
    for secret in ["alice-pass-1", "bob-pass-2", token.as_str()] {
        assert!(
            !contains(&bytes, secret),
            "the history database contains a supplied secret"
        );
    }
    // The token's signature alone is a secret too.
    let signature = token.rsplit('.').next().unwrap();
    assert!(
        !contains(&bytes, signature),
        "the history database contains the token's signature"
    );
}

#[test]
fn no_store_saves_nothing_and_an_unusable_db_fails_before_scanning() {
    let bed = Testbed::shared("none", false);
    let db = fresh_db("nostore");
    let run = scan(&bed, &["--no-store"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = authprobe(&["history", "--db", db.to_str().unwrap()]);
    assert_eq!(run.code, 0);
    assert!(run.stderr.contains("no stored scans"), "{}", run.stderr);

    let started = Instant::now();
    let run = scan(&bed, &["--db", "/proc/no/such/history.db"]);
    assert_eq!(run.code, 2, "an unusable database is an error: {}", run.stderr);
    assert!(run.stderr.contains("/proc/no/such"), "{}", run.stderr);
    assert!(
        run.stderr.contains("--no-store"),
        "the error says how to go on: {}",
        run.stderr
    );
    assert!(started.elapsed() < Duration::from_secs(3), "it failed before scanning");

    let run = authprobe(&["show", "0", "--db", db.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not a scan number"), "{}", run.stderr);
}

#[test]
fn retention_keeps_the_configured_number_of_scans() {
    let bed = Testbed::shared("none", false);
    let db = fresh_db("retention");
    let config = tempfile(&format!("[store]\npath = \"{}\"\nkeep = 2\n", db.display()));
    for _ in 0..3 {
        let run = authprobe(&[
            "scan",
            &bed.url,
            "--profile",
            "safe",
            "-q",
            "--config",
            config.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    // [store] keep applies whichever way the database was named.
    let scans = history_json(&db);
    assert_eq!(scans.len(), 2, "keep = 2 leaves two scans");
    assert!(scans[0]["id"].as_i64() > scans[1]["id"].as_i64());
    assert_eq!(scans[0]["id"], 3);
}

/// Spawns `authprobe` with its output captured.
fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_authprobe"))
        .args(args)
        .env("NO_COLOR", "1")
        // Never the developer's own history (~/.local/share/authprobe/history.db).
        .env("AUTHPROBE_DB", crate::util::test_db())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn authprobe")
}

#[test]
fn a_scan_killed_with_sigkill_leaves_the_history_intact_and_no_half_written_scan() {
    let bed = Testbed::shared("debug", false);
    let db = fresh_db("kill9");
    let db_arg = db.to_str().unwrap().to_string();
    let scan_args = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "scan", &bed.url, "--user", ALICE, "--user", BOB, "-f", "json", "--db", &db_arg,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    // The testbed's key is strong, so the cracker spends all of `--crack-time` on its
    // tokens: no scan can end sooner than that after its login, however fast the machine.
    let min_scan = Duration::from_secs(6);
    let args = scan_args(&["--crack-time", "6"]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let first = authprobe(&refs);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let full = first.elapsed;
    assert!(
        full >= min_scan,
        "the scan took {full:?}, less than its cracking budget"
    );
    assert_eq!(history_json(&db).len(), 1);

    // Killed well inside the scan (within its cracking budget): nothing of it may be stored.
    let mut child = spawn(&refs);
    std::thread::sleep(min_scan / 3);
    assert!(child.try_wait().unwrap().is_none(), "the scan ended before the kill");
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9));
    let scans = history_json(&db);
    assert_eq!(scans.len(), 1, "a killed scan left a row: {scans:?}");
    assert_eq!(scans[0]["id"], 1);

    // Killed around the moment of saving: whatever is stored is whole.
    for fraction in [0.9, 0.97, 1.0, 1.03] {
        let mut child = spawn(&refs);
        std::thread::sleep(full.mul_f64(fraction));
        let _ = child.kill();
        let _ = child.wait();
    }
    let mut store = Store::open(&db).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    let scans = store.scans(None, 100).unwrap();
    assert!(scans.iter().any(|s| s.id == 1), "the earlier scan survived");
    for summary in &scans {
        let stored = store.scan(summary.id).unwrap().expect("listed scan is readable");
        assert_eq!(
            stored.report.findings.len() as i64,
            summary.findings,
            "scan #{} is whole",
            summary.id
        );
        let categories = store.category_history(&summary.target, 100).unwrap();
        assert_eq!(
            categories.iter().filter(|c| c.scan_id == summary.id).count(),
            stored.report.categories.len(),
            "scan #{} has all its category rows",
            summary.id
        );
    }
}

fn serve(db: &Path, extra: &[&str], envs: &[(&str, &str)]) -> Server {
    crate::util::serve(db.to_str().unwrap(), extra, envs)
}

/// A minimal HTTP/1.1 client: (status, head, body).
fn http(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> (u16, String, String) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut stream = TcpStream::connect(host).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: {host}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head.to_string(), body.to_string())
}

fn get(url: &str) -> (u16, String, String) {
    http("GET", url, &[], "")
}

/// Headless Chromium; the browser tests fail loudly without it.
fn chromium() -> PathBuf {
    for candidate in [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ] {
        if Path::new(candidate).exists() {
            return PathBuf::from(candidate);
        }
    }
    panic!("Chromium is required for the dashboard browser tests: apt-get install chromium (.ci/run installs it)");
}

fn artifacts() -> PathBuf {
    let dir = repo_root().join("target/artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Loads `url` in headless Chromium, runs the page (scripts included, were there any),
/// and returns the DOM as the browser ended up with it.
fn browser_dom(url: &str) -> String {
    let profile = std::env::temp_dir().join(format!(
        "authprobe-e2e-chromium-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--virtual-time-budget=3000",
            &format!("--user-data-dir={}", profile.display()),
            "--dump-dom",
            url,
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run chromium");
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        dom.contains("</html>"),
        "chromium returned no document for {url}: {dom}"
    );
    dom
}

fn screenshot(url: &str, name: &str) -> PathBuf {
    let path = artifacts().join(name);
    let _ = std::fs::remove_file(&path);
    let profile = std::env::temp_dir().join(format!(
        "authprobe-e2e-chromium-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1280,1400",
            &format!("--user-data-dir={}", profile.display()),
            &format!("--screenshot={}", path.display()),
            url,
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run chromium");
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        out.status.success(),
        "chromium screenshot failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&path).expect("the screenshot was written");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "a real screenshot");
    path
}

fn rand_suffix() -> u64 {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
}

/// The first `href` in `dom` of an element with `class`.
fn href_of_class(dom: &str, class: &str) -> String {
    let marker = format!("class=\"{class}\" href=\"");
    let start = dom
        .find(&marker)
        .unwrap_or_else(|| panic!("no link of class {class} in:\n{dom}"))
        + marker.len();
    dom[start..start + dom[start..].find('"').unwrap()].replace("&amp;", "&")
}

#[test]
fn the_dashboard_renders_real_scans_in_headless_chromium_target_to_scan_to_diff() {
    let bed = Testbed::shared("weak_secret", false);
    let db = fresh_db("browser");
    let db_arg = db.to_str().unwrap();
    // Anonymous first, then logged in: the second scan finds the forgeable JWTs.
    for profile in ["safe", "standard"] {
        let mut args = vec!["scan", bed.url.as_str(), "--profile", profile, "-q", "--db", db_arg];
        if profile == "standard" {
            args.extend(["--user", ALICE, "--user", BOB]);
        }
        let run = authprobe(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let server = serve(&db, &[], &[]);

    let home = browser_dom(&format!("{}/", server.base));
    assert!(
        home.contains(bed.url.as_str()),
        "the targets list names the scanned target"
    );
    assert!(home.contains("class=\"grade "), "with its grade");
    assert!(home.contains("<svg class=\"spark\""), "and its trend");

    let target = browser_dom(&format!("{}{}", server.base, href_of_class(&home, "target-link")));
    assert!(target.contains("id=\"score-chart\""), "the target page draws the chart");
    assert_eq!(target.matches("class=\"score-dot\"").count(), 2, "one point per scan");
    assert!(target.contains("class=\"score-line\""), "joined by a line");
    assert!(target.contains("id=\"categories\""), "with the per-category trend");
    screenshot(
        &format!("{}{}", server.base, href_of_class(&home, "target-link")),
        "dashboard-target.png",
    );

    let scan_href = href_of_class(&target, "scan-link");
    let scan_page = browser_dom(&format!("{}{}", server.base, scan_href));
    let findings = scan_page.matches("<article class=\"finding\"").count();
    assert!(findings > 0, "the scan page lists its findings");
    assert!(
        scan_page.contains("JWT003"),
        "including the weak JWT secret the testbed has"
    );
    assert!(scan_page.contains("Remediation") && scan_page.contains("Evidence 1"));
    screenshot(&format!("{}{}", server.base, scan_href), "dashboard-scan.png");

    let diff_href = href_of_class(&scan_page, "diff-link");
    let diff = browser_dom(&format!("{}{}", server.base, diff_href));
    for section in ["diff-new", "diff-resolved", "diff-unchanged"] {
        assert!(diff.contains(&format!("id=\"{section}\"")), "the diff shows {section}");
    }
    // The safe scan logged in as nobody: the standard scan's JWT findings are new.
    let api: Value = serde_json::from_str(&get(&format!("{}/api{}", server.base, diff_href)).2).unwrap();
    let new = api["new"].as_array().unwrap();
    assert!(
        new.iter().any(|f| f["check"] == "JWT003"),
        "the diff API lists JWT003 as new: {new:?}"
    );
    assert!(
        diff.contains(&format!("New ({})", new.len())),
        "the page and the API agree"
    );
    screenshot(&format!("{}{}", server.base, diff_href), "dashboard-diff.png");
}

const SCRIPT_PAYLOAD: &str = "<script>document.title='XSS-SCRIPT';document.body.setAttribute('data-xss','1')</script>";
const IMG_PAYLOAD: &str =
    "\"><img src=x onerror=\"document.title='XSS-IMG';document.body.setAttribute('data-xss','1')\">";

#[test]
fn hostile_text_in_findings_is_shown_and_never_executed() {
    let db = fresh_db("xss");
    let target = format!("http://evil.test/{IMG_PAYLOAD}{SCRIPT_PAYLOAD}");
    {
        let mut store = Store::open(&db).unwrap();
        let hostile = |sev| {
            let mut f = finding(
                "WEB002",
                sev,
                &format!("/x{IMG_PAYLOAD}"),
                &format!("reflected {SCRIPT_PAYLOAD} and {IMG_PAYLOAD}"),
            );
            f.title = format!("title {SCRIPT_PAYLOAD}");
            f.remediation = format!("fix {IMG_PAYLOAD}");
            f.evidence[0].request = format!("GET /?q={SCRIPT_PAYLOAD}\nX-Test: {IMG_PAYLOAD}");
            f
        };
        let mut first = report(&target, 80, "2026-01-01T00:00:00Z", vec![hostile(Severity::Low)]);
        first.categories[0].name = format!("cat {SCRIPT_PAYLOAD}");
        store.save(&first, Retention::default()).unwrap();
        let mut second = report(
            &target,
            40,
            "2026-01-02T00:00:00Z",
            vec![hostile(Severity::Critical), hostile(Severity::High)],
        );
        second.findings[1].check = format!("X{IMG_PAYLOAD}");
        second.checks_skipped.push(authprobe_core::report::SkippedCheck {
            check: "AUTH005".into(),
            reason: SCRIPT_PAYLOAD.into(),
        });
        store.save(&second, Retention::default()).unwrap();
    }
    let server = serve(&db, &[], &[]);
    let pages = [
        "/".to_string(),
        format!("/target?url={}", url_encode(&target)),
        "/scan/1".into(),
        "/scan/2".into(),
        "/diff?from=1&to=2".into(),
    ];
    for page in &pages {
        let (status, head, body) = get(&format!("{}{page}", server.base));
        assert_eq!(status, 200, "{page}: {body}");
        assert!(
            head.to_lowercase()
                .contains("content-security-policy: default-src 'none'"),
            "{page}: strict CSP"
        );
        assert!(!body.contains("<script"), "{page}: a script element reached the HTML");
        assert!(!body.contains("<img"), "{page}: an img element reached the HTML");
        assert!(
            body.contains("&lt;script&gt;") || page == "/",
            "{page}: the payload is shown escaped"
        );

        // Run, a payload would rename the document and mark the body.
        let dom = browser_dom(&format!("{}{page}", server.base));
        let title = dom
            .split("<title>")
            .nth(1)
            .and_then(|t| t.split("</title>").next())
            .unwrap_or("");
        assert!(
            !title.starts_with("XSS-"),
            "{page}: a payload ran in Chromium (title {title})"
        );
        assert!(
            dom.contains("<body>"),
            "{page}: a payload ran in Chromium and marked the body"
        );
        assert!(
            !dom.contains("<script") && !dom.contains("<img"),
            "{page}: the browser built a hostile element"
        );
    }
    // A page that rebinds its own name to 127.0.0.1 is not loopback.
    let (status, _, _) = http(
        "GET",
        &format!("{}/api/targets", server.base),
        &[("Host", "evil.test:80")],
        "",
    );
    assert_eq!(status, 403, "DNS rebinding is refused");
    let port = server.base.rsplit(':').next().unwrap();
    let localhost = format!("localhost:{port}");
    assert_eq!(
        http(
            "GET",
            &format!("{}/api/targets", server.base),
            &[("Host", &localhost)],
            ""
        )
        .0,
        200
    );
    // The target URL is text, never a link to the target.
    let (_, _, body) = get(&format!("{}/", server.base));
    assert!(!body.contains("href=\"http://evil.test"), "target URLs are not links");
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn the_dashboard_guards_itself_token_csrf_and_configured_targets_only() {
    let db = fresh_db("guard");
    Store::open(&db)
        .unwrap()
        .save(
            &report("http://127.0.0.1:9/", 90, "2026-01-01T00:00:00Z", vec![]),
            Retention::default(),
        )
        .unwrap();

    // Beyond loopback, no token, no server.
    let run = authprobe(&["serve", "--db", db.to_str().unwrap(), "--bind", "0.0.0.0:0"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("AUTHPROBE_TOKEN"), "{}", run.stderr);
    let run = authprobe(&["serve", "--db", db.to_str().unwrap(), "--bind", "nonsense"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--bind"), "{}", run.stderr);

    // With a token, every page and API answer needs it.
    let token = "e2e-token-0123456789abcdef";
    let server = serve(&db, &[], &[("AUTHPROBE_TOKEN", token)]);
    let (status, head, _) = get(&format!("{}/", server.base));
    assert_eq!(status, 303);
    assert!(head.to_lowercase().contains("location: /login"), "{head}");
    assert_eq!(get(&format!("{}/api/targets", server.base)).0, 401);
    let wrong = [("Authorization", "Bearer e2e-token-0123456789abcdeX")];
    assert_eq!(http("GET", &format!("{}/api/targets", server.base), &wrong, "").0, 401);
    let right = format!("Bearer {token}");
    let auth = [("Authorization", right.as_str())];
    let (status, _, body) = http("GET", &format!("{}/api/targets", server.base), &auth, "");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("127.0.0.1:9"));

    // The login form: CSRF-protected, and the cookie it sets is not the token.
    let (_, _, form) = get(&format!("{}/login", server.base));
    let csrf = form
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let form_type = ("Content-Type", "application/x-www-form-urlencoded");
    let (status, _, _) = http(
        "POST",
        &format!("{}/login", server.base),
        &[form_type],
        &format!("csrf=bad&token={token}"),
    );
    assert_eq!(status, 403, "login without the CSRF token is refused");
    let (status, head, _) = http(
        "POST",
        &format!("{}/login", server.base),
        &[form_type],
        &format!("csrf={csrf}&token={token}"),
    );
    assert_eq!(status, 303);
    let cookie = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .expect("a session cookie")
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(!cookie.contains(token), "the cookie does not carry the token");
    let session = cookie.split(';').next().unwrap();
    let (status, _, body) = http("GET", &format!("{}/", server.base), &[("Cookie", session)], "");
    assert_eq!(status, 200);

    // Starting a scan: CSRF token required, and only for configured targets (none here).
    let scans = format!("{}/scans", server.base);
    let page_csrf = body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .map(|s| s.split('"').next().unwrap().to_string());
    assert!(page_csrf.is_none(), "no scan form without configured targets");
    let (status, _, _) = http(
        "POST",
        &scans,
        &[form_type, auth[0]],
        "csrf=nope&target=http%3A%2F%2F127.0.0.1%3A9%2F",
    );
    assert_eq!(status, 403);
    let (status, _, body) = http(
        "POST",
        &scans,
        &[form_type, auth[0]],
        &format!("csrf={csrf}&target=http%3A%2F%2F169.254.169.254%2F"),
    );
    assert_eq!(status, 403, "an unconfigured target is refused: {body}");
    assert!(body.contains("listed in the served configuration"), "{body}");

    // Bad input gets a clear answer, not a crash.
    assert_eq!(http("GET", &format!("{}/scan/abc", server.base), &auth, "").0, 400);
    assert_eq!(http("GET", &format!("{}/scan/999", server.base), &auth, "").0, 404);
    assert_eq!(
        http("GET", &format!("{}/api/diff?from=1", server.base), &auth, "").0,
        400
    );

    // The port is taken now.
    let port = server.base.rsplit(':').next().unwrap();
    let run = authprobe(&[
        "serve",
        "--db",
        db.to_str().unwrap(),
        "--bind",
        &format!("127.0.0.1:{port}"),
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("cannot listen"), "{}", run.stderr);
}

#[test]
fn a_configured_target_can_be_scanned_from_the_dashboard() {
    let bed = Testbed::shared("none", false);
    let db = fresh_db("uiscan");
    let config = tempfile(&format!(
        "[target]\nurl = \"{}\"\n[scan]\nmax_requests = 200\n",
        bed.url
    ));
    let server = serve(&db, &["--config", config.to_str().unwrap()], &[]);
    let (_, _, home) = get(&format!("{}/", server.base));
    let csrf = home
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .expect("a scan form")
        .split('"')
        .next()
        .unwrap();
    let body = format!("csrf={csrf}&target={}", url_encode(&bed.url));
    let (status, head, _) = http(
        "POST",
        &format!("{}/scans", server.base),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &body,
    );
    assert_eq!(status, 303, "{head}");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, _, body) = get(&format!("{}/api/targets", server.base));
        let v: Value = serde_json::from_str(&body).unwrap();
        if let Some(t) = v["targets"].as_array().and_then(|t| t.first()) {
            assert_eq!(t["target"], bed.url.as_str());
            assert_eq!(t["latest"]["grade"], "A", "the hardened testbed scans clean");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the scan started from the dashboard never landed"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn the_monitor_rescans_and_sends_a_signed_webhook_on_a_grade_drop() {
    let bed = Testbed::shared("debug", false);
    let db = fresh_db("monitor");
    // The target was fine last time.
    Store::open(&db)
        .unwrap()
        .save(
            &report(&bed.url, 100, "2026-01-01T00:00:00Z", vec![]),
            Retention::default(),
        )
        .unwrap();
    let receiver = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hook = format!("http://{}/hook", receiver.local_addr().unwrap());
    let secret = "e2e-webhook-secret";
    let config = tempfile(&format!(
        "[[monitor]]\ntarget = \"{}\"\ninterval = \"1h\"\nwebhook = \"{hook}\"\nwebhook_secret_env = \"E2E_HOOK_SECRET\"\n",
        bed.url
    ));
    let _server = serve(
        &db,
        &["--config", config.to_str().unwrap()],
        &[("E2E_HOOK_SECRET", secret)],
    );

    receiver.set_nonblocking(false).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (mut stream, _) = receiver.accept().unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = String::new();
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line.trim().is_empty() {
                break;
            }
            if let Some(v) = line.to_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            head.push_str(&line);
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body).unwrap();
        stream
            .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            .unwrap();
        let _ = tx.send((head, body));
    });
    let (head, body) = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the monitor sent a webhook");
    assert!(head.starts_with("POST /hook "), "{head}");
    let signature = head
        .lines()
        .find_map(|l| {
            l.to_lowercase()
                .strip_prefix("x-authprobe-signature:")
                .map(|s| s.trim().to_string())
        })
        .expect("a signature header");
    assert_eq!(
        signature,
        authprobe_server::sign(secret.as_bytes(), &body),
        "the HMAC matches the body"
    );
    assert_ne!(signature, authprobe_server::sign(b"another secret", &body));
    let alert: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(alert["target"], bed.url.as_str());
    assert_eq!(alert["previous_grade"], "A");
    assert_eq!(alert["grade_dropped"], true);
    assert_eq!(alert["previous_scan_id"], 1);
    assert!(!contains(&body, secret), "the secret is not in the alert");
    let new: Vec<&str> = alert["new_findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["check"].as_str().unwrap())
        .collect();
    assert!(new.contains(&"DJ001"), "the DEBUG page is a new high finding: {new:?}");
}

/// A hostile API: every answer is an HTML page whose headers and body carry script
/// payloads, so they end up in the findings' evidence of a real scan.
fn hostile_target() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut buf = [0u8; 8192];
                let _ = stream.read(&mut buf);
                let body = format!("<html><body><h1>{SCRIPT_PAYLOAD}</h1><a href=\"/next{IMG_PAYLOAD}\">{IMG_PAYLOAD}</a></body></html>");
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Debug: {SCRIPT_PAYLOAD}\r\nSet-Cookie: sessionid=x{}; Path=/\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    url_encode(IMG_PAYLOAD),
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes());
            });
        }
    });
    url
}

#[test]
fn payloads_a_scanned_target_returns_are_escaped_in_the_dashboard() {
    let target = hostile_target();
    let db = fresh_db("hostile");
    let run = authprobe(&[
        "scan",
        &target,
        "-f",
        "json",
        "-q",
        "--max-requests",
        "200",
        "--db",
        db.to_str().unwrap(),
    ]);
    assert!(run.code <= 1, "the scan ran: {}", run.stderr);
    let printed = run.stdout;
    assert!(
        printed.contains("<script>document.title") || printed.contains("\\u003cscript>document.title"),
        "the payload reached the findings (else this test proves nothing): {printed}"
    );
    let server = serve(&db, &[], &[]);
    for page in [
        "/".to_string(),
        "/scan/1".to_string(),
        format!("/target?url={}", url_encode(&target)),
    ] {
        let (status, _, body) = get(&format!("{}{page}", server.base));
        assert_eq!(status, 200, "{page}");
        assert!(
            !body.contains("<script") && !body.contains("<img"),
            "{page}: a payload reached the HTML"
        );
        let dom = browser_dom(&format!("{}{page}", server.base));
        let title = dom
            .split("<title>")
            .nth(1)
            .and_then(|t| t.split("</title>").next())
            .unwrap_or("");
        assert!(!title.starts_with("XSS-"), "{page}: a payload ran in Chromium");
        assert!(
            dom.contains("<body>"),
            "{page}: a payload ran in Chromium and marked the body"
        );
    }
    let (_, _, scan_page) = get(&format!("{}/scan/1", server.base));
    assert!(
        scan_page.contains("&lt;script&gt;document.title"),
        "the evidence shows the payload as text"
    );
}
