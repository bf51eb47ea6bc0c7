//! `authprobe tokens analyze FILE`: the randomness analysis the TOKEN001–TOKEN003 checks run
//! during a scan, on an offline sample (one token per line, in issue order).
//! Exit codes: 0 nothing flagged, 1 a weakness was found, 2 error.

use anyhow::{bail, Context, Result};
use authprobe_core::check::doc_section;
use authprobe_core::report::ReportFinding;
use authprobe_core::Confidence;
use authprobe_entropy::{Analysis, Options, Strength, Weakness};
use clap::{Args, Subcommand, ValueEnum};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct TokensArgs {
    #[command(subcommand)]
    pub command: TokensCommand,
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Analyse a sample of tokens (session ids, API keys, reset codes) for low entropy,
    /// predictability and derivation from identities, like a scan's TOKEN001-TOKEN003.
    #[command(
        after_help = "Examples:\n  authprobe tokens analyze sessions.txt\n  authprobe tokens analyze keys.txt --identity alice,alice@example.com,1 --format json\n  \
some-command | authprobe tokens analyze -\n\nOne token per line, in the order they were issued (blank lines are ignored; at most 20,000 are \
analysed: 100 is a weak sample, 5,000 a good one).\nExit codes: 0 nothing flagged, 1 a weakness was found, 2 error."
    )]
    Analyze(AnalyzeArgs),
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// The sample: one token per line; `-` reads standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Output format.
    #[arg(long, value_enum, default_value_t = TokensFormat::Pretty)]
    pub format: TokensFormat,

    /// Identity values the tokens may be derived from (usernames, emails, user ids),
    /// comma-separated and repeatable: `--identity alice,alice@example.com,1`.
    #[arg(long = "identity", value_name = "VALUES", value_delimiter = ',')]
    pub identities: Vec<String>,

    /// Unix time the tokens were issued around: enables the hashed-time candidates and
    /// requires embedded times to lie within two days of it.
    #[arg(long, value_name = "UNIX_SECONDS")]
    pub issued_at: Option<i64>,

    /// Family-wise significance level of the statistical tests.
    #[arg(long, value_name = "ALPHA", default_value_t = authprobe_entropy::DEFAULT_SIGNIFICANCE)]
    pub significance: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TokensFormat {
    Pretty,
    Json,
}

pub fn run(args: TokensArgs) -> Result<ExitCode> {
    match args.command {
        TokensCommand::Analyze(a) => analyze(&a, &mut std::io::stdout().lock()),
    }
}

fn read_sample(file: &PathBuf) -> Result<(String, Vec<String>)> {
    let (name, bytes) = if file.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("cannot read standard input")?;
        ("stdin".to_string(), buf)
    } else {
        let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        (file.display().to_string(), bytes)
    };
    let tokens: Vec<String> = String::from_utf8_lossy(&bytes)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    if tokens.is_empty() {
        bail!("{name} holds no tokens (expected one token per line)");
    }
    Ok((name, tokens))
}

pub fn analyze(args: &AnalyzeArgs, out: &mut impl Write) -> Result<ExitCode> {
    if !(args.significance > 0.0 && args.significance < 1.0) {
        bail!("--significance must lie between 0 and 1 (got {})", args.significance);
    }
    let (name, tokens) = read_sample(&args.file)?;
    let options = Options {
        significance: args.significance,
        identities: args
            .identities
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        reference_time: args.issued_at,
    };
    let analysis = authprobe_entropy::analyze(&tokens, &options).with_context(|| format!("cannot analyse {name}"))?;
    let findings = findings(&analysis, &name);
    match args.format {
        TokensFormat::Json => {
            let doc = serde_json::json!({
                "schema": "authprobe.tokens/v1",
                "tool": {"name": "authprobe", "version": env!("CARGO_PKG_VERSION")},
                "source": {"file": name, "tokens": analysis.tokens, "analysed": analysis.analysed},
                "entropy": entropy_json(&analysis),
                "findings": findings,
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        }
        TokensFormat::Pretty => pretty(out, &name, &analysis, &findings)?,
    }
    Ok(if findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The entropy figures of the JSON output (the analysis minus per-position detail noise).
fn entropy_json(a: &Analysis) -> serde_json::Value {
    let mut v = serde_json::to_value(a).unwrap_or_default();
    if let Some(map) = v.as_object_mut() {
        map.insert("randomness_rejected".into(), a.randomness_rejected().into());
    }
    v
}

/// One finding per weakness, in the scan report's vocabulary.
fn findings(a: &Analysis, name: &str) -> Vec<ReportFinding> {
    [Weakness::LowEntropy, Weakness::Predictable, Weakness::IdentityDerived]
        .into_iter()
        .filter_map(|w| {
            let verdict = a.verdict(w)?;
            let check = authprobe_checks::by_code(w.code())?;
            let meta = check.meta();
            let confidence = match verdict.strength {
                Strength::Conclusive => Confidence::Confirmed,
                Strength::Strong => Confidence::Firm,
                Strength::Weak => Confidence::Tentative,
            };
            Some(ReportFinding {
                check: meta.code.to_string(),
                slug: meta.slug.to_string(),
                title: meta.title.to_string(),
                severity: meta.severity,
                confidence,
                cwe: meta.cwe.iter().map(|c| format!("CWE-{c}")).collect(),
                owasp: meta.owasp.iter().map(|o| o.to_string()).collect(),
                endpoint: name.to_string(),
                message: format!(
                    "{}: {} (sample of {} tokens, reliability {}).",
                    name,
                    verdict.summary,
                    a.analysed,
                    a.reliability.as_str()
                ),
                evidence: Vec::new(),
                remediation: doc_section(check.doc(), "Remediation").unwrap_or_default().to_string(),
                fingerprint: String::new(),
                suppressed: false,
                suppression_reason: None,
                baseline: None,
            })
        })
        .collect()
}

fn p(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a (too few bits)".to_string(), |p| format!("p = {p:.3}"))
}

fn pretty(out: &mut impl Write, name: &str, a: &Analysis, findings: &[ReportFinding]) -> Result<()> {
    writeln!(out, "Token sample: {name}")?;
    let extra = if a.tokens > a.analysed {
        format!(" (of {}; the rest ignored)", a.tokens)
    } else {
        String::new()
    };
    writeln!(
        out,
        "  tokens analysed     {}{extra}, {} distinct, {} duplicate pair(s)",
        a.analysed, a.distinct, a.duplicate_pairs
    )?;
    writeln!(out, "  reliability         {}", a.reliability.as_str())?;
    let len = if a.max_len > a.min_len {
        format!("{}-{}", a.min_len, a.max_len)
    } else {
        a.min_len.to_string()
    };
    writeln!(
        out,
        "  format              length {len}, {} alphabet ({} symbols), {} varying position(s)",
        a.alphabet.name, a.alphabet.size, a.varying_positions
    )?;
    writeln!(out, "\nEntropy per token")?;
    writeln!(out, "  alphabet x length bound   {:>7.1} bits", a.bound_bits)?;
    if let Some(c) = a.compression_bits {
        writeln!(out, "  compression estimate      {c:>7.1} bits")?;
    }
    if let Some(c) = a.collision_bits {
        writeln!(out, "  collision estimate        {c:>7.1} bits")?;
    }
    writeln!(
        out,
        "  effective entropy         {:>7.1} bits  (significance {}, Bonferroni-corrected)",
        a.effective_bits, a.significance
    )?;
    writeln!(out, "\nCharacter level")?;
    let tested = a.positions.iter().filter(|p| p.count_p.is_some()).count();
    let constant = a.positions.iter().filter(|p| p.constant).count();
    writeln!(
        out,
        "  {} position(s): {constant} constant, {tested} tested for uniformity and transitions{}",
        a.positions.len(),
        if tested == 0 && constant < a.positions.len() {
            " (needs 5 tokens per alphabet symbol)"
        } else {
            ""
        }
    )?;
    if let Some(b) = &a.bit_tests {
        writeln!(out, "\nBit level ({} bits)", b.bits)?;
        writeln!(out, "  monobit              {}", p(b.monobit_p))?;
        writeln!(out, "  poker                {}", p(b.poker_p))?;
        writeln!(out, "  runs                 {}", p(b.runs_p))?;
        writeln!(
            out,
            "  long runs            {} (longest {})",
            p(b.long_run_p),
            b.longest_run
        )?;
        writeln!(out, "  serial correlation   {}", p(b.serial_p))?;
        writeln!(out, "  spectral             {}", p(b.spectral_p))?;
        if b.fips.blocks > 0 {
            writeln!(
                out,
                "  FIPS 140-2 blocks    {} of 20,000 bits: monobit {} / poker {} / runs {} / long run {} passed",
                b.fips.blocks, b.fips.monobit_passed, b.fips.poker_passed, b.fips.runs_passed, b.fips.long_run_passed
            )?;
        }
    }
    if a.failed_tests.is_empty() {
        writeln!(out, "  randomness not rejected by any test")?;
    } else {
        writeln!(out, "  randomness rejected: {}", a.failed_tests.join("; "))?;
    }
    writeln!(out, "\nStructure")?;
    if a.predictions.is_empty() {
        writeln!(out, "  no counter, generator, embedded time or UUIDv1 structure found")?;
    }
    for pr in &a.predictions {
        writeln!(out, "  {}", pr.summary)?;
    }
    writeln!(out, "\nFindings")?;
    if findings.is_empty() {
        writeln!(out, "  none: nothing in this sample is weak")?;
    }
    for f in findings {
        writeln!(
            out,
            "  {} {} [{}, {}]: {}",
            f.check, f.title, f.severity, f.confidence, f.message
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_on(lines: &str, format: TokensFormat, identities: &[&str]) -> (Result<ExitCode>, String) {
        let dir = std::env::temp_dir().join(format!("authprobe-tokens-{}", rand_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("tokens.txt");
        std::fs::write(&file, lines).unwrap();
        let args = AnalyzeArgs {
            file,
            format,
            identities: identities.iter().map(|s| s.to_string()).collect(),
            issued_at: None,
            significance: authprobe_entropy::DEFAULT_SIGNIFICANCE,
        };
        let mut out = Vec::new();
        let result = analyze(&args, &mut out);
        let _ = std::fs::remove_dir_all(&dir);
        (result, String::from_utf8(out).unwrap())
    }

    fn rand_suffix() -> String {
        format!(
            "{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        )
    }

    #[test]
    fn a_counter_sample_yields_report_vocabulary_findings_in_json() {
        let lines: String = (1..=60).map(|i| format!("{}\n", 40_000_000 + i)).collect();
        let (code, out) = run_on(&lines, TokensFormat::Json, &[]);
        assert_eq!(code.unwrap(), ExitCode::from(1));
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        let codes: Vec<&str> = json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["check"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["TOKEN001", "TOKEN002"]);
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
        ] {
            assert!(json["findings"][0].get(key).is_some(), "{key}");
        }
        assert!((json["entropy"]["bound_bits"].as_f64().unwrap() - 26.57).abs() < 0.01);
        assert!(!out.contains("40000061"), "predicted tokens stay out of the output");
    }

    #[test]
    fn random_keys_yield_no_finding_and_md5_of_a_hint_does() {
        let lines: String = (0..200u64)
            .map(|i| {
                let x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xDEAD_BEEF;
                let y = x.rotate_left(29).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                let z = y.rotate_left(17).wrapping_mul(0x94D0_49BB_1331_11EB);
                format!("{x:016x}{y:016x}{z:08x}\n", z = z as u32)
            })
            .collect();
        let (code, out) = run_on(&lines, TokensFormat::Json, &[]);
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(json["findings"], serde_json::json!([]), "{out}");
        assert_eq!(code.unwrap(), ExitCode::SUCCESS);
        let (code, out) = run_on(
            "6384e2b2184bcbf58eccf10ca7a6563c\nfcc37ad9306ee6bba3fd4f0c0d8c7bc8\n",
            TokensFormat::Pretty,
            &["alice", "bob"],
        );
        assert_eq!(code.unwrap(), ExitCode::from(1));
        assert!(out.contains("TOKEN003") && out.contains("md5(`alice`)"), "{out}");
    }

    #[test]
    fn missing_empty_and_tiny_samples_are_clear_errors() {
        let args = AnalyzeArgs {
            file: PathBuf::from("/nonexistent/tokens.txt"),
            format: TokensFormat::Pretty,
            identities: Vec::new(),
            issued_at: None,
            significance: 1e-4,
        };
        let err = analyze(&args, &mut Vec::new()).unwrap_err();
        assert!(
            format!("{err:#}").contains("cannot read /nonexistent/tokens.txt"),
            "{err:#}"
        );
        let (r, _) = run_on("\n  \n", TokensFormat::Pretty, &[]);
        assert!(format!("{:#}", r.unwrap_err()).contains("holds no tokens"));
        let (r, _) = run_on("abcdef\n", TokensFormat::Pretty, &[]);
        assert!(format!("{:#}", r.unwrap_err()).contains("at least 2 are needed"));
    }
}
