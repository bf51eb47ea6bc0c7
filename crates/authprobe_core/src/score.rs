//! The score: deterministic, documented in the README, unit-tested.
//!
//! Each finding costs `weight(severity) × factor(confidence)`:
//! critical 40, high 20, medium 8, low 3, info 0; confirmed ×1.0, firm ×0.8, tentative ×0.5.
//! Per check, the costliest finding counts in full and every further finding of the same
//! check adds a quarter of its own cost, the check's total capped at twice its costliest
//! finding. The score is `100 − Σ costs`, rounded to the nearest integer and floored at 0;
//! a confirmed or firm critical finding caps it at 59 (grade F).
//! Grades: A ≥ 90, B ≥ 80, C ≥ 70, D ≥ 60, else F.

use std::collections::BTreeMap;

use crate::finding::{Confidence, Severity};

pub fn severity_weight(severity: Severity) -> f64 {
    match severity {
        Severity::Critical => 40.0,
        Severity::High => 20.0,
        Severity::Medium => 8.0,
        Severity::Low => 3.0,
        Severity::Info => 0.0,
    }
}

pub fn confidence_factor(confidence: Confidence) -> f64 {
    match confidence {
        Confidence::Confirmed => 1.0,
        Confidence::Firm => 0.8,
        Confidence::Tentative => 0.5,
    }
}

/// The scoring-relevant part of a finding.
#[derive(Debug, Clone, Copy)]
pub struct Scored<'a> {
    pub check: &'a str,
    pub severity: Severity,
    pub confidence: Confidence,
}

/// The score (0–100) of a set of findings.
pub fn score(findings: &[Scored<'_>]) -> u8 {
    let mut per_check: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for f in findings {
        per_check
            .entry(f.check)
            .or_default()
            .push(severity_weight(f.severity) * confidence_factor(f.confidence));
    }
    let mut total = 0.0;
    for costs in per_check.values_mut() {
        costs.sort_by(|a, b| b.total_cmp(a));
        let worst = costs[0];
        let extra: f64 = costs[1..].iter().map(|c| c * 0.25).sum();
        total += (worst + extra).min(2.0 * worst);
    }
    let mut score = (100.0 - total).round().max(0.0);
    let critical = findings
        .iter()
        .any(|f| f.severity == Severity::Critical && f.confidence >= Confidence::Firm);
    if critical {
        score = score.min(59.0);
    }
    score as u8
}

/// The letter grade of a score.
pub fn grade(score: u8) -> char {
    match score {
        90.. => 'A',
        80..=89 => 'B',
        70..=79 => 'C',
        60..=69 => 'D',
        _ => 'F',
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(check: &str, severity: Severity, confidence: Confidence) -> Scored<'_> {
        Scored {
            check,
            severity,
            confidence,
        }
    }

    #[test]
    fn no_findings_score_100_grade_a() {
        assert_eq!(score(&[]), 100);
        assert_eq!(grade(100), 'A');
    }

    #[test]
    fn info_findings_cost_nothing() {
        assert_eq!(score(&[f("DJ002", Severity::Info, Confidence::Confirmed)]), 100);
    }

    #[test]
    fn one_confirmed_high_costs_twenty() {
        assert_eq!(score(&[f("AUTH003", Severity::High, Confidence::Confirmed)]), 80);
        assert_eq!(score(&[f("AUTH003", Severity::High, Confidence::Firm)]), 84);
        assert_eq!(score(&[f("AUTH003", Severity::High, Confidence::Tentative)]), 90);
    }

    #[test]
    fn repeated_findings_of_one_check_are_capped_at_twice_the_worst() {
        let many: Vec<_> = (0..10)
            .map(|_| f("WEB004", Severity::Low, Confidence::Confirmed))
            .collect();
        // 3 + 9 × 0.75 = 9.75 > 2 × 3 → capped at 6.
        assert_eq!(score(&many), 94);
        let two = [
            f("TLS004", Severity::Medium, Confidence::Confirmed),
            f("TLS004", Severity::Medium, Confidence::Firm),
        ];
        // 8 + 0.25 × 6.4 = 9.6 → 90.4 → 90.
        assert_eq!(score(&two), 90);
    }

    #[test]
    fn a_firm_critical_caps_the_score_at_f() {
        assert_eq!(score(&[f("AUTH002", Severity::Critical, Confidence::Firm)]), 59);
        assert_eq!(grade(59), 'F');
        assert_eq!(score(&[f("X", Severity::Critical, Confidence::Tentative)]), 80);
    }

    #[test]
    fn the_score_never_goes_below_zero() {
        let lots: Vec<_> = ["A", "B", "C", "D"]
            .iter()
            .map(|c| f(c, Severity::Critical, Confidence::Confirmed))
            .collect();
        assert_eq!(score(&lots), 0);
    }

    #[test]
    fn grade_boundaries() {
        assert_eq!(
            [
                grade(90),
                grade(89),
                grade(80),
                grade(79),
                grade(70),
                grade(69),
                grade(60),
                grade(59)
            ],
            ['A', 'B', 'B', 'C', 'C', 'D', 'D', 'F']
        );
    }
}
