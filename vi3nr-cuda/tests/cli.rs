//! The `vi3nr` binary: `init` output, JSON fields and error exits.

use std::process::{Command, Output};

fn vi3nr(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vi3nr")).args(args).output().unwrap()
}

fn json(args: &[&str]) -> serde_json::Value {
    let out = vi3nr(args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn init_json_gaussian_root() {
    let v =
        json(&["init", "--activation", "gaussian:0.05", "--layers", "2,256,256,256,3", "--json"]);
    let root = 0.05 * (1.0 + 2f64.sqrt()).sqrt();
    assert!((v["sigma_p"].as_f64().unwrap() - root).abs() < 1e-10);
    assert_eq!(v["status"], "root");
    assert!((v["condition"].as_f64().unwrap() - 1.0).abs() < 1e-8);
    let layers = v["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 4);
    assert_eq!((layers[3]["fan_in"].as_u64(), layers[3]["fan_out"].as_u64()), (Some(256), Some(3)));
    for l in layers {
        let (std, bound) = (l["std"].as_f64().unwrap(), l["bound"].as_f64().unwrap());
        assert!((bound - 3f64.sqrt() * std).abs() < 1e-15);
    }
    // First layer: coordinates uniform on [-1, 1] have E[x²] = 1/3.
    let g2 = layers[0]["gain2"].as_f64().unwrap();
    assert!((g2 - 3.0 * root * root).abs() < 1e-12);
    assert!((v["gain2"].as_f64().unwrap() - layers[1]["gain2"].as_f64().unwrap()).abs() < 1e-15);
}

#[test]
fn init_json_boundary_cases() {
    let sine = json(&["init", "-a", "sine:30", "--layers", "2,64,64,1", "--json"]);
    assert_eq!(sine["status"], "no_root");
    assert!((sine["sigma_p"].as_f64().unwrap() - 1.0 / 30.0).abs() < 1e-15);
    assert_eq!(sine["solver"]["limit"], "zero");
    let given =
        json(&["init", "-a", "sine:30", "--layers", "2,64,64,1", "--sigma-p", "0.1", "--json"]);
    assert_eq!((given["status"].as_str(), given["sigma_p"].as_f64()), (Some("no_root"), Some(0.1)));
    let relu = json(&["init", "-a", "relu", "--layers", "3,32,32,1", "--json"]);
    assert_eq!(relu["status"], "any");
    assert_eq!(relu["condition"].as_f64(), Some(1.0));
    let grid =
        json(&["init", "-a", "gaussian", "--layers", "2,8,8,1", "--sigma-p", "grid", "--json"]);
    assert_eq!(grid["sigma_p"].as_f64(), Some(0.078));
    let input = json(&[
        "init",
        "-a",
        "tanh",
        "--layers",
        "2,8,1",
        "--input-mean",
        "-1",
        "--input-std",
        "2",
        "--json",
    ]);
    let s = input["sigma_p"].as_f64().unwrap();
    assert!((input["layers"][0]["gain2"].as_f64().unwrap() - s * s / 5.0).abs() < 1e-12);
}

#[test]
fn init_table_names_the_verdict() {
    let out = vi3nr(&["init", "-a", "tanh", "--layers", "2,16,16,1"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("no root") && text.contains("fan_in"), "{text}");
}

#[test]
fn invalid_input_exits_2_with_a_message() {
    let cases: &[&[&str]] = &[
        &["init", "-a", "gaussian:-1", "--layers", "2,8,1"],
        &["init", "-a", "swish", "--layers", "2,8,1"],
        &["init", "-a", "tanh", "--layers", "2,0,1"],
        &["init", "-a", "tanh", "--layers", "2"],
        &["init", "-a", "tanh", "--layers", "2,8,1", "--sigma-p", "nan"],
        &["init", "-a", "tanh", "--layers", "2,8,1", "--sigma-p", "-1"],
        &["init", "-a", "tanh", "--layers", "2,8,1", "--input", "uniform:1,-1"],
        &["init", "-a", "tanh", "--layers", "2,8,1", "--input-mean", "0", "--input-std", "-1"],
        &["toy", "--layers", "0"],
    ];
    for args in cases {
        let out = vi3nr(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("error"), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
    }
}

#[test]
fn toy_json_small() {
    let v = json(&["toy", "--layers", "3", "--width", "32", "--batch", "64", "--json"]);
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 25);
    for r in rows {
        let (f, b) = (r["forward_smape"].as_f64().unwrap(), r["backward_smape"].as_f64().unwrap());
        assert!((0.0..=100.0).contains(&f) && (0.0..=100.0).contains(&b), "{r}");
    }
}
