//! The Markdown report as a pull-request comment: the flawed testbed's report fits
//! GitHub's limit, links the full report and gives one reproduce command per finding.

use crate::util::{authprobe, Testbed, ALICE, BOB};

const REPORT_URL: &str = "https://ci.example/run/1/report.html";

#[test]
fn the_markdown_report_of_every_flaw_fits_a_pull_request_comment() {
    let bed = Testbed::shared("all", false);
    let run = authprobe(&[
        "scan",
        &bed.url,
        "--user",
        ALICE,
        "--user",
        BOB,
        "-q",
        "--format",
        "markdown",
        "--report-url",
        REPORT_URL,
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let md = &run.stdout;
    let chars = md.chars().count();
    assert!(
        chars < 65_000,
        "{chars} characters: GitHub rejects comments over 65,536"
    );

    // The counts line: `**59 findings:** 13 critical · 17 high · …`.
    let counts = md
        .lines()
        .find(|l| l.starts_with("**") && l.contains(" findings:** "))
        .unwrap_or_else(|| panic!("no counts line:\n{md}"));
    assert!(counts.contains(" critical · ") && counts.contains(" high"), "{counts}");
    let total: usize = counts[2..counts.find(' ').unwrap()].parse().unwrap();
    assert!(total > 10, "{counts}");
    assert!(md.contains(&format!("\nFull report: <{REPORT_URL}>\n")), "{md}");

    // One collapsible block per finding shown, each with exactly one reproduce command.
    let blocks: Vec<&str> = md
        .split("<details>\n<summary><b>")
        .skip(1)
        .map(|b| &b[..b.find("</details>").expect("every block is closed")])
        .collect();
    assert!(!blocks.is_empty(), "{md}");
    for block in &blocks {
        assert_eq!(block.matches("Reproduce").count(), 1, "{block}");
        assert_eq!(block.lines().filter(|l| l.starts_with("curl ")).count(), 1, "{block}");
    }
    // What did not fit is counted, with the way to the rest.
    if blocks.len() < total {
        assert!(
            md.contains("> **Shortened to fit a comment:** ") && md.matches(REPORT_URL).count() >= 2,
            "{} of {total} findings have a block, and no note says so:\n{md}",
            blocks.len()
        );
    }
    // URLs read as URLs.
    assert!(md.contains(&format!("Target `{}`", bed.url)), "{md}");
    assert!(!md.contains("http\\:") && !md.contains("127\\.0"), "{md}");
}

#[test]
fn a_report_url_that_is_not_an_http_url_is_a_usage_error() {
    for bad in ["report.html", "ftp://ci.example/report.html", "javascript:alert(1)"] {
        let run = authprobe(&[
            "scan",
            "http://127.0.0.1:9/",
            "-q",
            "--format",
            "markdown",
            "--report-url",
            bad,
        ]);
        assert_eq!(run.code, 2, "{bad}: {}", run.stderr);
        assert!(
            run.stderr.contains("--report-url") && run.stderr.contains("http(s) URL"),
            "{bad}: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{bad}: no scan, no report");
    }
}
