//! Meshes through the `vi3nr` binary: a fit of a generated sphere measured against its analytic
//! surface, `eval --mesh` with and without a reference, and bad mesh files (exit 2, nothing
//! written).

use std::path::Path;
use std::process::{Command, Output};

use vi3nr_cuda::sdf::shapes;
use vi3nr_cuda::signal::Mesh;

fn vi3nr(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vi3nr")).args(args).output().unwrap()
}

fn ok(args: &[&str]) -> String {
    let out = vi3nr(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_sphere_is_fitted_extracted_and_measured_in_its_own_units() {
    let dir = tempfile::tempdir().unwrap();
    // A sphere of radius 3 about (5, 0, −1): the model must answer in these units.
    let mesh = shapes::sphere(3.0, 3).map(|v| [v[0] + 5.0, v[1], v[2] - 1.0]);
    let input = dir.path().join("sphere.obj");
    std::fs::write(&input, mesh.to_obj()).unwrap();
    let out = dir.path().join("fit");
    let (i, o) = (input.to_str().unwrap(), out.to_str().unwrap());
    let common = ["--samples", "8000", "--hidden", "32,32", "--steps", "150", "--lr", "5e-3"];
    let mut args =
        vec!["fit", i, "--out", o, "--device", "cpu", "-a", "relu", "--mesh-resolution", "24"];
    args.extend(common);
    let printed = ok(&args);
    assert!(printed.contains("Chamfer-L1"), "{printed}");
    let metrics: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("metrics.json")).unwrap()).unwrap();
    let m = &metrics["mesh"];
    let scale = m["normalisation"]["scale"].as_f64().unwrap();
    assert!((scale - 3.0 / 0.9).abs() < 0.05, "{m}");
    let center = m["normalisation"]["center"].as_array().unwrap();
    assert!((center[0].as_f64().unwrap() - 5.0).abs() < 1e-9, "{m}");
    // A relu network of 150 steps: a rough sphere, but a sphere, in mesh units.
    let chamfer = m["chamfer_l1"].as_f64().unwrap();
    assert!(chamfer < 0.3, "{m}");
    assert!(m["iou"].as_f64().unwrap() > 0.7, "{m}");
    assert!(m["rms_sdf_error"].as_f64().unwrap() < 0.5, "{m}");
    let recon = Mesh::load(&out.join("recon.obj")).unwrap();
    let (lo, hi) = recon.bounds();
    assert!(
        (hi[0] + lo[0]) / 2.0 - 5.0 < 0.5 && (hi[0] - lo[0] - 6.0).abs() < 1.0,
        "{lo:?} {hi:?}"
    );

    // eval --mesh: with the reference, back in its units and measured; without, normalised.
    let model = out.join("model.vi3");
    let ply = dir.path().join("again.ply");
    let (mdl, p) = (model.to_str().unwrap(), ply.to_str().unwrap());
    let printed = ok(&["eval", mdl, "--mesh", p, "--resolution", "24", "--reference", i]);
    assert!(printed.contains("Chamfer-L1") && printed.contains("IoU"), "{printed}");
    let again = Mesh::load(&ply).unwrap();
    assert_eq!(again.triangles.len(), recon.triangles.len());
    ok(&["eval", mdl, "--mesh", p, "--resolution", "16"]);
    let (lo, hi) = Mesh::load(&ply).unwrap().bounds();
    assert!(lo.iter().chain(&hi).all(|c| c.abs() <= 1.0), "{lo:?} {hi:?}");
    // An image model is no SDF.
    let bad = dir.path().join("no.obj");
    let e = vi3nr(&["eval", mdl, "--mesh", bad.with_extension("png").to_str().unwrap()]);
    assert_eq!(e.status.code(), Some(2));
}

#[test]
fn bad_meshes_exit_2_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let stl_header = |count: u32| {
        let mut b = vec![b'x'; 80];
        b.extend(count.to_le_bytes());
        b
    };
    let mut truncated_stl = stl_header(2);
    truncated_stl.extend([0u8; 60]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.obj", b"# nothing\n".to_vec(), "no"),
        ("nan.obj", b"v 0 0 0\nv nan 0 0\nv 0 1 0\nf 1 2 3\n".to_vec(), "non-finite"),
        ("range.obj", b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 4\n".to_vec(), "out of bounds"),
        ("flat.obj", b"v 0 0 0\nv 1 0 0\nv 2 0 0\nf 1 2 3\n".to_vec(), "degenerate"),
        ("cut.stl", truncated_stl, "truncated"),
        ("zero.stl", stl_header(0), "no"),
        ("cut.ply", b"ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n1 0 0\n".to_vec(), "PLY"),
    ];
    for (name, bytes, want) in cases {
        let input = dir.path().join(name);
        std::fs::write(&input, &bytes).unwrap();
        let out = dir.path().join(format!("out-{name}"));
        let o = vi3nr(&[
            "fit",
            input.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--steps",
            "2",
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(want) && err.lines().count() == 1, "{name}: {err}");
        assert!(!out.exists(), "{name}: wrote {}", out.display());
    }
    let _ = Path::new("");
}
