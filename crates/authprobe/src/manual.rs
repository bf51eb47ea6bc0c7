//! What authprobe says about itself outside a scan: the catalog as JSON
//! (`authprobe checks --format json`), shell completions and the man page.

use anyhow::{bail, Result};
use clap::CommandFactory;
use std::io::Write;

use crate::cli::Cli;

/// One check as `authprobe checks --format json` lists it.
#[derive(serde::Serialize)]
struct CatalogEntry {
    code: &'static str,
    slug: &'static str,
    title: &'static str,
    /// The catalog severity.
    severity: &'static str,
    /// Every severity its findings can have, least severe first.
    severities: Vec<&'static str>,
    cwe: Vec<String>,
    owasp: &'static [&'static str],
    /// passive, active, identity, login flow, two identities.
    requires: &'static str,
    /// The report category.
    family: &'static str,
    /// Must POST (skipped by the safe profile).
    sends_post: bool,
    /// A write probe (runs only with --allow-writes).
    writes: bool,
    /// The results it shares with other checks (computed once per scan), e.g. `cracking`.
    shares: Vec<&'static str>,
}

/// `authprobe checks --format json`: the catalog as a JSON array, one object per check.
pub fn checks_json() -> Result<()> {
    let checks: Vec<CatalogEntry> = authprobe_checks::all()
        .iter()
        .map(|check| {
            let m = check.meta();
            CatalogEntry {
                code: m.code,
                slug: m.slug,
                title: m.title,
                severity: m.severity.as_str(),
                severities: check.severities().iter().map(|s| s.as_str()).collect(),
                cwe: m.cwe.iter().map(|c| format!("CWE-{c}")).collect(),
                owasp: m.owasp,
                requires: m.requires.as_str(),
                family: m.family.name(),
                sends_post: check.sends_post(),
                writes: check.writes(),
                shares: check.shares().iter().map(|s| s.name()).collect(),
            }
        })
        .collect();
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &checks)?;
    writeln!(out)?;
    Ok(())
}

/// `authprobe completions SHELL`: the completion script on standard output.
pub fn completions(shell: clap_complete::Shell) -> Result<()> {
    // Generated into memory: written to a closed pipe, the generator would panic.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "authprobe", &mut script);
    let mut out = std::io::stdout().lock();
    out.write_all(&script)?;
    out.flush()?;
    Ok(())
}

/// `authprobe man [COMMAND]`: authprobe(1), or authprobe-COMMAND(1), in roff.
pub fn man(command: Option<&str>) -> Result<()> {
    let mut cli = Cli::command();
    cli.build();
    let page = match command {
        None => cli,
        Some(name) => match cli.find_subcommand(name) {
            // Built, a subcommand is displayed as `authprobe-scan` and used as `authprobe scan`.
            Some(sub) => sub.clone().version(crate::cli::VERSION),
            None => {
                let names: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
                bail!("no command `{name}`; the commands are {}", names.join(", "));
            }
        },
    };
    let mut out = std::io::stdout().lock();
    clap_mangen::Man::new(page).render(&mut out)?;
    out.flush()?;
    Ok(())
}
