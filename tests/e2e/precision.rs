//! Precision on servers that are not the testbed: a catch-all that answers every path and
//! method alike must not look like an API with token endpoints.

use crate::util::{authprobe, found_codes};
use std::io::{Read, Write};
use std::net::TcpListener;

/// A server answering every request with the same status and JSON body.
fn uniform_server(status: &'static str, body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                let _ = stream.read(&mut buf);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nWWW-Authenticate: Bearer realm=\"api\"\r\nX-Content-Type-Options: nosniff\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    url
}

#[test]
fn a_catch_all_server_yields_no_findings() {
    let url = uniform_server("200 OK", r#"{"status":"ok","links":{"me":"/api/me/"}}"#);
    let run = authprobe(&["scan", &url, "--format", "json", "-q"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.report();
    assert!(
        found_codes(&report).is_empty(),
        "false positives: {}",
        report["findings"]
    );
    assert_eq!(
        report["stats"]["endpoints"], 1,
        "catch-all answers are not endpoints: {}",
        report["endpoints"]
    );
}

#[test]
fn a_server_that_refuses_everything_yields_no_findings() {
    let url = uniform_server(
        "401 Unauthorized",
        r#"{"detail":"Authentication credentials were not provided."}"#,
    );
    let run = authprobe(&[
        "scan",
        &url,
        "--bearer",
        "abcdefghijklmnopqrstuvwxyz",
        "--format",
        "json",
        "-q",
    ]);
    // The token never authenticated: nothing was tested with it, so the gate cannot pass.
    assert_eq!(run.code, 2, "{}", run.stderr);
    let report = run.report();
    assert!(
        found_codes(&report).is_empty(),
        "false positives: {}",
        report["findings"]
    );
    assert_eq!(report["incomplete"], true);
    assert_eq!(report["identities"][0]["logged_in"], false);
}
