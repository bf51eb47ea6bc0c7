//! Sending finished reports to a dashboard: `authprobe scan … --upload URL` and
//! `authprobe upload FILE… --to URL`.
//!
//! The dashboard stores a report once by its `scan_id`, so every failure that might have
//! reached it (a timeout, a reset, a 5xx) is retried with growing pauses; a refusal that
//! will not change (a wrong token, a report it cannot read) is not. A report that could
//! not be delivered is written to disk and named, so nothing is lost: `authprobe upload`
//! sends it later.

use anyhow::{bail, Context, Result};
use clap::Args;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The variable holding the dashboard's upload token.
pub const TOKEN_VAR: &str = "AUTHPROBE_UPLOAD_TOKEN";

#[derive(Debug, Args)]
pub struct UploadArgs {
    /// Reports to send (`--format json` files, e.g. ones a failed `scan --upload` kept).
    #[arg(required = true, value_name = "REPORT")]
    pub reports: Vec<PathBuf>,

    /// The dashboard (its base URL, e.g. https://dash.example/). The token comes from
    /// AUTHPROBE_UPLOAD_TOKEN.
    #[arg(long, value_name = "URL", env = "AUTHPROBE_UPLOAD_URL")]
    pub to: String,

    /// Tries after the first one for a failure that may pass (pauses of 1 s, 2 s, 4 s, …).
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub retries: u32,
}

/// Where and how to upload.
#[derive(Clone)]
pub struct Uploader {
    /// `BASE/api/scans`.
    endpoint: url::Url,
    token: String,
    retries: u32,
    /// The first pause between tries; doubled after each.
    first_pause: Duration,
}

impl std::fmt::Debug for Uploader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Uploader")
            .field("endpoint", &self.endpoint.as_str())
            .finish()
    }
}

/// What the dashboard answered to a delivered report.
#[derive(Debug, serde::Deserialize)]
pub struct Receipt {
    pub id: i64,
    pub created: bool,
    #[serde(default)]
    pub url: Option<String>,
}

impl Uploader {
    /// Checks the URL and reads the token now, before any scan runs.
    pub fn new(base: &str, retries: u32) -> Result<Uploader> {
        let mut endpoint = url::Url::parse(base.trim())
            .with_context(|| format!("the upload URL `{base}` is not a URL (e.g. https://dash.example/)"))?;
        if !matches!(endpoint.scheme(), "http" | "https") || endpoint.host().is_none() {
            bail!("the upload URL `{base}` must be an http(s) URL with a host");
        }
        if !endpoint.path().ends_with('/') {
            let path = format!("{}/", endpoint.path());
            endpoint.set_path(&path);
        }
        let endpoint = endpoint.join("api/scans").expect("a relative path joins");
        let token = std::env::var(TOKEN_VAR)
            .ok()
            .filter(|t| !t.trim().is_empty())
            .with_context(|| format!("uploading needs the dashboard's upload token in {TOKEN_VAR}"))?;
        let first_pause = std::env::var("AUTHPROBE_UPLOAD_PAUSE_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map_or(Duration::from_secs(1), Duration::from_millis);
        Ok(Uploader {
            endpoint,
            token: token.trim().to_string(),
            retries,
            first_pause,
        })
    }

    /// The dashboard's base URL as given, for messages.
    pub fn dashboard(&self) -> String {
        self.endpoint.as_str().trim_end_matches("api/scans").to_string()
    }

    /// Sends one report (its JSON), retrying what may pass.
    pub async fn send(&self, json: &[u8]) -> Result<Receipt> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("authprobe/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot build the upload client")?;
        let mut pause = self.first_pause;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = client
                .post(self.endpoint.clone())
                .bearer_auth(&self.token)
                .header("content-type", "application/json")
                .body(json.to_vec())
                .send()
                .await;
            let error = match sent {
                Ok(resp) if resp.status().is_success() => {
                    let body = resp.bytes().await.context("the dashboard's answer was cut off")?;
                    return serde_json::from_slice(&body).context("the dashboard's answer is not a receipt");
                }
                Ok(resp) => {
                    let status = resp.status();
                    let retry_after = resp
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    let text = resp.text().await.unwrap_or_default();
                    let reason = serde_json::from_str::<serde_json::Value>(&text)
                        .ok()
                        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
                        .unwrap_or_else(|| text.chars().take(200).collect());
                    let message = format!("the dashboard answered {status}: {reason}");
                    // A refusal that a retry cannot change.
                    let may_pass = [
                        reqwest::StatusCode::TOO_MANY_REQUESTS,
                        reqwest::StatusCode::REQUEST_TIMEOUT,
                    ];
                    if status.is_client_error() && !may_pass.contains(&status) {
                        bail!(message);
                    }
                    if let Some(wait) = retry_after {
                        pause = pause.max(wait.min(Duration::from_secs(60)));
                    }
                    message
                }
                Err(e) if e.is_connect() => format!("cannot connect to {}: {e}", self.dashboard()),
                Err(e) => format!("the upload failed: {e}"),
            };
            if attempt > self.retries {
                bail!("{error} (after {attempt} tries)");
            }
            eprintln!("upload: {error}; trying again in {:.1} s", pause.as_secs_f64());
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(60));
        }
    }
}

/// Writes a report that could not be delivered to `dir`, named by its scan id.
pub fn keep_on_disk(json: &[u8], scan_id: &str, dir: &Path) -> Result<PathBuf> {
    let name: String = scan_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let path = dir.join(format!("authprobe-unsent-{name}.json"));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(&path, json).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// `authprobe upload`: sends each report; those that fail stay where they are.
pub fn run(args: UploadArgs) -> Result<std::process::ExitCode> {
    let uploader = Uploader::new(&args.to, args.retries)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let mut failed = 0;
    for path in &args.reports {
        let json = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let report: authprobe_core::Report = serde_json::from_slice(&json)
            .with_context(|| format!("{} is not an authprobe JSON report", path.display()))?;
        if report.scan_id.is_none() {
            bail!(
                "{} has no scan_id (it was made by an authprobe older than uploads); rescan to upload",
                path.display()
            );
        }
        match runtime.block_on(uploader.send(&json)) {
            Ok(receipt) => eprintln!("{}: {}", path.display(), describe(&receipt, &uploader)),
            Err(e) => {
                failed += 1;
                eprintln!("error: {}: {e:#}; the file is left as it is", path.display());
            }
        }
    }
    Ok(if failed == 0 {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(2)
    })
}

/// `uploaded as #12 to https://dash/ (https://dash/scan/12)`, or `already there`.
pub fn describe(receipt: &Receipt, uploader: &Uploader) -> String {
    let base = uploader.dashboard();
    let link = receipt
        .url
        .as_deref()
        .map(|u| format!(" ({}{})", base.trim_end_matches('/'), u))
        .unwrap_or_default();
    if receipt.created {
        format!("uploaded as #{} to {base}{link}", receipt.id)
    } else {
        format!("already on {base} as #{}{link}", receipt.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_urls_point_at_the_api_whatever_the_trailing_slash() {
        std::env::set_var(TOKEN_VAR, "t0k3n-for-unit-tests-only");
        for base in ["http://127.0.0.1:9/", "http://127.0.0.1:9"] {
            let u = Uploader::new(base, 0).unwrap();
            assert_eq!(u.endpoint.as_str(), "http://127.0.0.1:9/api/scans");
        }
        let u = Uploader::new("https://dash.example/authprobe", 0).unwrap();
        assert_eq!(u.endpoint.as_str(), "https://dash.example/authprobe/api/scans");
        assert!(Uploader::new("ftp://x/", 0).is_err());
        assert!(Uploader::new("not a url", 0).is_err());
        assert!(!format!("{u:?}").contains("t0k3n"));
    }

    #[test]
    fn kept_reports_are_named_by_their_scan_id_only() {
        let dir = std::env::temp_dir().join(format!("authprobe-keep-{}", std::process::id()));
        let path = keep_on_disk(b"{}", "../../etc/x-1234", &dir).unwrap();
        assert_eq!(path, dir.join("authprobe-unsent-etcx-1234.json"));
        let _ = std::fs::remove_dir_all(dir);
    }
}
