//! authprobe's checks: one file per check, grouped by family. [`registry::ALL`] lists them.
//!
//! A check is declared with [`declare_check!`]: its doc comment *is* its documentation
//! (shown by `authprobe explain` and generated into `docs/checks/`), with the sections
//! `What it does`, `Why is this bad?`, `Example`, `Remediation`, `References`.

pub mod docs;
pub mod registry;
pub mod support;

pub mod authentication;
pub mod authorization;
pub mod django;
pub mod jwt;
pub mod ratelimit;
pub mod session;
pub mod tokens;
pub mod transport;
pub mod web;

pub use registry::{all, by_code, ALL};

/// Declares a check: a unit struct with its doc comment and [`authprobe_core::CheckMeta`],
/// implementing [`authprobe_core::Check`] by calling the struct's inherent
/// `async fn check(&self, cx: &ScanContext) -> CheckOutcome`. Optional clauses follow the
/// meta, in this order:
/// - `severities = [Severity::High, Severity::Critical];` every severity the check's findings
///   can have, least severe first, for checks that override the catalog severity
///   ([`authprobe_core::Check::severities`]; a unit test holds each check file to it);
/// - `sends_post = true;` marks checks the read-only `safe` profile must skip;
/// - `changes_account = true;`, `writes = true;` and `runs_last = true;` put the check in a
///   later stage ([`authprobe_core::Check::runs_last`] and its neighbours);
/// - `starts_first = true;` starts a check that waits long before the others of its stage
///   ([`authprobe_core::Check::starts_first`]);
/// - `shares = [JwtFamilies, Cracking];` the results shared with other checks that this
///   one reads ([`authprobe_core::Check::shares`], [`authprobe_core::Shared`]).
#[macro_export]
macro_rules! declare_check {
    ($(#[doc = $doc:expr])* pub struct $name:ident; meta = $meta:expr; $(severities = [$($severity:expr),+ $(,)?];)? $(sends_post = $post:literal;)? $(changes_account = $changes:literal;)? $(writes = $writes:literal;)? $(runs_last = $last:literal;)? $(starts_first = $first:literal;)? $(shares = [$($shared:ident),+ $(,)?];)?) => {
        $(#[doc = $doc])*
        pub struct $name;

        impl $name {
            pub const META: authprobe_core::CheckMeta = $meta;
            const RAW_DOC: &'static str = concat!($($doc, "\n"),*);
        }

        #[async_trait::async_trait]
        impl authprobe_core::Check for $name {
            fn meta(&self) -> &'static authprobe_core::CheckMeta {
                &Self::META
            }

            fn doc(&self) -> &'static str {
                static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
                DOC.get_or_init(|| $crate::support::unindent_doc(Self::RAW_DOC))
            }

            async fn run(&self, cx: &authprobe_core::ScanContext) -> authprobe_core::CheckOutcome {
                self.check(cx).await
            }

            $(
                fn severities(&self) -> &'static [authprobe_core::Severity] {
                    &[$($severity),+]
                }
            )?

            $(
                fn sends_post(&self) -> bool {
                    $post
                }
            )?

            $(
                fn changes_account(&self) -> bool {
                    $changes
                }
            )?

            $(
                fn writes(&self) -> bool {
                    $writes
                }
            )?

            $(
                fn runs_last(&self) -> bool {
                    $last
                }
            )?

            $(
                fn starts_first(&self) -> bool {
                    $first
                }
            )?

            $(
                fn shares(&self) -> &'static [authprobe_core::Shared] {
                    &[$(authprobe_core::Shared::$shared),+]
                }
            )?
        }
    };
}
