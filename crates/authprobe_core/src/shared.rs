//! Results several checks share, computed once per scan ([`Shared`]), and the declaration
//! of the check that is running, which reads of them are held to.

/// A result several checks share, computed once per scan by the first check that needs
/// it and read by the others: an explicit phase of the scan, declared by every check that
/// reads it ([`Check::shares`]) so the catalog and the docs show which check needs which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Shared {
    /// The tokens every JWT issuer (token login flow) gave the first two accounts.
    JwtIssuerTokens,
    /// The JWT families: each issuer with its tokens and the endpoint that verifies them.
    JwtFamilies,
    /// Offline cracking of every signed value of the scan (JWTs, Django-signed cookies).
    Cracking,
    /// Token samples (session ids, keys, tokens collected by repeated requests) and their
    /// statistical analysis.
    TokenSamples,
    /// Bursts of failed logins at every login flow.
    LoginBursts,
    /// Bursts at the refresh, verify and password-reset endpoints.
    TokenBursts,
    /// JSON endpoints opened as a browser opens them.
    BrowserViews,
    /// The endpoint and baselines that judge a replayed session cookie.
    SessionOracle,
}

impl Shared {
    pub const ALL: [Shared; 8] = [
        Shared::JwtIssuerTokens,
        Shared::JwtFamilies,
        Shared::Cracking,
        Shared::TokenSamples,
        Shared::LoginBursts,
        Shared::TokenBursts,
        Shared::BrowserViews,
        Shared::SessionOracle,
    ];

    /// The name the catalog shows.
    pub fn name(self) -> &'static str {
        match self {
            Shared::JwtIssuerTokens => "jwt-issuer-tokens",
            Shared::JwtFamilies => "jwt-families",
            Shared::Cracking => "cracking",
            Shared::TokenSamples => "token-samples",
            Shared::LoginBursts => "login-bursts",
            Shared::TokenBursts => "token-bursts",
            Shared::BrowserViews => "browser-views",
            Shared::SessionOracle => "session-oracle",
        }
    }

    /// The shared results computing this one reads in turn.
    pub fn reads(self) -> &'static [Shared] {
        match self {
            Shared::JwtFamilies => &[Shared::JwtIssuerTokens],
            Shared::Cracking => &[Shared::JwtIssuerTokens, Shared::JwtFamilies],
            _ => &[],
        }
    }

    /// This result and every one it reads, transitively.
    pub fn with_inputs(self) -> Vec<Shared> {
        let mut out = vec![self];
        let mut i = 0;
        while i < out.len() {
            for input in out[i].reads() {
                if !out.contains(input) {
                    out.push(*input);
                }
            }
            i += 1;
        }
        out
    }
}

/// What the running check declared, set by the engine around its `run`: its code and the
/// shared results it reads.
#[derive(Debug, Clone, Copy)]
pub struct Declared {
    pub code: &'static str,
    pub shares: &'static [Shared],
}

tokio::task_local! {
    /// The declaration of the check whose `run` is being polled (set by the engine).
    pub static RUNNING: Declared;
}
