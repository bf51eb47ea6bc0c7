//! `/api/…`: the dashboard's data as JSON.

use axum::extract::{Path, Query, State};
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;

use crate::pages::{load_diff, DiffQuery};
use crate::{parse_id, AppError, AppState};

pub async fn targets(State(state): State<Arc<AppState>>) -> Result<Json<Value>, AppError> {
    let targets = state.with_store(|store| store.targets()).await?;
    Ok(Json(json!({ "targets": targets })))
}

#[derive(serde::Deserialize)]
pub struct TargetApiQuery {
    pub url: Option<String>,
    /// Newest scans returned (default 100, at most 1000).
    pub limit: Option<usize>,
}

pub async fn target(
    State(state): State<Arc<AppState>>,
    Query(q): Query<TargetApiQuery>,
) -> Result<Json<Value>, AppError> {
    let url = q.url.ok_or_else(|| AppError::BadRequest("give ?url=TARGET".into()))?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let key = url.clone();
    let (scans, categories) = state
        .with_store(move |store| Ok((store.scans(Some(&key), limit)?, store.category_history(&key, limit)?)))
        .await?;
    if scans.is_empty() {
        return Err(AppError::NotFound(format!("no stored scan of {url}")));
    }
    Ok(Json(json!({ "target": url, "scans": scans, "categories": categories })))
}

pub async fn scan(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Result<Json<Value>, AppError> {
    let id = parse_id(&id)?;
    let scan = state.with_store(move |store| store.scan(id)).await?;
    let scan = scan.ok_or_else(|| AppError::NotFound(format!("no scan #{id}")))?;
    Ok(Json(
        json!({ "id": scan.summary.id, "summary": scan.summary, "report": scan.report }),
    ))
}

pub async fn diff(State(state): State<Arc<AppState>>, Query(q): Query<DiffQuery>) -> Result<Json<Value>, AppError> {
    let (a, b, d) = load_diff(&state, &q).await?;
    Ok(Json(json!({
        "from": a.summary,
        "to": b.summary,
        "new": d.new,
        "resolved": d.resolved,
        "unchanged": d.unchanged,
    })))
}
