//! Browser-facing web checks: CORS, CSP, security headers.

pub mod cors_credentials;
pub mod csp_missing;
pub mod open_redirect;
pub mod security_headers;
