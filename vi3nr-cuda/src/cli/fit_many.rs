//! `vi3nr fit-many`: fit every input of a manifest (or this shard's share of it) with the same
//! `vi3nr fit` flags, each into `OUT/<name>/`; inputs already done are skipped.
//!
//! The rule `vi3nr.fit_many` (Python, Ray) follows too: `OUT/<name>/` is complete when it
//! holds `metrics.json`, and it appears only by renaming a finished temporary directory
//! `OUT/.<name>.<pid>`, so a rerun (or another shard's) skips it and an interrupted fit is
//! redone. A failing input is reported and the others go on; the exit code is then 1.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser};

use super::{Cli, Command};

/// `vi3nr fit-many` flags.
#[derive(Args)]
pub struct FitManyArgs {
    /// A text file with one input path per line (blank lines and `#` comments ignored;
    /// relative paths are relative to the manifest's directory).
    manifest: PathBuf,
    /// This process's share: the inputs on lines k with k mod N = I (0-based, counting inputs),
    /// e.g. `--shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`.
    #[arg(long, value_parser = parse_shard, default_value = "0/1")]
    shard: (usize, usize),
    /// Output directory: each input's outputs go into OUT/NAME/ (NAME: the file name without its extension).
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// `vi3nr fit` flags for every input, after `--`, e.g. `-- --steps 300 --hidden 64,64`.
    #[arg(last = true)]
    fit_flags: Vec<String>,
}

/// Parses `I/N` with I < N.
fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("--shard: expected I/N with 0 ≤ I < N, got {s:?}");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) =
        (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// The manifest's inputs, paths resolved against its directory.
fn read_manifest(path: &Path) -> Result<Vec<PathBuf>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the manifest {}: {e}", path.display()))?;
    let base = path.parent().unwrap_or(Path::new(""));
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| base.join(l))
        .collect())
}

/// The output name of an input: its file name without the extension.
fn output_name(input: &Path) -> String {
    input.file_stem().map_or_else(|| "input".to_string(), |s| s.to_string_lossy().into_owned())
}

/// What happened to one input.
enum Outcome {
    Done,
    Skipped,
    Failed(String),
}

/// Fits `input` into `final_dir` through a temporary sibling directory.
fn fit_one(input: &Path, out: &Path, name: &str, flags: &[String]) -> Outcome {
    let final_dir = out.join(name);
    if final_dir.join("metrics.json").exists() {
        return Outcome::Skipped;
    }
    let tmp = out.join(format!(".{name}.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let mut argv: Vec<String> = vec!["vi3nr".into(), "fit".into(), input.display().to_string()];
    argv.extend(["--out".into(), tmp.display().to_string()]);
    argv.extend(flags.iter().cloned());
    let fit_args = match Cli::try_parse_from(&argv) {
        Ok(Cli { command: Command::Fit(a) }) => a,
        Ok(_) => return Outcome::Failed("not a fit".into()),
        Err(e) => return Outcome::Failed(e.to_string().trim().to_string()),
    };
    let result = match super::fit::run(&fit_args) {
        Ok(code) if code == ExitCode::SUCCESS => Ok(()),
        Ok(_) => Err("the fit diverged or was interrupted (see above)".to_string()),
        Err(e) => Err(e),
    };
    let renamed = result.and_then(|()| {
        if final_dir.exists() {
            std::fs::remove_dir_all(&final_dir)
                .map_err(|e| format!("cannot replace {}: {e}", final_dir.display()))?;
        }
        std::fs::rename(&tmp, &final_dir)
            .map_err(|e| format!("cannot rename into {}: {e}", final_dir.display()))
    });
    match renamed {
        Ok(()) => Outcome::Done,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Outcome::Failed(e)
        }
    }
}

/// Fits this shard's inputs and prints a summary table.
pub fn run(args: &FitManyArgs) -> Result<ExitCode, String> {
    let (shard, shards) = args.shard;
    let inputs = read_manifest(&args.manifest)?;
    let mine: Vec<&PathBuf> = inputs.iter().skip(shard).step_by(shards).collect();
    let mut names: Vec<String> = inputs.iter().map(|p| output_name(p)).collect();
    names.sort();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!(
            "{}: two inputs share the output name {:?}",
            args.manifest.display(),
            w[0]
        ));
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    let start = Instant::now();
    let mut rows = Vec::new();
    for input in mine {
        let name = output_name(input);
        let t = Instant::now();
        let outcome = fit_one(input, &args.out, &name, &args.fit_flags);
        if let Outcome::Failed(e) = &outcome {
            eprintln!("error: {}: {e}", input.display());
        }
        rows.push((name, outcome, t.elapsed().as_secs_f64()));
    }
    println!("{:<24} {:<8} {:>8} {:>8} {:>8}", "name", "status", "PSNR dB", "bytes", "seconds");
    let mut failed = 0;
    for (name, outcome, secs) in &rows {
        let metrics = std::fs::read(args.out.join(name).join("metrics.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
        let (psnr, bytes) = match &metrics {
            Some(m) => {
                let precision = m["config"]["precision"].as_str().unwrap_or("f32");
                (
                    format!("{:.2}", m["final_psnr"][precision].as_f64().unwrap_or(f64::NAN)),
                    m["model_bytes"].to_string(),
                )
            }
            None => ("-".into(), "-".into()),
        };
        let status = match outcome {
            Outcome::Done => "done",
            Outcome::Skipped => "skipped",
            Outcome::Failed(_) => {
                failed += 1;
                "failed"
            }
        };
        println!("{name:<24} {status:<8} {psnr:>8} {bytes:>8} {secs:>8.1}");
    }
    println!(
        "shard {shard}/{shards}: {} inputs, {failed} failed, wall {:.1} s",
        rows.len(),
        start.elapsed().as_secs_f64()
    );
    Ok(if failed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
