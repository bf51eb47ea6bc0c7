//! Shared results are explicit: a check reads one only if it declares it (directly, or
//! through a declared result that reads it), and it is computed once for all its readers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use authprobe_core::exchange::RecordedRequest;
use authprobe_core::probe::{ScriptedAnswer, Transport};
use authprobe_core::shared::{Declared, RUNNING};
use authprobe_core::{Check, CheckMeta, CheckOutcome, Family, Requirement, ScanContext, Severity, Shared};

static META: CheckMeta = CheckMeta {
    code: "TEST001",
    slug: "reads-cracking",
    title: "Reads a shared result",
    severity: Severity::Low,
    cwe: &[1],
    owasp: &[],
    requires: Requirement::Active,
    family: Family::Jwt,
};

/// A check that reads the issuers' tokens, declaring `declared`.
struct Reader(&'static [Shared]);

static COMPUTED: AtomicUsize = AtomicUsize::new(0);

#[async_trait]
impl Check for Reader {
    fn meta(&self) -> &'static CheckMeta {
        &META
    }
    fn doc(&self) -> &'static str {
        ""
    }
    async fn run(&self, cx: &ScanContext) -> CheckOutcome {
        let value: Arc<usize> = cx
            .shared(Shared::JwtIssuerTokens, || async {
                COMPUTED.fetch_add(1, Ordering::SeqCst)
            })
            .await;
        assert_eq!(*value, 0, "every reader gets the one computed value");
        CheckOutcome::passed()
    }
    fn shares(&self) -> &'static [Shared] {
        self.0
    }
}

static THROUGH_CRACKING: Reader = Reader(&[Shared::Cracking]);
static UNDECLARED: Reader = Reader(&[Shared::TokenSamples]);

fn declared(check: &Reader) -> Declared {
    Declared {
        code: check.meta().code,
        shares: check.shares(),
    }
}

async fn context() -> ScanContext {
    let transport: Arc<dyn Transport> =
        Arc::new(|_: &RecordedRequest| ScriptedAnswer::json(404, serde_json::json!({"detail": "Not found."})));
    ScanContext::for_fixture(transport, "", &[]).await
}

#[tokio::test]
async fn a_declared_result_is_computed_once_for_every_reader() {
    let cx = context().await;
    for _ in 0..3 {
        // Cracking reads the issuers' tokens: declaring it declares them.
        RUNNING
            .scope(declared(&THROUGH_CRACKING), THROUGH_CRACKING.run(&cx))
            .await;
    }
    assert_eq!(COMPUTED.load(Ordering::SeqCst), 1);
    assert_eq!(
        Shared::Cracking.with_inputs(),
        [Shared::Cracking, Shared::JwtIssuerTokens, Shared::JwtFamilies]
    );
}

#[tokio::test]
#[should_panic(expected = "TEST001 reads the shared result `jwt-issuer-tokens` without declaring it")]
async fn reading_an_undeclared_result_fails_in_debug_builds() {
    let cx = context().await;
    RUNNING.scope(declared(&UNDECLARED), UNDECLARED.run(&cx)).await;
}
