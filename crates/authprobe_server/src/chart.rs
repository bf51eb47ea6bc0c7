//! Server-rendered SVG charts: no script, no external asset.

use maud::{html, Markup};

/// One point of a score chart: the scan it links to, its score, and its date.
pub struct Point {
    pub id: i64,
    pub score: u8,
    pub label: String,
}

const W: f64 = 720.0;
const H: f64 = 240.0;
const LEFT: f64 = 36.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

fn x_at(i: usize, n: usize) -> f64 {
    if n <= 1 {
        LEFT + (W - LEFT - RIGHT) / 2.0
    } else {
        LEFT + (W - LEFT - RIGHT) * i as f64 / (n - 1) as f64
    }
}

fn y_at(score: u8) -> f64 {
    TOP + (H - TOP - BOTTOM) * (1.0 - f64::from(score.min(100)) / 100.0)
}

/// The score-over-time chart of a target (points oldest first), with the grade
/// boundaries drawn as guides and each point linking to its scan.
pub fn score_chart(points: &[Point]) -> Markup {
    let n = points.len();
    let line: String = points
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{:.1},{:.1}", x_at(i, n), y_at(p.score)))
        .collect::<Vec<_>>()
        .join(" ");
    // Dots only where they stay readable; the line carries the rest.
    let dots = n <= 120;
    html! {
        svg class="chart" id="score-chart" xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {W} {H}"))
            width=(W) height=(H) role="img" aria-label=(format!("Score over {n} scans")) {
            title { "Score over time" }
            @for (score, grade) in [(90u8, "A"), (80, "B"), (70, "C"), (60, "D")] {
                line class="guide" x1=(LEFT) x2=(W - RIGHT) y1=(format!("{:.1}", y_at(score))) y2=(format!("{:.1}", y_at(score))) {}
                text class="axis" x="4" y=(format!("{:.1}", y_at(score) + 4.0)) { (score) " " (grade) }
            }
            line class="axis-line" x1=(LEFT) x2=(LEFT) y1=(TOP) y2=(H - BOTTOM) {}
            line class="axis-line" x1=(LEFT) x2=(W - RIGHT) y1=(H - BOTTOM) y2=(H - BOTTOM) {}
            text class="axis" x="4" y=(format!("{:.1}", y_at(0) + 4.0)) { "0" }
            text class="axis" x="4" y=(format!("{:.1}", y_at(100) + 4.0)) { "100" }
            @if let (Some(first), Some(last)) = (points.first(), points.last()) {
                text class="axis" x=(LEFT) y=(H - 8.0) { (first.label) }
                text class="axis" x=(W - RIGHT) y=(H - 8.0) text-anchor="end" { (last.label) }
            }
            @if n > 1 {
                polyline class="score-line" points=(line) {}
            }
            @if dots || n == 1 {
                @for (i, p) in points.iter().enumerate() {
                    a href=(format!("/scan/{}", p.id)) {
                        circle class="score-dot" cx=(format!("{:.1}", x_at(i, n))) cy=(format!("{:.1}", y_at(p.score))) r="4" {
                            title { "#" (p.id) " · " (p.score) " · " (p.label) }
                        }
                    }
                }
            }
        }
    }
}

/// A small trend line of scores (oldest first).
pub fn sparkline(scores: &[u8]) -> Markup {
    let (w, h) = (120.0, 24.0);
    let n = scores.len();
    let pts: String = scores
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let x = if n <= 1 {
                w / 2.0
            } else {
                2.0 + (w - 4.0) * i as f64 / (n - 1) as f64
            };
            let y = 2.0 + (h - 4.0) * (1.0 - f64::from((*s).min(100)) / 100.0);
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ");
    html! {
        svg class="spark" xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {w} {h}")) width=(w) height=(h) role="img"
            aria-label=(format!("trend of {n} scores")) {
            @if n > 1 { polyline points=(pts) {} } @else { circle cx=(w / 2.0) cy=(h / 2.0) r="2" {} }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_score_chart_draws_one_point_per_scan_scaled_to_0_100() {
        let points: Vec<Point> = [100u8, 50, 0]
            .iter()
            .enumerate()
            .map(|(i, s)| Point {
                id: i as i64 + 1,
                score: *s,
                label: format!("d{i}"),
            })
            .collect();
        let svg = score_chart(&points).into_string();
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains(&format!("{LEFT:.1},{TOP:.1}")), "{svg}");
        assert!(svg.contains(&format!("{:.1},{:.1}", W - RIGHT, H - BOTTOM)), "{svg}");
        assert!(svg.contains("href=\"/scan/2\""));
    }
}
