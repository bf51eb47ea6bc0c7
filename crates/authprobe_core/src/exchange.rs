//! Recorded request/response pairs: the evidence every finding points at.

use serde::{Deserialize, Serialize};

use crate::redact::Redactor;

/// Index of an exchange in the probe's record (stable for the scan).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ExchangeId(pub usize);

/// Bytes of a body kept in the record; evidence shows a shorter excerpt.
pub const RECORDED_BODY_LIMIT: usize = 16 * 1024;

#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

#[derive(Debug, Clone)]
pub struct RecordedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The first [`RECORDED_BODY_LIMIT`] bytes, decoded lossily.
    pub body: String,
    pub body_truncated: bool,
}

/// One request and what came back (or the error that came instead, or beside a response
/// whose body was cut at the size limit or ended early).
#[derive(Debug, Clone)]
pub struct Exchange {
    pub id: ExchangeId,
    pub request: RecordedRequest,
    pub response: Option<RecordedResponse>,
    pub error: Option<String>,
    pub elapsed_ms: u64,
    /// Whether certificate verification was off (`--insecure`), so the curl gets `-k`.
    pub insecure: bool,
}

/// Evidence as written into reports: redacted text and a reproducing `curl`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Evidence {
    pub request: String,
    pub response: String,
    pub curl: String,
}

/// Characters of a response body shown in evidence.
const EVIDENCE_BODY_CHARS: usize = 1200;

impl Exchange {
    /// Renders the exchange as redacted evidence.
    pub fn evidence(&self, redactor: &Redactor) -> Evidence {
        let req = &self.request;
        let mut request = format!("{} {}\n", req.method, redactor.text(&req.url));
        for (name, value) in &req.headers {
            request.push_str(&format!("{name}: {}\n", redactor.header_value(name, value)));
        }
        if let Some(body) = &req.body {
            request.push('\n');
            request.push_str(&redactor.body(body));
        }
        let response = match (&self.response, &self.error) {
            (Some(resp), _) => {
                let mut text = format!("HTTP {}\n", resp.status);
                for (name, value) in &resp.headers {
                    text.push_str(&format!("{name}: {}\n", redactor.header_value(name, value)));
                }
                text.push('\n');
                let body = redactor.body(&resp.body);
                text.push_str(&excerpt(&body, EVIDENCE_BODY_CHARS));
                if resp.body_truncated || body.chars().count() > EVIDENCE_BODY_CHARS {
                    text.push_str("\n[… body truncated]");
                }
                text
            }
            (None, Some(err)) => format!("(no response: {err})"),
            (None, None) => "(no response)".to_string(),
        };
        Evidence {
            request: request.trim_end().to_string(),
            response: response.trim_end().to_string(),
            curl: self.curl(redactor),
        }
    }

    /// A `curl` command that reproduces the request, secrets replaced by placeholders.
    pub fn curl(&self, redactor: &Redactor) -> String {
        let req = &self.request;
        let mut parts = vec!["curl -i".to_string()];
        if self.insecure {
            parts.push("-k".into());
        }
        match req.method.as_str() {
            "GET" => {}
            "HEAD" => parts.push("-I".into()),
            other => parts.push(format!("-X {other}")),
        }
        parts.push(shell_quote(&redactor.text(&req.url)));
        for (name, value) in &req.headers {
            let value = redactor.header_value(name, value);
            parts.push(format!("-H {}", shell_quote(&format!("{name}: {value}"))));
        }
        if let Some(body) = &req.body {
            parts.push(format!("--data-raw {}", shell_quote(&redactor.body(body))));
        }
        parts.join(" ")
    }
}

fn excerpt(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

/// Quotes a string for a POSIX shell with single quotes.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Exchange {
        Exchange {
            id: ExchangeId(0),
            request: RecordedRequest {
                method: "POST".into(),
                url: "https://api.test/api/token/".into(),
                headers: vec![("content-type".into(), "application/json".into())],
                body: Some(r#"{"username":"alice","password":"it's-secret"}"#.into()),
            },
            response: Some(RecordedResponse {
                status: 200,
                headers: vec![],
                body: r#"{"access":"eyJhbGciOi.abc.def"}"#.into(),
                body_truncated: false,
            }),
            error: None,
            elapsed_ms: 3,
            insecure: true,
        }
    }

    #[test]
    fn curl_reproduces_the_request_without_the_password() {
        let redactor = Redactor::default();
        redactor.add_secret("it's-secret");
        let curl = sample().curl(&redactor);
        assert!(curl.starts_with("curl -i -k -X POST 'https://api.test/api/token/'"));
        assert!(!curl.contains("it's-secret"), "{curl}");
        assert!(curl.contains("[redacted:"), "{curl}");
    }

    #[test]
    fn evidence_redacts_tokens_in_response_bodies() {
        let redactor = Redactor::default();
        let evidence = sample().evidence(&redactor);
        assert!(
            !evidence.response.contains("eyJhbGciOi.abc.def"),
            "{}",
            evidence.response
        );
    }

    #[test]
    fn secrets_in_the_url_are_redacted_in_evidence_and_curl() {
        let redactor = Redactor::default();
        redactor.add_secret("tok-123456789");
        let mut x = sample();
        x.request.url = "https://api.test/api/me/?access_token=tok-123456789".into();
        let evidence = x.evidence(&redactor);
        assert!(!evidence.request.contains("tok-123456789"), "{}", evidence.request);
        assert!(!evidence.curl.contains("tok-123456789"), "{}", evidence.curl);
    }

    #[test]
    fn shell_quote_escapes_single_quotes() {
        assert_eq!(shell_quote("a'b"), r"'a'\''b'");
    }
}
