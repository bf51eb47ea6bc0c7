//! Reports and CI gating: every format from one scan, each validated (the HTML in headless
//! Chromium); no format carries a supplied secret; suppressions; baselines and `diff` on
//! two scans; the GitHub Action's script run locally.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{alice_access_token, authprobe, repo_root, scan, tempfile, Testbed, ALICE, BOB};

/// A fresh directory under the temp dir, named after the test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("authprobe-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn json_file(path: &Path) -> Value {
    serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------
// Headless Chromium

/// What Chromium made of a page: the DOM after load and every console message.
struct Rendered {
    dom: String,
    console: Vec<String>,
}

/// Debian's Chromium. Missing, it fails the test: `.ci/run` installs it.
fn chromium() -> PathBuf {
    let candidates = [
        std::env::var_os("CHROMIUM").map(PathBuf::from),
        Some(PathBuf::from("/usr/bin/chromium")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("headless Chromium is required for the HTML report tests: apt-get install chromium (.ci/run does)")
        })
}

/// Opens `page` in headless Chromium and returns the DOM after load and the console
/// messages (script errors and Content-Security-Policy violations land there).
fn open_in_chromium(page: &Path) -> Rendered {
    let profile = scratch(&format!(
        "chromium-profile-{}",
        page.file_stem().unwrap().to_string_lossy()
    ));
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let out = Command::new("timeout")
        .arg("120")
        .arg(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("run chromium");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "chromium failed on {url}: {stderr}");
    let _ = std::fs::remove_dir_all(&profile);
    Rendered {
        dom: String::from_utf8_lossy(&out.stdout).into_owned(),
        console: stderr
            .lines()
            .filter(|l| l.contains(":CONSOLE"))
            .map(str::to_string)
            .collect(),
    }
}

#[test]
fn the_chromium_harness_sees_script_errors_and_executed_scripts() {
    // The negative control: without it, a harness that saw nothing would pass every page.
    let dir = scratch("chromium-control");
    let page = dir.join("control.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><p>x</p><script>document.body.setAttribute('data-ran','1'); null.f();</script></body></html>",
    )
    .unwrap();
    let rendered = open_in_chromium(&page);
    assert!(rendered.dom.contains("data-ran=\"1\""), "{}", rendered.dom);
    assert!(
        rendered.console.iter().any(|l| l.contains("Uncaught TypeError")),
        "{:?}",
        rendered.console
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Asserts Chromium rendered the report with no console message at all (no script error,
/// no CSP violation) and the page's own structure.
fn assert_renders_cleanly(page: &Path) -> Rendered {
    let rendered = open_in_chromium(page);
    assert!(
        rendered.console.is_empty(),
        "console messages while rendering {}:\n{}",
        page.display(),
        rendered.console.join("\n")
    );
    assert!(rendered.dom.contains("<h1>authprobe report</h1>"), "{}", rendered.dom);
    assert!(rendered.dom.contains("Content-Security-Policy"));
    assert!(!rendered.dom.contains("<script"), "a script element in the DOM");
    rendered
}

// ---------------------------------------------------------------------------------------
// One scan, every format

/// Every format from one scan of the flawed testbed as alice and bob plus alice's token
/// given as `--bearer`. Returns the output directory and the token.
fn scan_every_format(bed: &Testbed, name: &str) -> (PathBuf, String) {
    let dir = scratch(name);
    let token = alice_access_token(bed);
    let run = authprobe(&[
        "scan",
        &bed.url,
        "--user",
        ALICE,
        "--user",
        BOB,
        "--bearer",
        &token,
        "-q",
        "--format",
        "json,sarif,html,markdown,junit,pretty",
        "--output-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains(&token) && !run.stderr.contains(&token));
    (dir, token)
}

const FILES: [&str; 6] = [
    "report.json",
    "report.sarif",
    "report.html",
    "report.md",
    "report.junit.xml",
    "report.txt",
];

#[test]
fn one_scan_writes_every_format_and_each_one_validates() {
    let bed = Testbed::shared("all", false);
    let (dir, _) = scan_every_format(&bed, "all-formats");
    for f in FILES {
        assert!(dir.join(f).is_file(), "{f} missing");
    }

    // JSON: the stable keys of authprobe.report/v1, and the keys this issue added.
    let report = json_file(&dir.join("report.json"));
    assert_eq!(report["schema"], "authprobe.report/v1");
    for key in [
        "tool",
        "target",
        "started_at",
        "finished_at",
        "duration_ms",
        "stats",
        "score",
        "grade",
        "categories",
        "checks_skipped",
        "findings",
    ] {
        assert!(report.get(key).is_some(), "report.json lacks {key}");
    }
    let findings = report["findings"].as_array().unwrap();
    assert!(findings.len() > 10, "the flawed testbed yields many findings");
    for f in findings {
        for key in [
            "check",
            "slug",
            "title",
            "severity",
            "confidence",
            "cwe",
            "owasp",
            "endpoint",
            "message",
            "evidence",
            "remediation",
            "fingerprint",
            "suppressed",
        ] {
            assert!(f.get(key).is_some(), "a finding lacks {key}: {f}");
        }
        assert_eq!(f["fingerprint"].as_str().unwrap().len(), 32);
    }

    // SARIF: the official 2.1.0 schema.
    let sarif = json_file(&dir.join("report.sarif"));
    let schema_text = read(&repo_root().join("crates/authprobe_report/schemas/sarif-schema-2.1.0.json"))
        // The shipped schema's `language` pattern has a stray `]` only ECMAScript forgives.
        .replace(
            r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#,
            r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#,
        );
    let schema: Value = serde_json::from_str(&schema_text).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF schema errors: {errors:#?}");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    // Locations a code-scanning dashboard can show: the endpoint's absolute URL at line 1,
    // the API path (with its method where the evidence shows one) as a logical location.
    assert!(sarif["runs"][0].get("originalUriBaseIds").is_none());
    let origin = bed.url.trim_end_matches('/');
    for (r, f) in results.iter().zip(findings) {
        let location = &r["locations"][0];
        assert_eq!(location["physicalLocation"]["region"]["startLine"], 1, "{r}");
        let uri = location["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(uri.starts_with("http://") || uri.starts_with("https://"), "{uri}");
        let logical = &location["logicalLocations"][0];
        let endpoint = f["endpoint"].as_str().unwrap();
        if endpoint.starts_with('/') {
            assert!(uri.starts_with(origin), "{uri} for {endpoint}");
            let name = logical["name"].as_str().unwrap();
            assert_eq!(name.split('?').next(), endpoint.split('?').next(), "{r}");
        } else if !endpoint.starts_with("http") {
            // Not a path (a cookie's name): located at the target.
            assert_eq!(uri, bed.url, "{r}");
            assert_eq!(logical["name"], endpoint);
        }
    }
    assert!(
        results.iter().any(|r| {
            let name = r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
                .as_str()
                .unwrap();
            name.starts_with("GET /") || name.starts_with("POST /")
        }),
        "no result names its method"
    );
    for rule in sarif["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap() {
        let help = rule["helpUri"].as_str().unwrap();
        let page = format!("docs/checks/{}.md", rule["id"].as_str().unwrap());
        assert!(help.ends_with(&format!("/blob/main/{page}")), "{help}");
        assert!(repo_root().join(&page).is_file(), "{help} points at no page");
    }

    // HTML: rendered by Chromium without a console message, the findings on the page.
    let rendered = assert_renders_cleanly(&dir.join("report.html"));
    for f in findings.iter().take(5) {
        assert!(
            rendered.dom.contains(f["check"].as_str().unwrap()),
            "{} not on the page",
            f["check"]
        );
    }
    assert!(rendered.dom.contains(&format!("Findings ({})", findings.len())));

    // JUnit: well-formed XML, one test case per check, failures for the findings.
    let junit = read(&dir.join("report.junit.xml"));
    let mut reader = quick_xml::Reader::from_str(&junit);
    let (mut cases, mut failures) = (0, 0);
    loop {
        match reader.read_event().expect("JUnit is well-formed XML") {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => match e.name().as_ref() {
                "testcase" => cases += 1,
                "failure" => failures += 1,
                _ => {}
            },
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(cases, authprobe_checks::all().len());
    assert!(failures > 0);

    // Markdown: the headline and the findings table.
    let md = read(&dir.join("report.md"));
    assert!(md.starts_with(&format!("## authprobe: score {}/100", report["score"])));
    assert!(md.contains("| Severity | Check | Endpoint | Title |"));
    assert!(
        md.lines()
            .filter(|l| l.starts_with("| critical |") || l.starts_with("| high |"))
            .count()
            > 0
    );

    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn no_format_contains_a_supplied_password_or_token() {
    let bed = Testbed::shared("all", false);
    let (dir, token) = scan_every_format(&bed, "secrets");
    let signature = token.rsplit('.').next().unwrap().to_string();
    assert!(signature.len() > 20);
    for f in FILES {
        let text = read(&dir.join(f));
        for secret in ["alice-pass-1", "bob-pass-2", token.as_str(), signature.as_str()] {
            assert!(!text.contains(secret), "{f} contains the supplied secret `{secret}`");
        }
        // A percent- or entity-encoded copy is a leak too.
        assert!(!text.contains("alice%2Dpass") && !text.contains("alice-pass&#"), "{f}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------------
// Target-controlled text in the HTML report

#[test]
fn script_payloads_in_finding_text_do_not_execute_in_the_html_report() {
    let bed = Testbed::shared("debug", false);
    let run = scan(&bed, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut report: authprobe_core::Report = serde_json::from_str(&run.stdout).unwrap();
    assert!(!report.findings.is_empty());
    // What a hostile target could make a finding say: every text field it influences.
    let payloads = [
        "<script>document.body.setAttribute('data-pwned','script')</script>",
        "\"><img src=x onerror=\"document.body.setAttribute('data-pwned','img')\">",
        "'><svg onload=document.body.setAttribute('data-pwned','svg')>",
        "</pre></details><iframe srcdoc=\"<script>parent.document.body.setAttribute('data-pwned','frame')</script>\"></iframe>",
    ];
    let all = payloads.join(" ");
    report.target.url = format!("http://127.0.0.1/{all}");
    for (i, f) in report.findings.iter_mut().enumerate() {
        f.message = format!("{} {}", payloads[i % payloads.len()], f.message);
        f.endpoint = format!("{}{}", f.endpoint, payloads[(i + 1) % payloads.len()]);
        f.title = format!("{} {}", f.title, payloads[(i + 2) % payloads.len()]);
        for e in &mut f.evidence {
            e.response = format!("{}\n{all}", e.response);
            e.request = format!("{}\n{all}", e.request);
            e.curl = format!("{} {all}", e.curl);
        }
    }
    report.findings[0].suppressed = true;
    report.findings[0].suppression_reason = Some(all.clone());
    if let Some(skipped) = report.checks_skipped.first_mut() {
        skipped.reason = all.clone();
    }
    let dir = scratch("html-payloads");
    let page = dir.join("hostile.html");
    std::fs::write(&page, authprobe_report::html::render(&report)).unwrap();

    let rendered = assert_renders_cleanly(&page);
    assert!(!rendered.dom.contains("data-pwned=\""), "a payload executed");
    for element in ["<img", "<svg onload", "<iframe"] {
        assert!(
            !rendered.dom.contains(element),
            "the payload's {element} became an element"
        );
    }
    // The payloads are on the page, as text.
    assert!(
        rendered
            .dom
            .contains("&lt;script&gt;document.body.setAttribute('data-pwned','script')&lt;/script&gt;"),
        "the payload is not shown as text"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The text of each `<tag class="class">…</tag>` in `dom` (no nesting of the same tag).
fn elements<'a>(dom: &'a str, tag: &str, class: &str) -> Vec<&'a str> {
    let open = format!("<{tag} class=\"{class}\"");
    let close = format!("</{tag}>");
    dom.split(&open)
        .skip(1)
        .map(|rest| &rest[..rest.find(&close).unwrap_or(rest.len())])
        .collect()
}

#[test]
fn the_html_report_of_every_flaw_has_a_summary_table_rendered_remediation_and_folded_evidence() {
    let bed = Testbed::shared("all", false);
    let dir = scratch("html-report");
    let page = dir.join("report.html");
    let run = authprobe(&[
        "scan",
        &bed.url,
        "--user",
        ALICE,
        "--user",
        BOB,
        "-q",
        "--format",
        "html",
        "-o",
        page.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rendered = assert_renders_cleanly(&page);
    let dom = rendered.dom.as_str();

    // A summary table at the top whose every row links to an entry, in the entries' order.
    let tables = elements(dom, "table", "overview");
    assert_eq!(tables.len(), 1, "one summary table");
    let links: Vec<&str> = tables[0]
        .split("href=\"#")
        .skip(1)
        .map(|l| &l[..l.find('"').unwrap()])
        .collect();
    let ids: Vec<&str> = dom
        .split("<article class=\"finding")
        .skip(1)
        .map(|a| {
            let at = a.find("id=\"").expect("an entry has an id") + 4;
            &a[at..at + a[at..].find('"').unwrap()]
        })
        .collect();
    assert!(links.len() > 10, "the flawed testbed yields many entries: {links:?}");
    assert_eq!(links, ids);
    assert!(dom.find("<table class=\"overview\">") < dom.find("<article "));
    // Filters by severity, made of checkboxes (the page runs no script).
    assert!(dom.contains("<input class=\"filter\" type=\"checkbox\" id=\"show-critical\""));
    assert!(dom.contains("<label for=\"show-critical\">"));

    // Remediation is rendered Markdown: code blocks and spans, no fence, no backtick.
    assert!(!dom.contains("```"), "a literal code fence on the page");
    let fixes = elements(dom, "div", "markdown");
    assert!(fixes.len() > 10, "{} remediations", fixes.len());
    for fix in &fixes {
        assert!(!fix.contains('`'), "an unrendered backtick in a remediation: {fix}");
    }
    assert!(fixes.iter().any(|f| f.contains("<pre><code")), "no code block");
    assert!(
        fixes.iter().any(|f| f.contains("<p>") && f.contains("<code>")),
        "no code span"
    );

    // Evidence is folded and labelled by its role, never "Evidence N".
    let evidence = elements(dom, "details", "evidence");
    assert!(!evidence.is_empty());
    assert!(!dom.contains("Evidence 1"));
    for e in &evidence {
        assert!(e.starts_with("><summary>"), "evidence open or unlabelled: {e}");
    }
    for role in [
        "forged credential",
        "anonymous request",
        "as alice (own credential)",
        "login as bob",
    ] {
        assert!(
            dom.contains(&format!("<span class=\"role\">{role}</span>")),
            "no evidence labelled `{role}`"
        );
    }

    // The scan's time to the second.
    let at = dom.find(" UTC · ").expect("the scan time");
    let time = &dom[at - 19..at];
    assert!(
        time.chars().enumerate().all(|(i, c)| match i {
            4 | 7 => c == '-',
            10 => c == ' ',
            13 | 16 => c == ':',
            _ => c.is_ascii_digit(),
        }),
        "{time}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------------
// Suppressions

#[test]
fn a_suppressed_finding_is_reported_but_counts_for_neither_score_nor_gate() {
    let bed = Testbed::shared("weak_secret", false);
    let plain = scan(&bed, &["--fail-on", "critical"]);
    assert_eq!(plain.code, 1, "JWT003 is critical: {}", plain.stderr);
    let plain_report = plain.report();

    let config = tempfile(
        "[[ignore]]\ncheck = \"jwt-weak-secret\"\nendpoint = \"/nowhere/*\"\nreason = \"matches no endpoint\"\n\n\
         [[ignore]]\ncheck = \"JWT003\"\nendpoint = \"/api/*/\"\nreason = \"rotating the key in TICKET-42\"\nexpires = \"2999-12-31\"\n",
    );
    let run = scan(
        &bed,
        &[
            "--fail-on",
            "critical",
            "--min-score",
            "60",
            "--config",
            config.to_str().unwrap(),
        ],
    );
    assert_eq!(
        run.code, 0,
        "suppressed findings must not fail the gate: {}",
        run.stderr
    );
    let report = run.report();
    let jwt003: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "JWT003")
        .collect();
    assert!(!jwt003.is_empty(), "the suppressed finding is still reported");
    for f in &jwt003 {
        assert_eq!(f["suppressed"], true, "{f}");
        assert_eq!(f["suppression_reason"], "rotating the key in TICKET-42", "{f}");
    }
    assert!(
        report["score"].as_u64().unwrap() > plain_report["score"].as_u64().unwrap(),
        "the score leaves suppressed findings out: {} vs {}",
        report["score"],
        plain_report["score"]
    );
    let jwt = report["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "jwt")
        .unwrap();
    assert_eq!(jwt["score"], 100, "{}", report["categories"]);

    // Every format says so.
    let dir = scratch("suppressed-formats");
    let run = scan(
        &bed,
        &[
            "--config",
            config.to_str().unwrap(),
            "--format",
            "sarif,html,markdown,junit,pretty",
            "--output-dir",
            dir.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let sarif = json_file(&dir.join("report.sarif"));
    let result = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "JWT003")
        .unwrap()
        .clone();
    assert_eq!(result["suppressions"][0]["status"], "accepted");
    for f in ["report.html", "report.md", "report.junit.xml", "report.txt"] {
        let text = read(&dir.join(f));
        assert!(
            text.contains("TICKET-42") || text.contains("TICKET\\-42"),
            "{f} lacks the reason"
        );
        assert!(text.to_lowercase().contains("suppressed"), "{f}");
    }
    let junit = read(&dir.join("report.junit.xml"));
    assert!(
        !junit.contains("<failure message=\"1 JWT003"),
        "a suppressed finding failed its case"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_expired_suppression_stops_the_scan_with_exit_2() {
    let config = tempfile("[[ignore]]\ncheck = \"DJ001\"\nreason = \"legacy staging box\"\nexpires = \"2020-01-31\"\n");
    let run = authprobe(&[
        "scan",
        "http://127.0.0.1:9/",
        "-q",
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.starts_with(&format!(
            "error: {}:4:1: [[ignore]] DJ001 expired on 2020-01-31 (reason: legacy staging box)",
            config.display()
        )),
        "{}",
        run.stderr
    );
    let no_reason = tempfile("[[ignore]]\ncheck = \"DJ001\"\n");
    let run = authprobe(&[
        "scan",
        "http://127.0.0.1:9/",
        "-q",
        "--config",
        no_reason.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("missing field `reason`"), "{}", run.stderr);
}

// ---------------------------------------------------------------------------------------
// Baseline and diff: two scans (--flaws all, then --flaws weak_secret)

/// The JSON reports of a `--flaws all` and a `--flaws weak_secret` scan, written to files.
fn two_scans(dir: &Path) -> (PathBuf, PathBuf) {
    let all = scan(&Testbed::shared("all", false), &[]);
    assert_eq!(all.code, 0, "{}", all.stderr);
    let weak = scan(&Testbed::shared("weak_secret", false), &[]);
    assert_eq!(weak.code, 0, "{}", weak.stderr);
    let (old, new) = (dir.join("all.json"), dir.join("weak_secret.json"));
    std::fs::write(&old, &all.stdout).unwrap();
    std::fs::write(&new, &weak.stdout).unwrap();
    (old, new)
}

#[test]
fn diff_lists_new_resolved_and_unchanged_findings_and_the_score_change() {
    let dir = scratch("diff");
    let (old, new) = two_scans(&dir);
    let (old_report, new_report) = (json_file(&old), json_file(&new));

    let run = authprobe(&["diff", old.to_str().unwrap(), new.to_str().unwrap(), "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let diff: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(diff["schema"], "authprobe.diff/v1");
    let change = new_report["score"].as_i64().unwrap() - old_report["score"].as_i64().unwrap();
    assert_eq!(diff["score_change"], change);
    let codes = |key: &str| -> Vec<String> {
        diff["findings"][key]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["check"].as_str().unwrap().to_string())
            .collect()
    };
    // The weak key is in both scans (on another port each): unchanged, not new + resolved.
    assert!(codes("unchanged").contains(&"JWT003".to_string()), "{}", run.stdout);
    assert!(!codes("new").contains(&"JWT003".to_string()));
    // The debug page and the missing authentication exist only in the `all` scan.
    for gone in ["DJ001", "AUTH001"] {
        assert!(codes("resolved").contains(&gone.to_string()), "{gone} not resolved");
    }
    // Every finding of each report is accounted for exactly once.
    let n_old = old_report["findings"].as_array().unwrap().len();
    let n_new = new_report["findings"].as_array().unwrap().len();
    assert_eq!(codes("resolved").len() + codes("unchanged").len(), n_old);
    assert_eq!(codes("new").len() + codes("unchanged").len(), n_new);

    let pretty = authprobe(&["diff", old.to_str().unwrap(), new.to_str().unwrap()]);
    assert_eq!(pretty.code, 0);
    let sign = if change > 0 { "+" } else { "" };
    assert!(
        pretty.stdout.starts_with(&format!(
            "authprobe diff: score {} → {} ({sign}{change})",
            old_report["score"], new_report["score"]
        )),
        "{}",
        pretty.stdout
    );
    assert!(pretty.stdout.contains(&format!(
        "{} new, {} resolved, {} unchanged",
        codes("new").len(),
        codes("resolved").len(),
        codes("unchanged").len()
    )));
    let md = authprobe(&["diff", old.to_str().unwrap(), new.to_str().unwrap(), "-f", "markdown"]);
    assert_eq!(md.code, 0);
    assert!(md.stdout.starts_with("## authprobe diff: score "), "{}", md.stdout);
    assert!(md
        .stdout
        .contains(&format!("### Resolved ({})", codes("resolved").len())));

    for output in [&run.stdout, &pretty.stdout, &md.stdout] {
        for password in ["alice-pass-1", "bob-pass-2"] {
            assert!(!output.contains(password), "a diff contains a supplied password");
        }
    }

    let broken = tempfile("not json");
    let run = authprobe(&["diff", old.to_str().unwrap(), broken.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("is not an authprobe JSON report"), "{}", run.stderr);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn with_a_baseline_the_gate_counts_only_new_findings() {
    let dir = scratch("baseline");
    let (all_json, weak_json) = two_scans(&dir);
    let weak_bed = Testbed::shared("weak_secret", false);

    // Without a baseline the weak key (critical) fails both gates.
    assert_eq!(scan(&weak_bed, &["--fail-on", "high"]).code, 1);
    assert_eq!(scan(&weak_bed, &["--min-score", "80"]).code, 1);

    // Against the `all` scan nothing of the weak_secret scan is new: the gate passes, and
    // the score, though under 80, is not under the baseline's.
    let run = scan(
        &weak_bed,
        &[
            "--fail-on",
            "high",
            "--min-score",
            "80",
            "--baseline",
            all_json.to_str().unwrap(),
        ],
    );
    let report = run.report();
    let new_high: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["baseline"] == "new" && ["high", "critical"].contains(&f["severity"].as_str().unwrap()))
        .collect();
    assert!(new_high.is_empty(), "unexpected new findings: {new_high:?}");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let jwt003 = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "JWT003")
        .unwrap();
    assert_eq!(jwt003["baseline"], "unchanged");
    assert_eq!(report["baseline"]["score"], json_file(&all_json)["score"]);
    assert!(report["baseline"]["resolved"].as_u64().unwrap() > 0);

    // The other way round, the `all` testbed's extra weaknesses are new and fail the gate.
    let all_bed = Testbed::shared("all", false);
    let run = scan(
        &all_bed,
        &["--fail-on", "high", "--baseline", weak_json.to_str().unwrap()],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.report();
    assert!(report["baseline"]["new"].as_u64().unwrap() > 0);
    let state = |code: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["check"] == code)
            .map(|f| f["baseline"].clone())
    };
    assert_eq!(state("JWT003"), Some(Value::from("unchanged")));
    assert_eq!(state("DJ001"), Some(Value::from("new")));

    // A baseline that is no report is a usage error before any request.
    let run = authprobe(&[
        "scan",
        "http://127.0.0.1:9/",
        "-q",
        "--baseline",
        "/nonexistent/base.json",
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("cannot read the report"), "{}", run.stderr);
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------------
// The GitHub Action

#[test]
fn the_action_script_scans_and_publishes_score_and_grade() {
    let bed = Testbed::shared("debug", false);
    let dir = scratch("action");
    let outputs = dir.join("github_output");
    std::fs::write(&outputs, "").unwrap();
    // Never the real GitHub of a CI run: no comment, a step summary of our own.
    let summary = dir.join("step_summary.md");
    let out = Command::new(repo_root().join("scripts/action.sh"))
        .current_dir(&dir)
        .env("AUTHPROBE_BIN", env!("CARGO_BIN_EXE_authprobe"))
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env_remove("GITHUB_EVENT_PATH")
        .env("INPUT_COMMENT", "off")
        .env("INPUT_TARGET", &bed.url)
        .env("INPUT_FAIL_ON", "critical")
        .env("INPUT_MIN_SCORE", "")
        .env("INPUT_SARIF", "sarif/authprobe.sarif")
        .env("INPUT_ARGS", "--user alice:alice-pass-1")
        .output()
        .expect("run scripts/action.sh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report = json_file(&dir.join("authprobe-reports/report.json"));
    let published = read(&outputs);
    let lines: Vec<&str> = published.lines().collect();
    assert!(
        lines.contains(&format!("score={}", report["score"]).as_str()),
        "{published}"
    );
    assert!(
        lines.contains(&format!("grade={}", report["grade"].as_str().unwrap()).as_str()),
        "{published}"
    );
    assert!(lines.contains(&"sarif=sarif/authprobe.sarif"), "{published}");
    assert!(lines.contains(&"markdown=authprobe-reports/report.md"), "{published}");
    assert!(lines.contains(&"exit-code=0"), "{published}");
    assert!(read(&summary).contains(&format!("score {}/100", report["score"])));
    assert_eq!(json_file(&dir.join("sarif/authprobe.sarif"))["version"], "2.1.0");
    for f in ["report.md", "report.html", "report.junit.xml"] {
        assert!(dir.join("authprobe-reports").join(f).is_file(), "{f}");
    }

    // The gate's exit code comes through: DEBUG (high) fails --fail-on high.
    let out = Command::new(repo_root().join("scripts/action.sh"))
        .current_dir(&dir)
        .env("AUTHPROBE_BIN", env!("CARGO_BIN_EXE_authprobe"))
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env_remove("GITHUB_EVENT_PATH")
        .env("INPUT_COMMENT", "off")
        .env("INPUT_TARGET", &bed.url)
        .env("INPUT_FAIL_ON", "high")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("gate: failed: "), "{stderr}");
    assert!(read(&outputs).lines().any(|l| l == "exit-code=1"));

    // action.yml wires the same inputs and outputs.
    let action = read(&repo_root().join("action.yml"));
    for needle in [
        "using: composite",
        "target:",
        "config:",
        "fail-on:",
        "min-score:",
        "sarif:",
        "score:",
        "grade:",
        "scripts/action.sh",
        "exit-code:",
        "comment:",
        "actions/cache@",
        "github/codeql-action/upload-sarif@",
    ] {
        assert!(action.contains(needle), "action.yml lacks `{needle}`");
    }
    let example = read(&repo_root().join("examples/github-workflow.yml"));
    assert!(example.contains("uses: authprobe/authprobe@"));
    assert!(example.contains("steps.authprobe.outputs.score"));
    std::fs::remove_dir_all(&dir).unwrap();
}
