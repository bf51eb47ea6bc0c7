//! The `authprobe` command: parses flags, loads the config, runs the engine, prints the
//! report and turns the gate into an exit code (0 pass, 1 gate failed, 2 error).

mod cli;
mod crack_cmd;
mod progress;
mod settings;

use anyhow::{Context, Result};
use authprobe_core::{engine, Report};
use clap::Parser;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use cli::{Cli, Command, OutputFormat, ScanArgs};
use settings::Gate;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => run_scan(*args),
        Command::Checks => list_checks().map(|_| ExitCode::SUCCESS),
        Command::Explain { code } => explain(&code).map(|_| ExitCode::SUCCESS),
        Command::Crack(args) => crack_cmd::run(*args),
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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let progress = progress::Progress::new(args.quiet);
    let report = runtime.block_on(engine::scan(config, authprobe_checks::all(), &progress));
    progress.finish();
    let report = report?;

    let color = args.output.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let format = match args.format {
        OutputFormat::Pretty => authprobe_report::Format::Pretty,
        OutputFormat::Json => authprobe_report::Format::Json,
    };
    let rendered = format.render(&report, color);
    match &args.output {
        Some(path) => {
            std::fs::write(path, rendered).with_context(|| format!("cannot write the report to {}", path.display()))?;
            if !args.quiet {
                eprintln!(
                    "report written to {} (score {}, grade {})",
                    path.display(),
                    report.score,
                    report.grade
                );
            }
        }
        None => std::io::stdout().write_all(rendered.as_bytes())?,
    }
    Ok(gate_exit(&report, &gate, args.quiet))
}

/// Exit 1 when any finding reaches `--fail-on` or the score is under `--min-score`.
fn gate_exit(report: &Report, gate: &Gate, quiet: bool) -> ExitCode {
    let mut reasons = Vec::new();
    if let Some(severity) = gate.fail_on {
        let n = report.findings_at_least(severity).count();
        if n > 0 {
            reasons.push(format!("{n} finding(s) at or above {severity}"));
        }
    }
    if let Some(min) = gate.min_score {
        if report.score < min {
            reasons.push(format!("score {} is below {min}", report.score));
        }
    }
    if reasons.is_empty() {
        ExitCode::SUCCESS
    } else {
        if !quiet {
            eprintln!("gate failed: {}", reasons.join("; "));
        }
        ExitCode::from(1)
    }
}

fn list_checks() -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<9} {:<9} {:<32} {:<15} TITLE",
        "CODE", "SEVERITY", "SLUG", "REQUIRES"
    )?;
    for check in authprobe_checks::all() {
        let m = check.meta();
        writeln!(
            out,
            "{:<9} {:<9} {:<32} {:<15} {}",
            m.code,
            m.severity.as_str(),
            m.slug,
            m.requires.as_str(),
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
        m.severity,
        cwe.join(", "),
        m.owasp.join(", "),
        m.requires.as_str()
    )?;
    write!(out, "{}", check.doc())?;
    Ok(())
}
