//! `--loss` through the `vi3nr` binary: bad values exit 2 with one line and nothing written;
//! a clamped-L1 fit of a mesh records its loss; `compare` on a mesh ranks by Chamfer-L1.

use std::path::Path;
use std::process::{Command, Output};

use vi3nr_cuda::sdf::shapes;

fn vi3nr(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vi3nr")).args(args).output().unwrap()
}

/// A sphere of radius 3 about (5, 0, −1) written as OBJ into `dir`.
fn sphere(dir: &Path) -> String {
    let mesh = shapes::sphere(3.0, 3).map(|v| [v[0] + 5.0, v[1], v[2] - 1.0]);
    let input = dir.join("sphere.obj");
    std::fs::write(&input, mesh.to_obj()).unwrap();
    input.to_str().unwrap().to_string()
}

#[test]
fn bad_losses_exit_2_with_one_line_and_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let input = sphere(dir.path());
    let out = dir.path().join("out");
    let o = out.to_str().unwrap();
    let cases: [(&[&str], &str); 6] = [
        (&["fit", &input, "--loss", "foo", "--out", o], "expected mse"),
        (&["fit", &input, "--loss", "clamped-l1:-1", "--out", o], "δ must be finite and > 0"),
        (&["fit", &input, "--loss", "clamped-l1:0", "--out", o], "δ must be finite and > 0"),
        (&["fit", &input, "--loss", "clamped-l1:x", "--out", o], "δ must be a number"),
        (&["fit", "--loss", "l2", "--out", o], "expected mse"),
        (&["compare", &input, "--loss", "foo", "--seeds", "1"], "expected mse"),
    ];
    for (args, want) in cases {
        let run = vi3nr(args);
        let err = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want) && err.lines().count() == 1, "{args:?}: {err}");
        assert!(run.stdout.is_empty(), "{args:?} printed");
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
    }
}

#[test]
fn a_clamped_l1_fit_records_its_loss_and_stays_within_the_band() {
    let dir = tempfile::tempdir().unwrap();
    let input = sphere(dir.path());
    let out = dir.path().join("fit");
    let args = [
        "fit",
        &input,
        "--out",
        out.to_str().unwrap(),
        "--device",
        "cpu",
        "-a",
        "relu",
        "--samples",
        "8000",
        "--hidden",
        "32,32",
        "--steps",
        "150",
        "--lr",
        "5e-3",
        "--mesh-resolution",
        "24",
        "--loss",
        "clamped-l1:0.2",
    ];
    let run = vi3nr(&args);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let metrics: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["config"]["loss"], "clamped-l1:0.2");
    // Each term is at most 2δ = 0.4: a mean batch loss above it is not the clamped L1.
    let losses: Vec<f64> = metrics["evaluations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["loss"].as_f64().unwrap())
        .collect();
    assert!(losses.iter().all(|&l| (0.0..=0.4).contains(&l)), "{losses:?}");
    assert!(losses.last().unwrap() < &losses[0], "{losses:?}");
    // A rough sphere, in the mesh's units.
    let m = &metrics["mesh"];
    assert!(m["chamfer_l1"].as_f64().unwrap() < 0.5 && m["iou"].as_f64().unwrap() > 0.6, "{m}");
}

#[test]
fn compare_on_a_mesh_ranks_by_chamfer() {
    let dir = tempfile::tempdir().unwrap();
    let input = sphere(dir.path());
    let args = [
        "compare",
        &input,
        "--only",
        "sine",
        "--seeds",
        "1",
        "--samples",
        "4000",
        "--mesh-resolution",
        "16",
        "--hidden",
        "16,16",
        "--steps",
        "40",
        "--json",
    ];
    let run = vi3nr(&args);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(v["ranked_by"], "chamfer_l1");
    assert_eq!(v["mesh_resolution"], 16);
    let rows = v["rows"].as_array().unwrap();
    // vi3nr, xavier, pytorch, siren, vi3nr-search, vi3nr-plan, three baseline searches, +eq.
    assert_eq!(rows.len(), 10, "{v}");
    let chamfer: Vec<f64> =
        rows.iter().map(|r| r["mesh"]["chamfer_l1"].as_f64().unwrap_or(f64::INFINITY)).collect();
    assert!(rows.iter().all(|r| r["mesh"]["iou"].as_f64().is_some()), "{v}");
    // Some row finds the sphere of radius 3 (in mesh units: Chamfer well below the radius).
    let best = chamfer.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(best < 1.0, "{chamfer:?}");
    let summary = v["summary"].as_array().unwrap();
    assert_eq!(summary.len(), rows.len());
    let first = summary.iter().find(|s| s["rank"] == 1).unwrap();
    let mean = first["chamfer_l1"]["mean"].as_f64().unwrap();
    assert_eq!(mean, best, "rank 1 is not the lowest Chamfer: {v}");
    let mut ranks: Vec<u64> = summary.iter().map(|s| s["rank"].as_u64().unwrap()).collect();
    ranks.sort();
    assert_eq!(ranks[0], 1);
    assert!(summary.iter().all(|s| s["iou"]["mean"].as_f64().is_some()), "{v}");
}
