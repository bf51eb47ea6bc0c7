//! Write probes: what the scan may write, and the ledger of what it wrote.
//!
//! Write probes (BOLA003, AUTHZ002) run only with `--allow-writes` against a target the
//! user declared non-production (`--environment staging`). They create their own objects
//! and accounts, write to those alone (the probe's write grants enforce it), and remove
//! them afterwards. The ledger records each creation and whether it was removed, so the
//! report lists anything left behind.

use serde::{Deserialize, Serialize};
use std::sync::Mutex;

/// Environment names that declare a production deployment: write probes are refused there.
const PRODUCTION_NAMES: &[&str] = &["prod", "production", "live", "prd", "main", "master"];

/// Why `--allow-writes` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteModeError {
    #[error("--allow-writes needs the target declared non-production: add --environment NAME (e.g. staging, test, dev) or `environment = \"staging\"` under [target] in the config")]
    NoEnvironment,
    #[error("--allow-writes is refused for environment `{0}`: write probes create, modify and delete data, so they run only against a non-production deployment (staging, test, dev, ...)")]
    Production(String),
}

/// Write probes are on, against this declared environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteMode {
    pub environment: String,
}

impl WriteMode {
    /// `--allow-writes` with `--environment NAME`: refused without a name, or when the
    /// name says production.
    pub fn new(environment: Option<&str>) -> Result<WriteMode, WriteModeError> {
        let name = environment.map(str::trim).filter(|n| !n.is_empty());
        let Some(name) = name else {
            return Err(WriteModeError::NoEnvironment);
        };
        let lower = name.to_ascii_lowercase();
        let words: Vec<&str> = lower.split(|c: char| !c.is_ascii_alphanumeric()).collect();
        if words.iter().any(|w| PRODUCTION_NAMES.contains(w)) {
            return Err(WriteModeError::Production(name.to_string()));
        }
        Ok(WriteMode {
            environment: name.to_string(),
        })
    }
}

/// One thing a write probe created.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WrittenObject {
    /// The check that created it.
    pub check: String,
    /// `object` (a record created through a collection) or `account` (a registration).
    pub kind: String,
    /// Its URL, or for an account its username.
    pub location: String,
    /// Whether it is gone again (removed by the scan, or by the write it tested).
    pub removed: bool,
    /// Why it is still there, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_reason: Option<String>,
}

/// The `writes` section of a report (present only when write probes were on).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WritesInfo {
    /// The declared non-production environment.
    pub environment: String,
    /// Everything the write probes created, in order.
    pub objects: Vec<WrittenObject>,
    /// How many of them are still on the target.
    pub left_behind: usize,
}

impl WritesInfo {
    /// One line for a report header: on against which environment, what the probes
    /// created, and what is left behind.
    pub fn summary(&self) -> String {
        let created = self.objects.len();
        let mut line = format!(
            "write probes on (environment {}): {created} created, ",
            self.environment
        );
        if self.left_behind == 0 {
            line.push_str(if created == 0 {
                "nothing to remove"
            } else {
                "all removed"
            });
        } else {
            let left: Vec<String> = self
                .objects
                .iter()
                .filter(|o| !o.removed)
                .map(|o| {
                    format!(
                        "{} {} ({})",
                        o.kind,
                        o.location,
                        o.left_reason.as_deref().unwrap_or("not removed")
                    )
                })
                .collect();
            line.push_str(&format!("{} LEFT BEHIND: {}", self.left_behind, left.join("; ")));
        }
        line
    }
}

/// Index of an entry in the [`WriteLedger`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteId(usize);

/// What the write probes created, shared by the checks of one scan.
#[derive(Debug, Default)]
pub struct WriteLedger {
    entries: Mutex<Vec<WrittenObject>>,
}

impl WriteLedger {
    /// Records a creation; it counts as left behind until [`WriteLedger::removed`].
    pub fn created(&self, check: &str, kind: &str, location: &str) -> WriteId {
        let mut entries = self.entries.lock().expect("ledger lock");
        entries.push(WrittenObject {
            check: check.to_string(),
            kind: kind.to_string(),
            location: location.to_string(),
            removed: false,
            left_reason: Some("the scan ended before it was removed".into()),
        });
        WriteId(entries.len() - 1)
    }

    /// The object is gone (its removal was verified).
    pub fn removed(&self, id: WriteId) {
        if let Some(entry) = self.entries.lock().expect("ledger lock").get_mut(id.0) {
            entry.removed = true;
            entry.left_reason = None;
        }
    }

    /// The object could not be removed, and why.
    pub fn left(&self, id: WriteId, reason: impl Into<String>) {
        if let Some(entry) = self.entries.lock().expect("ledger lock").get_mut(id.0) {
            entry.removed = false;
            entry.left_reason = Some(reason.into());
        }
    }

    /// The report section.
    pub fn info(&self, mode: &WriteMode) -> WritesInfo {
        let objects = self.entries.lock().expect("ledger lock").clone();
        WritesInfo {
            environment: mode.environment.clone(),
            left_behind: objects.iter().filter(|o| !o.removed).count(),
            objects,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_mode_needs_a_declared_non_production_environment() {
        assert_eq!(WriteMode::new(None), Err(WriteModeError::NoEnvironment));
        assert_eq!(WriteMode::new(Some("  ")), Err(WriteModeError::NoEnvironment));
        for prod in ["production", "PROD", "eu-prod", "live", "prod-2"] {
            assert!(
                matches!(WriteMode::new(Some(prod)), Err(WriteModeError::Production(_))),
                "{prod}"
            );
        }
        for ok in ["staging", "test", "dev", "qa-3", "preview", "productivity-staging"] {
            assert_eq!(WriteMode::new(Some(ok)).unwrap().environment, ok);
        }
    }

    #[test]
    fn the_ledger_counts_what_was_not_removed() {
        let ledger = WriteLedger::default();
        let mode = WriteMode::new(Some("staging")).unwrap();
        let a = ledger.created("BOLA003", "object", "http://t/api/notes/9/");
        let b = ledger.created("AUTHZ002", "account", "authprobe-1");
        let _c = ledger.created("AUTHZ002", "account", "authprobe-2");
        ledger.removed(a);
        ledger.left(b, "DELETE /api/me/ answered 405");
        let info = ledger.info(&mode);
        assert_eq!(info.left_behind, 2);
        assert!(info.objects[0].removed && info.objects[0].left_reason.is_none());
        assert_eq!(
            info.objects[1].left_reason.as_deref(),
            Some("DELETE /api/me/ answered 405")
        );
        assert_eq!(
            info.objects[2].left_reason.as_deref(),
            Some("the scan ended before it was removed")
        );
        assert_eq!(
            info.summary(),
            "write probes on (environment staging): 3 created, 2 LEFT BEHIND: account authprobe-1 \
             (DELETE /api/me/ answered 405); account authprobe-2 (the scan ended before it was removed)"
        );
    }
}
