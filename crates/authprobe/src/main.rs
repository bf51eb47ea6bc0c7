//! The `authprobe` command: parses flags, loads the config, runs the engine, prints the
//! report and turns the gate into an exit code (0 pass, 1 gate failed, 2 error).

mod cli;
mod config_file;
mod crack_cmd;
mod history_cmd;
mod manual;
mod monitors_cmd;
mod progress;
mod scan_log;
mod selection;
mod serve_cmd;
mod settings;
mod signals;
mod tokens_cmd;
mod triage;
mod upload_cmd;

use anyhow::{bail, Context, Result};
use authprobe_core::{engine, Report};
use clap::Parser;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cli::{Cli, Command, OutputFormat, ScanArgs};
use settings::Gate;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => run_scan(*args),
        Command::Checks(args) => match args.format {
            cli::ChecksFormat::Table => list_checks(),
            cli::ChecksFormat::Json => manual::checks_json(),
        }
        .map(|_| ExitCode::SUCCESS),
        Command::Explain { code } => explain(&code).map(|_| ExitCode::SUCCESS),
        Command::Crack(args) => crack_cmd::run(*args),
        Command::Diff(args) => diff(&args).map(|_| ExitCode::SUCCESS),
        Command::Tokens(args) => tokens_cmd::run(args),
        Command::History(args) => history_cmd::history(args).map(|_| ExitCode::SUCCESS),
        Command::Show(args) => history_cmd::show(args).map(|_| ExitCode::SUCCESS),
        Command::Serve(args) => serve_cmd::run(args).map(|_| ExitCode::SUCCESS),
        Command::Worker(args) => serve_cmd::worker(args).map(|_| ExitCode::SUCCESS),
        Command::Upload(args) => upload_cmd::run(args),
        Command::Monitors(args) => monitors_cmd::run(args),
        Command::Completions { shell } => manual::completions(shell).map(|_| ExitCode::SUCCESS),
        Command::Man { command } => manual::man(command.as_deref()).map(|_| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            // A closed pipe (e.g. `| head`) is not an error worth a message.
            if err
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {err}");
            if let Some(hint) = err
                .downcast_ref::<engine::ScanError>()
                .and_then(engine::ScanError::hint)
            {
                eprintln!("hint: {hint}");
            }
            ExitCode::from(2)
        }
    }
}

fn run_scan(args: ScanArgs) -> Result<ExitCode> {
    let (config, gate) = settings::build(&args)?;
    // Decided before the scan, so a mistake in the flags costs no requests.
    let outputs = plan_outputs(&args)?;
    // Opened before the scan too: an unusable history database costs no requests.
    let mut store = history_cmd::open_for_scan(gate.store.as_ref())?;
    // And the upload's URL and token are checked before the scan.
    let uploader = args
        .upload
        .as_deref()
        .map(|url| upload_cmd::Uploader::new(url, args.upload_retries))
        .transpose()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // Verbose and debug lines replace the progress bar (they would tear it).
    let progress = progress::Progress::new(args.quiet || args.verbose > 0 || args.debug);
    let observer = scan_log::Verbose::new(&progress, args.verbose > 0);
    settings::describe(&config, &gate)
        .iter()
        .for_each(|line| observer.say(line));
    let interrupt = authprobe_core::interrupt::Interrupt::new();
    runtime.spawn(signals::stop_scan_on_signal(interrupt.clone()));
    let report = runtime.block_on(engine::scan_until(
        config,
        authprobe_checks::all(),
        &observer,
        interrupt,
    ));
    progress.finish();
    let mut report = report.map_err(|e| settings::locate_scan_error(e, &gate))?;
    triage::suppress(&mut report, &gate.ignores);
    if let Some(baseline) = &gate.baseline {
        triage::compare_with_baseline(&mut report, baseline);
    }

    let rules = catalog();
    for (format, destination) in &outputs {
        match destination {
            Destination::Stdout => {
                let color = *format == OutputFormat::Pretty
                    && std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
                let rendered = render(*format, &report, &rules, color, &args);
                std::io::stdout().write_all(rendered.as_bytes())?;
            }
            Destination::File(path) => {
                let rendered = render(*format, &report, &rules, false, &args);
                std::fs::write(path, rendered)
                    .with_context(|| format!("cannot write the report to {}", path.display()))?;
                if !args.quiet {
                    eprintln!(
                        "report written to {} (score {}, grade {})",
                        path.display(),
                        report.score,
                        report.grade
                    );
                }
            }
        }
    }
    // After the reports are written: a stale suppression must not cost the user the scan.
    triage::check_unused(&report, &gate.ignores, args.strict_config)?;
    // Even with --quiet: a CI log must say how the scan went.
    eprintln!("{}", summary_line(&report));
    if report.incomplete {
        // A partial scan never passes the gate: what it did not reach was not checked.
        eprintln!(
            "error: the report is partial (\"incomplete\": true): {}",
            report.incomplete_summary()
        );
        return Ok(ExitCode::from(2));
    }
    // Saved after the report is out, so a failing database never costs the user the report.
    if let (Some(store), Some(settings)) = (store.as_mut(), gate.store.as_ref()) {
        let id = store
            .save(&report, settings.retention)
            .with_context(|| format!("cannot save the scan in {}", settings.location))?;
        if !args.quiet {
            eprintln!("scan saved as #{id} in {}", settings.location);
        }
    }
    if let Some(uploader) = &uploader {
        if let Err(code) = upload(&runtime, uploader, &report, &args) {
            return Ok(code);
        }
    }
    Ok(gate_exit(&report, &gate))
}

/// Uploads the finished report; one that cannot be delivered is kept on disk and named,
/// and the scan exits 2.
fn upload(
    runtime: &tokio::runtime::Runtime,
    uploader: &upload_cmd::Uploader,
    report: &Report,
    args: &ScanArgs,
) -> Result<(), ExitCode> {
    let json = serde_json::to_vec_pretty(report).expect("a report serializes");
    match runtime.block_on(uploader.send(&json)) {
        Ok(receipt) => {
            eprintln!("report {}", upload_cmd::describe(&receipt, uploader));
            Ok(())
        }
        Err(e) => {
            let dir = args.upload_keep.clone().unwrap_or_else(|| PathBuf::from("."));
            let scan_id = report.scan_id.as_deref().unwrap_or("report");
            match upload_cmd::keep_on_disk(&json, scan_id, &dir) {
                Ok(path) => eprintln!(
                    "error: cannot upload the report to {}: {e:#}; it is kept at {} (send it later with `authprobe upload {} --to {}`)",
                    uploader.dashboard(),
                    path.display(),
                    path.display(),
                    uploader.dashboard()
                ),
                Err(keep) => eprintln!(
                    "error: cannot upload the report to {}: {e:#}; and cannot keep it on disk either: {keep:#}",
                    uploader.dashboard()
                ),
            }
            Err(ExitCode::from(2))
        }
    }
}

/// Renders one format of the report; the Markdown report links `--report-url`.
fn render(
    format: OutputFormat,
    report: &Report,
    rules: &[authprobe_report::RuleInfo],
    color: bool,
    args: &ScanArgs,
) -> String {
    match format {
        OutputFormat::Markdown => authprobe_report::markdown::render_with(
            report,
            &authprobe_report::markdown::MarkdownOptions {
                full_report_url: args.report_url.clone(),
            },
        ),
        _ => format.emitter().render(report, rules, color),
    }
}

/// Where one rendered format goes.
#[derive(Debug, PartialEq)]
enum Destination {
    Stdout,
    File(PathBuf),
}

/// Pairs every requested format (default: pretty) with its destination: standard output
/// for a single format, `--output FILE` for a single format, `--output-dir DIR` for any
/// number. Creates the directory and checks that the files can be placed.
fn plan_outputs(args: &ScanArgs) -> Result<Vec<(OutputFormat, Destination)>> {
    let mut formats: Vec<OutputFormat> = Vec::new();
    for format in &args.formats {
        if !formats.contains(format) {
            formats.push(*format);
        }
    }
    if formats.is_empty() {
        formats.push(OutputFormat::Pretty);
    }
    let names = || {
        formats
            .iter()
            .map(|f| format!("{f:?}").to_lowercase())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (&args.output, &args.output_dir) {
        (Some(path), _) => {
            if formats.len() > 1 {
                bail!(
                    "--output FILE takes one format, got {}; use --output-dir DIR to write several",
                    names()
                );
            }
            check_file_destination(path)?;
            Ok(vec![(formats[0], Destination::File(path.clone()))])
        }
        (None, Some(dir)) => {
            if dir.exists() && !dir.is_dir() {
                bail!("cannot write reports into {}: it is not a directory", dir.display());
            }
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the output directory {}", dir.display()))?;
            Ok(formats
                .iter()
                .map(|f| (*f, Destination::File(dir.join(f.emitter().file_name()))))
                .collect())
        }
        (None, None) => {
            if formats.len() > 1 {
                bail!(
                    "several formats ({}) cannot share standard output; give --output-dir DIR",
                    names()
                );
            }
            Ok(vec![(formats[0], Destination::Stdout)])
        }
    }
}

/// Fails early when `path` cannot become a report file: a directory, or no parent directory.
fn check_file_destination(path: &Path) -> Result<()> {
    if path.is_dir() {
        bail!("cannot write the report to {}: it is a directory", path.display());
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        bail!(
            "cannot write the report to {}: the directory {} does not exist",
            path.display(),
            parent.display()
        );
    }
    Ok(())
}

/// The check catalog as the emitters need it (SARIF rules, JUnit test cases).
pub(crate) fn catalog() -> Vec<authprobe_report::RuleInfo> {
    authprobe_checks::all()
        .iter()
        .map(|check| {
            let m = check.meta();
            authprobe_report::RuleInfo {
                code: m.code.into(),
                slug: m.slug.into(),
                title: m.title.into(),
                severity: m.severity,
                cwe: m.cwe.iter().map(|c| format!("CWE-{c}")).collect(),
                owasp: m.owasp.iter().map(|o| o.to_string()).collect(),
                category: m.family.name().into(),
                help_markdown: check.doc().trim().to_string(),
            }
        })
        .collect()
}

/// Each check's category (family) name, by code.
fn check_categories() -> std::collections::HashMap<String, String> {
    authprobe_checks::all()
        .iter()
        .map(|c| (c.meta().code.to_string(), c.meta().family.name().to_string()))
        .collect()
}

/// The one line that sums a scan up, printed even with `--quiet`:
/// `authprobe: score 62/100, grade D; 7 findings: 1 critical, 2 high, 3 medium, 1 low, 0 info; 412 requests in 14.2 s`.
/// Suppressed findings are counted apart; with a baseline, the new ones are named.
fn summary_line(report: &Report) -> String {
    let open: Vec<_> = report.findings.iter().filter(|f| !f.suppressed).collect();
    let counts: Vec<String> = authprobe_core::Severity::DESCENDING
        .iter()
        .map(|s| format!("{} {s}", open.iter().filter(|f| f.severity == *s).count()))
        .collect();
    let mut line = format!(
        "authprobe: score {}/100, grade {}; {} finding{}: {}",
        report.score,
        report.grade,
        open.len(),
        if open.len() == 1 { "" } else { "s" },
        counts.join(", ")
    );
    if let Some(baseline) = &report.baseline {
        line.push_str(&format!(" ({} new since the baseline)", baseline.new));
    }
    let suppressed = report.findings.len() - open.len();
    if suppressed > 0 {
        line.push_str(&format!(", {suppressed} suppressed"));
    }
    line.push_str(&format!(
        "; {} requests in {:.1} s",
        report.stats.requests,
        report.duration_ms as f64 / 1000.0
    ));
    if report.incomplete {
        line.push_str("; incomplete");
    }
    line
}

/// The gate's verdict and the line that gives its reason, e.g.
/// `gate: failed: 3 findings at or above high (--fail-on high)`; `None` without a gate.
/// Suppressed findings never count; with a baseline only new findings count, and the
/// score fails only when it is also below the baseline's.
fn gate_verdict(report: &Report, gate: &Gate) -> Option<(bool, String)> {
    let mut reasons = Vec::new();
    let mut flags = Vec::new();
    if let Some(severity) = gate.fail_on {
        flags.push(format!("--fail-on {severity}"));
        let n = report
            .findings_at_least(severity)
            .filter(|f| !f.suppressed)
            .filter(|f| f.baseline != Some(authprobe_core::report::BaselineState::Unchanged))
            .count();
        if n > 0 {
            let new = if report.baseline.is_some() { "new " } else { "" };
            let s = if n == 1 { "" } else { "s" };
            reasons.push(format!(
                "{n} {new}finding{s} at or above {severity} (--fail-on {severity})"
            ));
        }
    }
    if let Some(min) = gate.min_score {
        flags.push(format!("--min-score {min}"));
        match &report.baseline {
            Some(b) if report.score < min && report.score < b.score => {
                reasons.push(format!(
                    "score {} is below {min} and below the baseline's {} (--min-score {min})",
                    report.score, b.score
                ));
            }
            None if report.score < min => {
                reasons.push(format!("score {} is below {min} (--min-score {min})", report.score))
            }
            _ => {}
        }
    }
    if flags.is_empty() {
        None
    } else if reasons.is_empty() {
        Some((true, format!("gate: passed ({})", flags.join(", "))))
    } else {
        Some((false, format!("gate: failed: {}", reasons.join("; "))))
    }
}

/// Exit 1 when any counted finding reaches `--fail-on` or the score is under `--min-score`;
/// the reason goes to standard error even with `--quiet`.
fn gate_exit(report: &Report, gate: &Gate) -> ExitCode {
    match gate_verdict(report, gate) {
        None => ExitCode::SUCCESS,
        Some((passed, line)) => {
            eprintln!("{line}");
            if passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// `authprobe diff OLD NEW`.
fn diff(args: &cli::DiffArgs) -> Result<()> {
    let old = triage::load_report(&args.old)?;
    let new = triage::load_report(&args.new)?;
    let diff = authprobe_report::diff::Diff::new(&old, &new);
    let text = match args.format {
        cli::DiffFormat::Pretty => authprobe_report::diff::pretty(&diff),
        cli::DiffFormat::Markdown => authprobe_report::diff::markdown(&diff),
        cli::DiffFormat::Json => authprobe_report::diff::json(&diff),
    };
    std::io::stdout().write_all(text.as_bytes())?;
    Ok(())
}

fn list_checks() -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<9} {:<14} {:<32} {:<28} TITLE",
        "CODE", "SEVERITY", "SLUG", "REQUIRES"
    )?;
    for check in authprobe_checks::all() {
        let m = check.meta();
        writeln!(
            out,
            "{:<9} {:<14} {:<32} {:<28} {}",
            m.code,
            authprobe_core::check::severity_label(*check),
            m.slug,
            authprobe_core::check::requirement_label(*check),
            m.title
        )?;
    }
    Ok(())
}

fn explain(code: &str) -> Result<()> {
    let check = authprobe_checks::by_code(code)
        .with_context(|| format!("no check `{code}`; `authprobe checks` lists them all"))?;
    let m = check.meta();
    let cwe: Vec<String> = m.cwe.iter().map(|c| format!("CWE-{c}")).collect();
    let mut out = std::io::stdout().lock();
    writeln!(out, "# {} {}: {}\n", m.code, m.slug, m.title)?;
    writeln!(
        out,
        "Severity: {} · {} · OWASP {} · requires: {}\n",
        authprobe_core::check::severity_label(check),
        cwe.join(", "),
        m.owasp.join(", "),
        authprobe_core::check::requirement_label(check)
    )?;
    write!(out, "{}", check.doc())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_args(flags: &[&str]) -> ScanArgs {
        let argv = ["authprobe", "scan", "http://127.0.0.1:9/"].iter().chain(flags);
        match Cli::try_parse_from(argv).expect("flags parse").command {
            Command::Scan(args) => *args,
            _ => unreachable!(),
        }
    }

    #[test]
    fn pretty_goes_to_stdout_by_default() {
        let plan = plan_outputs(&scan_args(&[])).unwrap();
        assert_eq!(plan, vec![(OutputFormat::Pretty, Destination::Stdout)]);
    }

    #[test]
    fn formats_repeat_or_split_on_commas_and_each_gets_its_file() {
        let dir = std::env::temp_dir().join(format!("authprobe-plan-{}", std::process::id()));
        let plan = plan_outputs(&scan_args(&[
            "--format",
            "json",
            "--format",
            "sarif,markdown,junit,json",
            "--output-dir",
            dir.to_str().unwrap(),
        ]))
        .unwrap();
        let files: Vec<String> = plan
            .iter()
            .map(|(_, d)| match d {
                Destination::File(p) => p.file_name().unwrap().to_string_lossy().into_owned(),
                Destination::Stdout => "stdout".into(),
            })
            .collect();
        assert_eq!(files, ["report.json", "report.sarif", "report.md", "report.junit.xml"]);
        assert!(dir.is_dir());
        std::fs::remove_dir(&dir).unwrap();
    }

    #[test]
    fn several_formats_need_an_output_dir() {
        let err = plan_outputs(&scan_args(&["--format", "json", "--format", "sarif"])).unwrap_err();
        assert!(err.to_string().contains("--output-dir"), "{err}");
        let err = plan_outputs(&scan_args(&["-f", "json,sarif", "--output", "r.json"])).unwrap_err();
        assert!(err.to_string().contains("--output-dir"), "{err}");
    }

    #[test]
    fn unwritable_destinations_fail_before_the_scan() {
        let err = plan_outputs(&scan_args(&["--output", "/nonexistent-dir/report.json"])).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
        let tmp = std::env::temp_dir();
        let err = plan_outputs(&scan_args(&["--output", tmp.to_str().unwrap()])).unwrap_err();
        assert!(err.to_string().contains("is a directory"), "{err}");
        let file = tmp.join(format!("authprobe-plan-file-{}", std::process::id()));
        std::fs::write(&file, "").unwrap();
        let err = plan_outputs(&scan_args(&["--output-dir", file.to_str().unwrap()])).unwrap_err();
        assert!(err.to_string().contains("not a directory"), "{err}");
        std::fs::remove_file(&file).unwrap();
    }

    #[test]
    fn output_and_output_dir_conflict() {
        let argv = ["authprobe", "scan", "http://x/", "--output", "a", "--output-dir", "b"];
        assert!(Cli::try_parse_from(argv).is_err());
    }

    fn gated(findings: serde_json::Value, score: u8, baseline: Option<u8>) -> Report {
        let mut value = serde_json::json!({
            "schema": "authprobe.report/v1", "tool": {"name": "authprobe", "version": "0"},
            "target": {"url": "http://x/"}, "started_at": "", "finished_at": "", "duration_ms": 0,
            "stats": {"requests": 0, "endpoints": 0}, "score": score, "grade": "F",
            "categories": [], "checks_skipped": [], "findings": []
        });
        for f in findings.as_array().unwrap() {
            let mut finding = serde_json::json!({
                "check": "DJ001", "slug": "", "title": "", "severity": "high", "confidence": "confirmed",
                "cwe": [], "owasp": [], "endpoint": "/", "message": "", "evidence": [], "remediation": ""
            });
            for (k, v) in f.as_object().unwrap() {
                finding[k] = v.clone();
            }
            value["findings"].as_array_mut().unwrap().push(finding);
        }
        if let Some(b) = baseline {
            value["baseline"] = serde_json::json!({"score": b, "new": 0, "unchanged": 0, "resolved": 0});
        }
        serde_json::from_value(value).unwrap()
    }

    fn exit(report: &Report, fail_on: Option<Severity>, min_score: Option<u8>) -> ExitCode {
        let gate = Gate {
            fail_on,
            min_score,
            ..Gate::default()
        };
        gate_exit(report, &gate)
    }

    use authprobe_core::Severity;

    #[test]
    fn the_gate_counts_neither_suppressed_nor_baseline_findings() {
        let high = Some(Severity::High);
        let open = gated(serde_json::json!([{}]), 80, None);
        assert_eq!(exit(&open, high, None), ExitCode::from(1));
        let suppressed = gated(serde_json::json!([{"suppressed": true}]), 100, None);
        assert_eq!(exit(&suppressed, high, None), ExitCode::SUCCESS);
        let known = gated(serde_json::json!([{"baseline": "unchanged"}]), 80, Some(80));
        assert_eq!(exit(&known, high, None), ExitCode::SUCCESS);
        let new = gated(serde_json::json!([{"baseline": "new"}]), 80, Some(80));
        assert_eq!(exit(&new, high, None), ExitCode::from(1));
        assert_eq!(exit(&open, Some(Severity::Critical), None), ExitCode::SUCCESS);
    }

    #[test]
    fn min_score_with_a_baseline_fails_only_below_both() {
        let r = |score, baseline| gated(serde_json::json!([]), score, baseline);
        assert_eq!(exit(&r(70, None), None, Some(80)), ExitCode::from(1));
        assert_eq!(exit(&r(70, Some(60)), None, Some(80)), ExitCode::SUCCESS);
        assert_eq!(exit(&r(70, Some(70)), None, Some(80)), ExitCode::SUCCESS);
        assert_eq!(exit(&r(70, Some(75)), None, Some(80)), ExitCode::from(1));
        assert_eq!(exit(&r(85, Some(95)), None, Some(80)), ExitCode::SUCCESS);
        // Both set: either condition fails the gate.
        let both = gated(serde_json::json!([{"severity": "low"}]), 70, None);
        assert_eq!(exit(&both, Some(Severity::High), Some(80)), ExitCode::from(1));
        assert_eq!(exit(&both, Some(Severity::Low), Some(60)), ExitCode::from(1));
        assert_eq!(exit(&both, Some(Severity::High), Some(60)), ExitCode::SUCCESS);
    }

    #[test]
    fn the_gate_gives_its_reason_and_the_summary_counts_each_severity() {
        let report = gated(
            serde_json::json!([{}, {"severity": "low"}, {"suppressed": true}]),
            40,
            None,
        );
        let strict = Gate {
            fail_on: Some(Severity::High),
            min_score: Some(80),
            ..Gate::default()
        };
        assert_eq!(
            gate_verdict(&report, &strict),
            Some((
                false,
                "gate: failed: 1 finding at or above high (--fail-on high); score 40 is below 80 (--min-score 80)"
                    .to_string()
            ))
        );
        let lenient = Gate {
            fail_on: Some(Severity::Critical),
            ..Gate::default()
        };
        assert_eq!(
            gate_verdict(&report, &lenient),
            Some((true, "gate: passed (--fail-on critical)".to_string()))
        );
        assert_eq!(gate_verdict(&report, &Gate::default()), None);
        assert_eq!(
            summary_line(&report),
            "authprobe: score 40/100, grade F; 2 findings: 0 critical, 1 high, 0 medium, 1 low, 0 info, \
             1 suppressed; 0 requests in 0.0 s"
        );
    }

    #[test]
    fn the_catalog_names_every_check_with_its_documentation() {
        let rules = catalog();
        assert_eq!(rules.len(), authprobe_checks::all().len());
        for rule in &rules {
            assert!(rule.help_markdown.contains("## Remediation"), "{}", rule.code);
            assert!(rule.cwe.iter().all(|c| c.starts_with("CWE-")));
        }
    }
}
