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
    /// What the request was in the finding's story, as far as the scan can tell from whose
    /// credential it carried: `anonymous request`, `as alice (own credential)`, `forged
    /// credential`, `login as bob`, … (see [`Exchange::role`]). Absent in older reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// Characters of a request or response body shown in evidence (the `curl` keeps the whole
/// request body, to reproduce it).
pub const EVIDENCE_BODY_CHARS: usize = 1200;

/// The line that ends an evidence body cut at [`EVIDENCE_BODY_CHARS`] (or a response body
/// the record itself cut at [`RECORDED_BODY_LIMIT`]).
pub const TRUNCATED: &str = "\n[… body truncated]";

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
            let body = redactor.body(body);
            request.push_str(&excerpt(&body, EVIDENCE_BODY_CHARS));
            if body.chars().count() > EVIDENCE_BODY_CHARS {
                request.push_str(TRUNCATED);
            }
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
                    text.push_str(TRUNCATED);
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
            role: None,
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

/// Whether `exchange` got `value` back (in a header or the body). The first exchange of a
/// scan that did, if it came before the request that carried the value, is the one through
/// which the target issued it.
pub fn issuer(exchange: &Exchange, value: &str) -> bool {
    exchange
        .response
        .as_ref()
        .is_some_and(|r| r.body.contains(value) || r.headers.iter().any(|(_, v)| v.contains(value)))
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
    fn evidence_bodies_are_capped_with_a_marker() {
        let redactor = Redactor::default();
        let mut x = sample();
        let long = "x".repeat(EVIDENCE_BODY_CHARS + 500);
        x.request.body = Some(format!(r#"{{"note":"{long}"}}"#));
        x.response.as_mut().unwrap().body = long.clone();
        let evidence = x.evidence(&redactor);
        assert!(evidence.request.ends_with(TRUNCATED), "{}", evidence.request);
        assert!(evidence.response.ends_with(TRUNCATED), "{}", evidence.response);
        assert!(evidence.response.len() < EVIDENCE_BODY_CHARS + 200);
        assert!(evidence.curl.contains(&long), "the curl still reproduces the request");
        assert!(!sample().evidence(&redactor).request.contains("truncated"));
    }

    #[test]
    fn shell_quote_escapes_single_quotes() {
        assert_eq!(shell_quote("a'b"), r"'a'\''b'");
    }
}
