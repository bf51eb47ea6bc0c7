//! What changed between two scans: findings new in the later one, resolved since the
//! earlier one, and unchanged.

use authprobe_core::report::ReportFinding;
use serde::Serialize;

/// Findings of two scans sorted into new, resolved and unchanged.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Diff {
    /// In the later scan only.
    pub new: Vec<ReportFinding>,
    /// In the earlier scan only.
    pub resolved: Vec<ReportFinding>,
    /// In both (as the later scan reports them).
    pub unchanged: Vec<ReportFinding>,
}

/// A finding's identity across scans: check, endpoint and message.
pub fn fingerprint(f: &ReportFinding) -> String {
    format!("{}\u{1f}{}\u{1f}{}", f.check, f.endpoint, f.message)
}

/// Matches the findings of `before` and `after`: first by [`fingerprint`], then the
/// leftovers by check and endpoint alone (a message may carry a measured value that moves
/// from one scan to the next, such as a token lifetime).
pub fn diff(before: &[ReportFinding], after: &[ReportFinding]) -> Diff {
    let mut unmatched_before: Vec<Option<&ReportFinding>> = before.iter().map(Some).collect();
    let mut out = Diff::default();
    let mut leftovers = Vec::new();
    for finding in after {
        let print = fingerprint(finding);
        match unmatched_before
            .iter_mut()
            .find(|slot| slot.is_some_and(|b| fingerprint(b) == print))
        {
            Some(slot) => {
                *slot = None;
                out.unchanged.push(finding.clone());
            }
            None => leftovers.push(finding),
        }
    }
    for finding in leftovers {
        match unmatched_before
            .iter_mut()
            .find(|slot| slot.is_some_and(|b| b.check == finding.check && b.endpoint == finding.endpoint))
        {
            Some(slot) => {
                *slot = None;
                out.unchanged.push(finding.clone());
            }
            None => out.new.push(finding.clone()),
        }
    }
    out.resolved = unmatched_before.into_iter().flatten().cloned().collect();
    out
}
