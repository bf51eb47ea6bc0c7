//! Transport security checks: HTTPS, HSTS, cookie flags.

pub mod cookie_flags;
pub mod credentials_over_http;
pub mod hsts;
pub mod https_redirect;

use authprobe_core::ScanContext;
use url::Url;

/// The plain-HTTP URL to test for `path`, or why there is none.
///
/// An `http://` target is itself the plain-HTTP origin. A loopback `http://` target is a
/// local development server: transport checks would only restate that, so they skip.
pub(crate) fn plain_http_url(cx: &ScanContext, path: &str) -> Result<Url, String> {
    if !cx.target.is_https() {
        if cx.target.is_loopback() {
            return Err(LOOPBACK_HTTP.to_string());
        }
        return cx.target.join(path).ok_or_else(|| "cannot build the URL".to_string());
    }
    let base = cx.target.http_url.as_ref().ok_or(
        "the HTTPS target is on a non-default port, so its plain-HTTP origin is unknown; set `http_url` under [target] in the config",
    )?;
    base.join(path).map_err(|e| e.to_string())
}

pub(crate) const LOOPBACK_HTTP: &str =
    "the target is a plain-HTTP loopback address (a local development server); scan the HTTPS deployment to test transport security";
