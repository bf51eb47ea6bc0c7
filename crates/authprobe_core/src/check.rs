//! The [`Check`] trait every check implements, and the catalog data it carries.

use async_trait::async_trait;

use crate::context::ScanContext;
use crate::finding::{Finding, Severity};
pub use crate::shared::Shared;

/// The report category a check belongs to; each gets its own sub-score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    Authentication,
    Jwt,
    Session,
    Tokens,
    RateLimiting,
    Transport,
    Web,
    Django,
    Authorization,
}

impl Family {
    pub const ALL: [Family; 9] = [
        Family::Authentication,
        Family::Jwt,
        Family::Session,
        Family::Tokens,
        Family::RateLimiting,
        Family::Transport,
        Family::Web,
        Family::Django,
        Family::Authorization,
    ];

    /// The stable category name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Family::Authentication => "authentication",
            Family::Jwt => "jwt",
            Family::Session => "session",
            Family::Tokens => "tokens",
            Family::RateLimiting => "rate-limiting",
            Family::Transport => "transport",
            Family::Web => "web",
            Family::Django => "django",
            Family::Authorization => "authorization",
        }
    }
}

/// What a check needs before it can run. A check whose requirement is missing is
/// reported as skipped with [`Requirement::missing_reason`], never silently passed.
///
/// Whether a check may POST is a separate matter ([`Check::sends_post`]): the `safe`
/// profile skips those, whatever their requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    /// Needs no credential and sends no request beyond discovery: it reads what the scan
    /// has already recorded.
    Passive,
    /// Needs no credential, but sends requests of its own (probes, token samples, bursts);
    /// when the scan has an identity it may send some of them as that identity.
    Active,
    /// Needs at least one authenticated identity (`--user` or `--bearer`).
    Identity,
    /// Needs an identity obtained through a login flow (`--user`), not just a token.
    LoginFlow,
    /// Needs two identities (`--user` twice).
    TwoIdentities,
}

impl Requirement {
    pub fn as_str(self) -> &'static str {
        match self {
            Requirement::Passive => "passive",
            Requirement::Active => "active",
            Requirement::Identity => "identity",
            Requirement::LoginFlow => "login flow",
            Requirement::TwoIdentities => "two identities",
        }
    }

    pub fn missing_reason(self) -> &'static str {
        match self {
            Requirement::Passive | Requirement::Active => "",
            Requirement::Identity => "needs an authenticated identity: pass --user NAME:PASSWORD or --bearer TOKEN",
            Requirement::LoginFlow => "needs a login flow: pass --user NAME:PASSWORD for an account on the target",
            Requirement::TwoIdentities => "needs two identities: pass --user twice (two different accounts)",
        }
    }
}

/// The shared results a check declares, as the catalog shows them: `jwt-families,
/// cracking`, or `-`.
pub fn shares_label(check: &dyn Check) -> String {
    let names: Vec<&str> = check.shares().iter().map(|s| s.name()).collect();
    if names.is_empty() {
        "-".into()
    } else {
        names.join(", ")
    }
}

/// Catalog data of one check. Codes are stable; slugs are the machine names.
#[derive(Debug)]
pub struct CheckMeta {
    pub code: &'static str,
    pub slug: &'static str,
    pub title: &'static str,
    /// The catalog severity; a finding may override it with another of the severities
    /// the check documents ([`Check::severities`]).
    pub severity: Severity,
    pub cwe: &'static [u32],
    /// OWASP API Security Top 10 (2023) categories, e.g. `API2:2023 Broken Authentication`.
    pub owasp: &'static [&'static str],
    pub requires: Requirement,
    pub family: Family,
}

/// The result of running one check.
#[derive(Debug)]
pub enum CheckOutcome {
    /// The check ran; an empty list means it passed.
    Ran(Vec<Finding>),
    /// The check could not decide (e.g. the oracle cannot tell valid from garbage
    /// credentials) or could not run; the reason is reported.
    Skipped(String),
}

impl CheckOutcome {
    pub fn passed() -> Self {
        CheckOutcome::Ran(Vec::new())
    }

    pub fn skipped(reason: impl Into<String>) -> Self {
        CheckOutcome::Skipped(reason.into())
    }
}

impl From<Vec<Finding>> for CheckOutcome {
    fn from(findings: Vec<Finding>) -> Self {
        CheckOutcome::Ran(findings)
    }
}

/// One check. Implementations live one per file in `authprobe_checks`; they never print
/// and send every request through [`ScanContext::probe`].
#[async_trait]
pub trait Check: Send + Sync {
    fn meta(&self) -> &'static CheckMeta;
    /// The check's documentation (its doc comment), in Markdown with the sections
    /// `What it does`, `Why is this bad?`, `Example`, `Remediation`, `References`.
    fn doc(&self) -> &'static str;
    async fn run(&self, cx: &ScanContext) -> CheckOutcome;

    /// Every severity the check's findings can have, least severe first: the catalog
    /// severity and those its findings override it with ([`Finding::with_severity`]).
    fn severities(&self) -> &'static [Severity] {
        std::slice::from_ref(&self.meta().severity)
    }

    /// Checks that provoke the target's defences (bursts of failed logins that trip rate
    /// limits and lockouts) run after every other check, so they cannot disturb them.
    fn runs_last(&self) -> bool {
        false
    }

    /// Checks that wait long on something other than the target (a token's expiry, offline
    /// cracking) or send a long chain of dependent requests: the engine starts them before
    /// the others of their stage, so the wait overlaps the others' requests.
    fn starts_first(&self) -> bool {
        false
    }

    /// Checks that must POST (to login or token endpoints) cannot run in the read-only
    /// `safe` profile; they are reported as skipped there.
    fn sends_post(&self) -> bool {
        false
    }

    /// Checks that change the test account itself (its password) run alone, after the
    /// ordinary checks (which log in with the original password) and before the bursts
    /// (which trip per-IP limits on token endpoints).
    fn changes_account(&self) -> bool {
        false
    }

    /// Write probes (PUT/PATCH/DELETE, POST outside the auth flows) run only with
    /// `--allow-writes` against a declared non-production target, and are reported as
    /// skipped otherwise. They run in a wave of their own after the account-changing
    /// checks, so the objects they create never meet the ordinary checks.
    fn writes(&self) -> bool {
        false
    }

    /// The shared results ([`Shared`]) this check reads. A read of one it did not declare
    /// (or that one of its declared results does not read) fails in debug builds.
    fn shares(&self) -> &'static [Shared] {
        &[]
    }
}

/// What a check needs, as the catalog shows it: its requirement, plus `--allow-writes`
/// for write probes.
pub fn requirement_label(check: &dyn Check) -> String {
    let requires = check.meta().requires.as_str();
    if check.writes() {
        format!("{requires} + --allow-writes")
    } else {
        requires.to_string()
    }
}

/// The severities a check documents, as the catalog shows them: `high`, or
/// `high/critical` for a check whose findings can be either.
pub fn severity_label(check: &dyn Check) -> String {
    let names: Vec<&str> = check.severities().iter().map(|s| s.as_str()).collect();
    names.join("/")
}

/// Returns the body of the `## NAME` section of a check's documentation, trimmed.
pub fn doc_section<'a>(doc: &'a str, name: &str) -> Option<&'a str> {
    let heading = format!("## {name}");
    let start = doc.lines().position(|l| l.trim_end() == heading)?;
    let mut offset = 0;
    let mut begin = None;
    let mut end = doc.len();
    for (i, line) in doc.split_inclusive('\n').enumerate() {
        if i == start + 1 {
            begin = Some(offset);
        }
        if i > start && line.starts_with("## ") {
            end = offset;
            break;
        }
        offset += line.len();
    }
    Some(doc[begin.unwrap_or(doc.len())..end].trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A check that documents `severities`, its catalog severity being `high`.
    struct Graded(&'static [Severity]);

    static GRADED: CheckMeta = CheckMeta {
        code: "TEST001",
        slug: "graded",
        title: "Graded",
        severity: Severity::High,
        cwe: &[1],
        owasp: &[],
        requires: Requirement::Active,
        family: Family::Web,
    };

    #[async_trait]
    impl Check for Graded {
        fn meta(&self) -> &'static CheckMeta {
            &GRADED
        }
        fn doc(&self) -> &'static str {
            ""
        }
        async fn run(&self, _: &ScanContext) -> CheckOutcome {
            CheckOutcome::passed()
        }
        fn severities(&self) -> &'static [Severity] {
            self.0
        }
    }

    /// The same check without a documented range.
    struct Plain;

    #[async_trait]
    impl Check for Plain {
        fn meta(&self) -> &'static CheckMeta {
            &GRADED
        }
        fn doc(&self) -> &'static str {
            ""
        }
        async fn run(&self, _: &ScanContext) -> CheckOutcome {
            CheckOutcome::passed()
        }
    }

    #[test]
    fn a_check_documents_its_catalog_severity_unless_it_lists_more() {
        assert_eq!(Plain.severities(), [Severity::High]);
        assert_eq!(severity_label(&Plain), "high");
        let graded = Graded(&[Severity::High, Severity::Critical]);
        assert_eq!(severity_label(&graded), "high/critical");
    }

    #[test]
    fn active_and_passive_checks_need_no_credential() {
        assert_eq!(Requirement::Active.as_str(), "active");
        assert_eq!(Requirement::Passive.missing_reason(), "");
        assert_eq!(Requirement::Active.missing_reason(), "");
    }

    #[test]
    fn doc_section_returns_the_text_between_headings() {
        let doc = "Intro\n## What it does\nLooks.\n\nTwice.\n## Remediation\nFix it.\n";
        assert_eq!(doc_section(doc, "What it does"), Some("Looks.\n\nTwice."));
        assert_eq!(doc_section(doc, "Remediation"), Some("Fix it."));
        assert_eq!(doc_section(doc, "References"), None);
    }
}
