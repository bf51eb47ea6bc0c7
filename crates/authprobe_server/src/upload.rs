//! `POST /api/scans`: reports uploaded by `authprobe scan --upload` from CI runners and
//! other machines.
//!
//! The upload token (`AUTHPROBE_UPLOAD_TOKEN` on the dashboard) only lets a runner add
//! reports; it reads nothing. Uploads are idempotent by the report's `scan_id` (a UUID),
//! so a runner that retries after a lost answer never stores a scan twice: the first
//! upload answers 201, every later one 200 with the same id.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::sync::Arc;

use crate::security::constant_time_eq;
use crate::AppState;

/// The largest report accepted (a scan of a 10,000-operation spec is a few MB).
pub const MAX_UPLOAD_BYTES: usize = 64 * 1024 * 1024;

fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    let mut response = (status, Json(json!({ "error": message.into() }))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
    }
    response
}

/// The refusal, unless `headers` carry the upload token as `Authorization: Bearer …`.
fn refusal(state: &AppState, headers: &HeaderMap) -> Option<Response> {
    let Some(expected) = &state.config.upload_token else {
        return Some(refuse(
            StatusCode::FORBIDDEN,
            "uploads are off on this dashboard: start it with AUTHPROBE_UPLOAD_TOKEN set",
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(given) if constant_time_eq(given, expected) => None,
        Some(_) => Some(refuse(StatusCode::UNAUTHORIZED, "the upload token is wrong")),
        None => Some(refuse(
            StatusCode::UNAUTHORIZED,
            "an upload needs Authorization: Bearer AUTHPROBE_UPLOAD_TOKEN",
        )),
    }
}

/// Stores an uploaded report once.
pub async fn upload(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refused) = refusal(&state, &headers) {
        return refused;
    }
    let report: authprobe_core::Report = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, format!("not an authprobe report: {e}")),
    };
    if report.schema != authprobe_core::report::SCHEMA {
        return refuse(
            StatusCode::BAD_REQUEST,
            format!(
                "report schema `{}` is not {}",
                report.schema,
                authprobe_core::report::SCHEMA
            ),
        );
    }
    let Some(scan_id) = report.scan_id.clone().filter(|id| uuid::Uuid::parse_str(id).is_ok()) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "the report has no scan_id UUID (made by an authprobe older than uploads?)",
        );
    };
    if authprobe_core::config::Target::parse(&report.target.url).is_err() {
        return refuse(StatusCode::BAD_REQUEST, "the report's target.url is not a URL");
    }
    let retention = state.config.retention;
    let key = scan_id.clone();
    let saved = state
        .with_store(move |store| store.save_identified(&report, &key, retention))
        .await;
    match saved {
        Ok(saved) => {
            let status = if saved.created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            let body = json!({
                "id": saved.id,
                "scan_id": scan_id,
                "created": saved.created,
                "url": format!("/scan/{}", saved.id),
            });
            (status, Json(body)).into_response()
        }
        Err(e) => refuse(StatusCode::SERVICE_UNAVAILABLE, format!("cannot store the report: {e}")),
    }
}
