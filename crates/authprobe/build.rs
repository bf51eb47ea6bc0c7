//! Puts the commit authprobe was built from into `--version` (`authprobe 0.1.0 (3d34830)`):
//! `AUTHPROBE_COMMIT` when the builder sets it (a container build without `.git`), else
//! `git rev-parse`, else "unknown commit".

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=AUTHPROBE_COMMIT");
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git").args(args).output().ok()?;
        let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
        (out.status.success() && !text.is_empty()).then_some(text)
    };
    // Rebuild when HEAD moves: the files git keeps it in (a worktree's .git is a file).
    let branch = git(&["rev-parse", "--symbolic-full-name", "HEAD"]).filter(|r| r.starts_with("refs/"));
    let watched = ["HEAD".to_string(), "packed-refs".to_string()]
        .into_iter()
        .chain(branch);
    for path in watched {
        if let Some(file) = git(&["rev-parse", "--git-path", &path]) {
            let file = std::path::Path::new(&file);
            let file = if file.is_absolute() {
                file.to_path_buf()
            } else {
                std::env::current_dir().map(|d| d.join(file)).unwrap_or_default()
            };
            // A missing file would make cargo rerun this script on every build.
            if file.exists() {
                println!("cargo:rerun-if-changed={}", file.display());
            }
        }
    }
    let commit = std::env::var("AUTHPROBE_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| git(&["rev-parse", "--short=10", "HEAD"]))
        .unwrap_or_else(|| "unknown commit".to_string());
    println!("cargo:rustc-env=AUTHPROBE_COMMIT={commit}");
}
