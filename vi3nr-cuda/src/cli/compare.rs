//! `vi3nr compare`: every initialisation on one signal, as a table or JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use vi3nr_cuda::compare::{self, CompareRow};
use vi3nr_cuda::fitting::MeshFit;
use vi3nr_cuda::seeds::mean_sd;
use vi3nr_cuda::signal::{Mesh, Signal, mesh::detect};
use vi3nr_cuda::train::Training;

use super::{MeshArgs, TrainArgs};

/// Steps per run without `--steps`.
const DEFAULT_STEPS: u64 = 300;

/// `vi3nr compare` flags.
#[derive(Args)]
pub struct CompareArgs {
    /// Image, audio or mesh file; the bundled photograph when absent. On a mesh the rows are
    /// ranked by the Chamfer-L1 of their extracted surfaces (as `vi3nr fit` measures them).
    input: Option<PathBuf>,
    #[command(flatten)]
    train: TrainArgs,
    #[command(flatten)]
    mesh: MeshArgs,
    /// Seeds per row (seed, seed + 1, …): the summary gives mean ± standard deviation.
    #[arg(long, default_value_t = 3)]
    seeds: u64,
    /// Only the rows of these activations (comma-separated names: sine, gaussian, sinc,
    /// wavelet).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Print JSON instead of a table (at the end; a line per finished row on stderr).
    #[arg(long)]
    json: bool,
}

/// The rows of one activation and label, in order of appearance.
struct Group<'a> {
    act: String,
    init: &'static str,
    rows: Vec<&'a CompareRow>,
}

impl Group<'_> {
    fn values(&self, f: impl Fn(&CompareRow) -> f64) -> Vec<f64> {
        self.rows.iter().map(|r| f(r)).collect()
    }

    /// Mean ± sd of the finite Chamfer-L1 distances and how many surfaces were empty.
    fn chamfer(&self) -> (f64, f64, usize) {
        let v = self.values(|r| r.mesh.map_or(f64::NAN, |m| m.chamfer_l1));
        let (mean, sd) = mean_sd(&v);
        (mean, sd, v.iter().filter(|c| c.is_infinite()).count())
    }
}

/// The rows grouped by activation and label.
fn summary(rows: &[CompareRow]) -> Vec<Group<'_>> {
    let mut out: Vec<Group<'_>> = Vec::new();
    for r in rows {
        let act = r.act.to_string();
        match out.iter_mut().find(|g| g.act == act && g.init == r.init) {
            Some(g) => g.rows.push(r),
            None => out.push(Group { act, init: r.init, rows: vec![r] }),
        }
    }
    out
}

/// For a mesh: each group's rank within its activation by mean Chamfer-L1 (1 = best; empty
/// surfaces rank below every finite one).
fn ranks(groups: &[Group<'_>]) -> Vec<usize> {
    let key = |g: &Group<'_>| {
        let (mean, _, empty) = g.chamfer();
        (empty, if mean.is_finite() { mean } else { f64::INFINITY })
    };
    groups
        .iter()
        .map(|g| {
            let mine = key(g);
            1 + groups
                .iter()
                .filter(|o| {
                    o.act == g.act && {
                        let k = key(o);
                        k.0 < mine.0 || (k.0 == mine.0 && k.1 < mine.1)
                    }
                })
                .count()
        })
        .collect()
}

/// One row of the table.
fn print_row(r: &CompareRow) {
    let mut note = r.diverged.as_deref().map_or(String::new(), |d| format!("  ({d})"));
    if !r.detail.is_empty() {
        note = format!("  {}{note}", r.detail);
    }
    let mesh = r.mesh.map_or(String::new(), |m| format!(" {:>11.5} {:>7.4}", m.chamfer_l1, m.iou));
    println!(
        "{:<14} {:<15} {:>4}{mesh} {:>10.2} {:>10.2} {:>6} {:>9.1}{note}",
        r.act.to_string(),
        r.init,
        r.seed,
        r.psnr,
        r.best_psnr,
        r.steps,
        r.seconds
    );
}

/// The signal to compare on and, for a mesh, what measures the rows.
fn load(args: &CompareArgs, training: &Training) -> Result<(Signal, Option<MeshFit>), String> {
    let Some(path) = &args.input else {
        return Ok((Signal::bundled(), None));
    };
    let bytes = std::fs::read(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    if ::image::guess_format(&bytes).is_err() && detect(&bytes, path).is_some() {
        let options = args.mesh.options();
        options.check()?;
        let mesh = Mesh::from_bytes(&bytes, path).map_err(|e| e.to_string())?;
        let (signal, fit) = MeshFit::prepare(mesh, options, training.seed);
        return Ok((signal, Some(fit)));
    }
    Ok((Signal::from_bytes(&bytes, path).map_err(|e| e.to_string())?, None))
}

/// Runs the comparison, printing each row as it finishes (with `--json`: a progress line per
/// row on stderr, the JSON on stdout at the end).
pub fn run(args: &CompareArgs) -> Result<ExitCode, String> {
    let training = args.train.training(DEFAULT_STEPS)?;
    if !(1..=100).contains(&args.seeds) {
        return Err(format!("--seeds must be in 1..=100, got {}", args.seeds));
    }
    for name in &args.only {
        if !compare::ACTIVATIONS.iter().any(|a| a.name() == name) {
            return Err(format!(
                "--only: unknown activation {name:?} (sine, gaussian, sinc, wavelet)"
            ));
        }
    }
    let acts: Vec<_> = compare::ACTIVATIONS
        .into_iter()
        .filter(|a| args.only.is_empty() || args.only.iter().any(|n| n == a.name()))
        .collect();
    let (signal, mesh) = load(args, &training)?;
    compare::check(&signal, &training)?;
    let loss = training.loss_for(mesh.is_some());
    if !args.json {
        println!(
            "{}: hidden {:?}, {} steps, lr {} ({:?}, warm-up {}), loss {loss}, seeds {}..{}",
            signal.layout.describe(),
            training.hidden,
            training.steps,
            training.lr,
            training.schedule.kind,
            training.schedule.warmup,
            training.seed,
            training.seed + args.seeds
        );
        let mesh_columns = match &mesh {
            Some(_) => format!(" {:>11} {:>7}", "Chamfer-L1", "IoU"),
            None => String::new(),
        };
        println!(
            "{:<14} {:<15} {:>4}{mesh_columns} {:>10} {:>10} {:>6} {:>9}",
            "activation", "init", "seed", "PSNR dB", "best dB", "steps", "seconds"
        );
    }
    let json = args.json;
    let mut done = 0;
    let rows = compare::run(&signal, mesh.as_ref(), &training, args.seeds, &acts, &mut |r| {
        done += 1;
        if json {
            // JSON goes to stdout at the end; an hour-long run still shows its progress.
            eprintln!(
                "row {done}: {} {} seed {}: {:.2} dB, {} steps, {:.1} s",
                r.act, r.init, r.seed, r.psnr, r.steps, r.seconds
            );
        } else {
            print_row(r);
        }
    })?;
    let groups = summary(&rows);
    let ranks = ranks(&groups);
    let stats = |v: &[f64]| {
        let (mean, sd) = mean_sd(v);
        serde_json::json!({"mean": mean, "sd": sd, "values": v})
    };
    if json {
        let rows: Vec<_> = rows
            .iter()
            .map(|r| serde_json::json!({"activation": r.act.to_string(), "init": r.init, "seed": r.seed, "psnr": r.psnr, "best_psnr": r.best_psnr, "steps": r.steps, "seconds": r.seconds, "detail": r.detail, "diverged": r.diverged, "mesh": r.mesh.map(|m| m.to_json())}))
            .collect();
        let summary: Vec<_> = groups
            .iter()
            .zip(&ranks)
            .map(|(g, rank)| {
                let psnr = g.values(|r| r.psnr);
                let (mean, sd) = mean_sd(&psnr);
                let mut entry = serde_json::json!({"activation": g.act, "init": g.init, "mean": mean, "sd": sd, "psnr": psnr});
                if mesh.is_some() {
                    let chamfer = g.values(|r| r.mesh.map_or(f64::NAN, |m| m.chamfer_l1));
                    entry["chamfer_l1"] = stats(&chamfer);
                    entry["chamfer_l1"]["empty"] = g.chamfer().2.into();
                    entry["iou"] = stats(&g.values(|r| r.mesh.map_or(f64::NAN, |m| m.iou)));
                    entry["hausdorff"] = stats(&g.values(|r| r.mesh.map_or(f64::NAN, |m| m.hausdorff)));
                    entry["rank"] = (*rank).into();
                }
                entry
            })
            .collect();
        let resolution = mesh.as_ref().map(|_| args.mesh.mesh_resolution);
        println!(
            "{}",
            serde_json::json!({"signal": signal.layout.describe(), "hidden": training.hidden, "steps": training.steps, "lr": training.lr, "lr_schedule": format!("{:?}", training.schedule.kind).to_lowercase(), "warmup": training.schedule.warmup, "seed": training.seed, "seeds": args.seeds, "loss": loss.to_string(), "ranked_by": if mesh.is_some() { "chamfer_l1" } else { "psnr" }, "mesh_resolution": resolution, "rows": rows, "summary": summary})
        );
    } else if mesh.is_some() {
        println!(
            "\nmean ± sd over {} seeds, ranked by Chamfer-L1 within each activation (mesh units; \
             surfaces at {}³)",
            args.seeds, args.mesh.mesh_resolution
        );
        let mut order: Vec<usize> = (0..groups.len()).collect();
        order
            .sort_by_key(|&k| (acts.iter().position(|a| a.to_string() == groups[k].act), ranks[k]));
        for k in order {
            let g = &groups[k];
            let (mean, sd, empty) = g.chamfer();
            let (iou, iou_sd) = mean_sd(&g.values(|r| r.mesh.map_or(f64::NAN, |m| m.iou)));
            let empty = if empty > 0 { format!("  ({empty} empty)") } else { String::new() };
            println!(
                "{:>2}. {:<14} {:<15} Chamfer-L1 {mean:>9.5} ± {sd:.5}  IoU {iou:.4} ± {iou_sd:.4}{empty}",
                ranks[k], g.act, g.init
            );
        }
    } else {
        println!("\nmean ± sd over {} seeds (PSNR dB)", args.seeds);
        for g in &groups {
            let (mean, sd) = mean_sd(&g.values(|r| r.psnr));
            println!("{:<14} {:<15} {mean:>7.2} ± {sd:.2}", g.act, g.init);
        }
    }
    Ok(ExitCode::SUCCESS)
}
