//! authprobe's scan engine.
//!
//! Data flows one way: the CLI builds a [`ScanConfig`], the [`engine`] discovers endpoints and
//! logs identities in through the single [`Probe`], runs every registered [`Check`] against the
//! shared [`ScanContext`], and turns their [`Finding`]s into a scored [`Report`]. Emitters (in
//! `authprobe_report`) only ever see the finished report.

pub mod auth;
pub mod baseline;
pub mod check;
pub mod config;
pub mod context;
pub mod cookies;
pub mod discovery;
pub mod engine;
pub mod exchange;
pub mod exchange_log;
pub mod finding;
pub mod hidden_routes;
pub mod html;
pub mod in_flight;
pub mod interrupt;
pub mod lists;
pub mod mailbox;
pub mod oracle;
pub mod pagination;
pub mod probe;
pub mod redact;
pub mod report;
pub mod score;
pub mod shared;
pub mod similarity;
pub mod spec;
pub mod target;
pub mod throttle;
pub mod writes;

pub use check::{Check, CheckMeta, CheckOutcome, Family, Requirement, Shared};
pub use config::ScanConfig;
pub use context::ScanContext;
pub use exchange::{Exchange, ExchangeId};
pub use finding::{Confidence, Finding, Severity};
pub use probe::{Probe, ProbeError, ProbeRequest, ProbeResponse};
pub use report::Report;
