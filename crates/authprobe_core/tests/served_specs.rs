//! Issue 27, class 1: the spec a target serves is read wherever it is — at another
//! framework's default location (NestJS `/api-json`), or named only by a docs page
//! (Swagger UI's init script) — and its declared flows join the scan.

use std::sync::Arc;

use authprobe_core::exchange::RecordedRequest;
use authprobe_core::probe::{ScriptedAnswer, Transport};
use authprobe_core::ScanContext;
use serde_json::json;

/// A NestJS-style spec declaring a JSON login at a path no guessed list has.
fn spec() -> serde_json::Value {
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Shop", "version": "1"},
        "paths": {
            "/v1/accounts/authenticate-user": {"post": {
                "operationId": "AuthController_login",
                "requestBody": {"content": {"application/json": {"schema": {
                    "type": "object",
                    "properties": {"email": {"type": "string"}, "password": {"type": "string"}}
                }}}}
            }},
            "/v1/orders": {"get": {"security": [{"bearer": []}]}}
        },
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}
    })
}

/// Serves the spec at `spec_path`; `/docs` is a Swagger UI page naming `docs_names`.
fn api(spec_path: &'static str, docs_names: Option<&'static str>) -> Arc<dyn Transport> {
    Arc::new(move |req: &RecordedRequest| {
        let path = url::Url::parse(&req.url).unwrap().path().to_string();
        match (req.method.as_str(), path.as_str()) {
            ("GET", p) if p == spec_path => ScriptedAnswer::json(200, spec()),
            ("GET", "/docs") if docs_names.is_some() => ScriptedAnswer::new(200)
                .header("Content-Type", "text/html; charset=utf-8")
                .body(&format!(
                    "<!doctype html><html><body><div id=swagger-ui></div><script>\
                     window.ui = SwaggerUIBundle({{ url: \"{}\", dom_id: '#swagger-ui' }});\
                     </script></body></html>",
                    docs_names.unwrap()
                )),
            _ => ScriptedAnswer::json(404, json!({"statusCode": 404, "message": "Cannot GET"})),
        }
    })
}

fn spec_login(cx: &ScanContext) -> bool {
    cx.flows
        .login
        .iter()
        .any(|f| f.path() == "/v1/accounts/authenticate-user")
}

#[tokio::test]
async fn a_spec_at_another_frameworks_default_location_is_read() {
    let cx = ScanContext::for_fixture(api("/api-json", None), "", &[]).await;
    assert!(cx.spec.is_some(), "the spec at /api-json was not read");
    assert!(spec_login(&cx), "its login was not taken: {:?}", cx.flows.info());
}

#[tokio::test]
async fn a_spec_named_only_by_a_docs_page_is_read() {
    let cx = ScanContext::for_fixture(api("/internal/spec-v1.json", Some("/internal/spec-v1.json")), "", &[]).await;
    let spec = cx.spec.as_ref().expect("the spec the docs page names was not read");
    assert!(spec.source.ends_with("/internal/spec-v1.json"), "{}", spec.source);
    assert!(spec_login(&cx), "its login was not taken: {:?}", cx.flows.info());
}

#[tokio::test]
async fn a_docs_page_naming_another_origins_spec_is_not_followed() {
    let cx = ScanContext::for_fixture(
        api("/nowhere.json", Some("https://petstore.swagger.io/v2/swagger.json")),
        "",
        &[],
    )
    .await;
    assert!(cx.spec.is_none());
    assert!(!cx.probe.exchanges().iter().any(|x| x.request.url.contains("petstore")));
}
