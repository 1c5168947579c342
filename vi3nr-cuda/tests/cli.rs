//! The `vi3nr` binary: `init` output, JSON fields, `inspect` of model files and error exits.

use std::path::Path;
use std::process::{Command, Output};

use vi3nr_core::Act;
use vi3nr_core::model::{self, NumberFormat};
use vi3nr_cuda::mlp::Mlp;

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
        &["toy", "--draws", "0"],
        &["fit", "--steps", "10", "--warmup", "10", "--out", "/tmp/vi3nr-never"],
        &["fit", "--clip-grad", "0", "--out", "/tmp/vi3nr-never"],
        &["fit", "--clip-grad", "nan", "--out", "/tmp/vi3nr-never"],
        &["fit", "--init", "xavier", "--sigma-p", "0.5", "--out", "/tmp/vi3nr-never"],
        &["compare", "--seeds", "0"],
    ];
    for args in cases {
        let out = vi3nr(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("error"), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
    }
}

/// `--draws 3`: every row's mean and standard deviation are those of its three draws.
#[test]
fn toy_draws_give_mean_and_sd() {
    let args = ["toy", "--layers", "3", "--width", "16", "--batch", "32", "--only", "relu"];
    let v = json(&[&args[..], &["--draws", "3", "--json"]].concat());
    for r in v["rows"].as_array().unwrap() {
        let d: Vec<f64> =
            r["forward_draws"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        assert_eq!(d.len(), 3);
        let mean = d.iter().sum::<f64>() / 3.0;
        let sd = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
        assert!((r["forward_smape"].as_f64().unwrap() - mean).abs() < 1e-9, "{r}");
        assert!((r["forward_sd"].as_f64().unwrap() - sd).abs() < 1e-9, "{r}");
        assert!(sd > 0.0, "different draws differ: {r}");
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

/// A fresh, empty temporary folder for one test.
fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("vi3nr-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The bytes of a small model: `widths` with `act` on the hidden layers, Fourier-encoded (rows
/// of `fourier`, `in_dim` coordinates each) when `fourier` is not empty.
fn model_bytes(
    format: NumberFormat,
    in_dim: usize,
    fourier: &[f32],
    widths: &[usize],
    act: Act,
) -> Vec<u8> {
    let weights = widths
        .windows(2)
        .map(|w| (0..w[0] * w[1]).map(|i| ((i * 37 % 19) as f32 - 9.0) / 20.0).collect())
        .collect();
    let biases = widths.windows(2).map(|w| vec![0.05; w[1]]).collect();
    let mut mlp = Mlp::new(widths, act, weights, biases);
    mlp.fourier = fourier.to_vec();
    assert_eq!(mlp.coord_dim(), in_dim);
    mlp.to_vi3(format).unwrap().bytes().to_vec()
}

#[test]
fn inspect_prints_the_header() {
    let dir = temp_dir("inspect");
    let sine = Act::Sine { omega: 30.0 };
    let raw = dir.join("raw.vi3");
    std::fs::write(&raw, model_bytes(NumberFormat::Q15, 2, &[], &[2, 8, 8, 1], sine)).unwrap();
    let out = vi3nr(&["inspect", raw.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split_whitespace().collect()).collect();
    for want in [
        &["format", "q15"][..],
        &["in_dim", "2"],
        &["encoding", "raw"],
        &["out_dim", "1"],
        &["layers", "3"],
        &["0", "2", "8", "sine:30"],
        &["1", "8", "8", "sine:30"],
        &["2", "8", "1", "identity"],
        &["parameters", "105"],
    ] {
        assert!(lines.iter().any(|l| l == want), "no line {want:?} in\n{text}");
    }
    let len = std::fs::metadata(&raw).unwrap().len().to_string();
    assert!(lines.iter().any(|l| l[..] == ["file", "bytes", len.as_str()]), "{text}");
    assert!(text.contains("(CRC ok)"), "{text}");

    let fourier = dir.join("fourier.vi3");
    let bytes = model_bytes(
        NumberFormat::F16,
        3,
        &[0.5, 1.0, -2.0, 1.5, 0.25, 0.0],
        &[4, 16, 5],
        Act::Gaussian { a: 0.5 },
    );
    std::fs::write(&fourier, bytes).unwrap();
    let out = vi3nr(&["inspect", fourier.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    for want in
        ["format      f16", "in_dim      3", "Fourier, 2 frequencies (4 features)", "out_dim     5"]
    {
        assert!(text.contains(want), "no {want:?} in\n{text}");
    }
    assert!(text.contains("gaussian:0.5") && text.contains("identity"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn inspect_rejects_bad_files_with_exit_2() {
    let dir = temp_dir("inspect-bad");
    let good = model_bytes(NumberFormat::F32, 2, &[], &[2, 8, 1], Act::Relu);
    let mut flipped = good.clone();
    flipped[good.len() / 2] ^= 0x10;
    let mut bad_layer = good.clone();
    bad_layer[32 + 4] = 200; // an unknown activation code, CRC rewritten: a structural error
    let body = bad_layer.len() - 4;
    let crc = model::crc32(&bad_layer[..body]);
    bad_layer[body..].copy_from_slice(&crc.to_le_bytes());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("text", b"not a model\n".to_vec()),
        ("header-only", good[..32].to_vec()),
        ("truncated", good[..good.len() - 1].to_vec()),
        ("truncated-by-4", good[..good.len() - 4].to_vec()),
        ("flipped", flipped),
        ("bad-layer", bad_layer),
    ];
    let mut paths: Vec<std::path::PathBuf> = cases
        .iter()
        .map(|(name, bytes)| {
            let path = dir.join(format!("{name}.vi3"));
            std::fs::write(&path, bytes).unwrap();
            path
        })
        .collect();
    paths.push(dir.join("missing.vi3"));
    paths.push(dir.clone()); // a folder
    for path in &paths {
        let p = path.to_str().unwrap();
        let out = vi3nr(&["inspect", p]);
        assert_eq!(out.status.code(), Some(2), "{p}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.starts_with(&format!("error: {p}: ")), "{p}: {err}");
        assert_eq!(err.lines().count(), 1, "{p}: {err}");
        assert!(out.stdout.is_empty(), "{p} printed to stdout");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn bundled_png() -> String {
    format!("{}/assets/chelsea_128.png", env!("CARGO_MANIFEST_DIR"))
}

/// A 20-step fit of the bundled photograph with a 2→16→16→3 network on batches of 256 into
/// `dir`, with `extra` flags; checks it succeeded and returns its stderr and metrics.json.
fn small_fit(dir: &Path, extra: &[&str]) -> (String, serde_json::Value) {
    let mut args = vec!["fit", "--steps", "20", "--hidden", "16,16", "--batch", "256"];
    args.extend(extra);
    args.extend(["--out", dir.to_str().unwrap()]);
    let run = vi3nr(&args);
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    assert!(run.status.success(), "{stderr}");
    let metrics = serde_json::from_slice(&std::fs::read(dir.join("metrics.json")).unwrap());
    (stderr, metrics.unwrap())
}

#[test]
fn fit_writes_every_output_and_eval_renders_it() {
    let dir = std::env::temp_dir().join(format!("vi3nr-fit-{}", std::process::id()));
    let (_, metrics) = small_fit(&dir, &["--precision", "q15"]);
    for file in ["model.vi3", "model.safetensors", "recon.png", "curves.png", "metrics.json"] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    // The default searches first: the final fit continues from the winner for the rest.
    let reused = metrics["search_cost"]["reused_steps"].as_u64().unwrap();
    assert_eq!(metrics["steps"].as_u64().unwrap() + reused, 20);
    assert_eq!(metrics["config"]["lr_schedule"], "cosine");
    assert!(metrics["steps_per_second"].as_f64().unwrap() > 0.0);
    for format in ["f32", "f16", "q15", "i8"] {
        assert!(metrics["final_psnr"][format].as_f64().unwrap() > 5.0, "{format}");
    }
    let inspect = vi3nr(&["inspect", dir.join("model.vi3").to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&inspect.stdout).contains("q15"));
    let rendered = dir.join("eval.png");
    let eval = vi3nr(&[
        "eval",
        dir.join("model.vi3").to_str().unwrap(),
        "--reference",
        &bundled_png(),
        "--precision",
        "f32",
        "--out",
        rendered.to_str().unwrap(),
    ]);
    assert!(eval.status.success(), "{}", String::from_utf8_lossy(&eval.stderr));
    assert!(String::from_utf8_lossy(&eval.stdout).contains("PSNR"));
    let sized = vi3nr(&[
        "eval",
        dir.join("model.vi3").to_str().unwrap(),
        "--size",
        "40x30",
        "--out",
        rendered.to_str().unwrap(),
    ]);
    assert!(sized.status.success(), "{}", String::from_utf8_lossy(&sized.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fit_rejects_bad_input_without_writing() {
    let dir = std::env::temp_dir().join(format!("vi3nr-bad-{}", std::process::id()));
    let out = dir.to_str().unwrap();
    let missing = dir.join("missing.png");
    let cases: Vec<Vec<&str>> = vec![
        vec!["fit", missing.to_str().unwrap(), "--out", out],
        vec!["fit", "--lr", "nan", "--out", out],
        vec!["fit", "--lr", "-1", "--out", out],
        vec!["fit", "--steps", "0", "--out", out],
        vec!["fit", "--hidden", "0", "--out", out],
        vec!["fit", "--batch", "0", "--out", out],
        vec!["fit", "--init", "siren", "--activation", "gaussian", "--steps", "1", "--out", out],
        vec!["fit", "--steps", "1", "--out", "/proc/vi3nr-cannot-write"],
    ];
    for args in cases {
        let run = vi3nr(&args);
        assert_eq!(
            run.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert!(String::from_utf8_lossy(&run.stderr).starts_with("error:"), "{args:?}");
        assert!(!dir.join("model.vi3").exists(), "{args:?} wrote a model");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn device_choice_without_a_gpu() {
    if vi3nr_cuda::cuda::driver::driver_present() {
        eprintln!("SKIP device_choice_without_a_gpu: this machine has a CUDA driver");
        return;
    }
    let dir = std::env::temp_dir().join(format!("vi3nr-device-{}", std::process::id()));
    let out = dir.to_str().unwrap();
    let common = ["--hidden", "8", "--steps", "2", "--out", out];
    let cuda = vi3nr(&[&["fit", "--device", "cuda"][..], &common].concat());
    let err = String::from_utf8_lossy(&cuda.stderr);
    assert_eq!(cuda.status.code(), Some(2), "{err}");
    assert!(err.starts_with("error: --device cuda: no CUDA driver"), "{err}");
    assert!(!dir.join("model.vi3").exists(), "--device cuda wrote a model");
    let auto = vi3nr(&[&["fit", "--device", "auto"][..], &common].concat());
    let err = String::from_utf8_lossy(&auto.stderr);
    assert!(auto.status.success(), "{err}");
    let fallback: Vec<&str> = err.lines().filter(|l| l.contains("CUDA")).collect();
    assert_eq!(fallback, ["no CUDA driver (libcuda could not be loaded): training on the CPU"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn first_layer_spread_and_bias_flags() {
    let v = json(&[
        "init",
        "-a",
        "gaussian",
        "--layers",
        "2,32,32,1",
        "--first-sigma",
        "0.3",
        "--bias",
        "0.25",
        "--json",
    ]);
    assert_eq!(v["first_sigma"].as_f64(), Some(0.3));
    assert!((v["layers"][0]["gain2"].as_f64().unwrap() - 0.75 * 0.09 * 3.0).abs() < 1e-12);
    assert_eq!(v["layers"][0]["bias"]["kind"], "uniform");
    let d = json(&[
        "init",
        "-a",
        "sine:30",
        "--layers",
        "2,32,32,1",
        "--first-sigma",
        "default",
        "--json",
    ]);
    assert!((d["first_sigma"].as_f64().unwrap() - (1.0f64 / 18.0).sqrt()).abs() < 1e-12);
    for args in [
        &["init", "-a", "tanh", "--layers", "2,8,1", "--bias", "1.5"][..],
        &["init", "-a", "tanh", "--layers", "2,8,1", "--first-sigma", "-1"],
        &[
            "fit",
            "--init",
            "xavier",
            "--first-sigma",
            "0.3",
            "--steps",
            "1",
            "--out",
            "/tmp/vi3nr-never",
        ],
    ] {
        let out = vi3nr(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn sigma_p_search_runs_trials_and_records_them() {
    let dir = std::env::temp_dir().join(format!("vi3nr-search-{}", std::process::id()));
    let (stderr, metrics) = small_fit(&dir, &["--sigma-p", "search"]);
    assert!(stderr.contains("chosen"));
    let search = metrics["search"].as_array().unwrap();
    assert_eq!(search.len(), 12);
    let best =
        search.iter().map(|c| c["score_psnr"].as_f64().unwrap()).fold(f64::NEG_INFINITY, f64::max);
    assert!(best.is_finite());
    // The cost it reports: the final fit ran the reused steps fewer, and the fraction is the
    // extra steps over the fit's.
    let cost = &metrics["search_cost"];
    let reused = cost["reused_steps"].as_u64().unwrap();
    assert!(reused >= 1);
    assert_eq!(metrics["steps"].as_u64().unwrap(), 20 - reused);
    let extra = cost["extra_steps"].as_f64().unwrap();
    assert!((cost["cost_in_fit_steps"].as_f64().unwrap() - reused as f64 - extra).abs() < 1e-9);
    assert!((cost["fraction_of_fit"].as_f64().unwrap() - extra / 20.0).abs() < 1e-12);
    assert_eq!(cost["score"], "Fit");
    // Scoring on held-out points instead.
    let (stderr, metrics) = small_fit(&dir, &["--sigma-p", "search", "--search-score", "heldout"]);
    assert!(stderr.contains("held-out scoring points"));
    assert_eq!(metrics["search_cost"]["score"], "HeldOut");
    let _ = std::fs::remove_dir_all(&dir);
    for args in [
        &["init", "-a", "tanh", "--layers", "2,8,1", "--sigma-p", "search"][..],
        &[
            "fit",
            "--init",
            "xavier",
            "--sigma-p",
            "search",
            "--steps",
            "1",
            "--out",
            "/tmp/vi3nr-never",
        ],
    ] {
        assert_eq!(vi3nr(args).status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn compare_json_has_every_row() {
    let args = ["compare", "--steps", "10", "--hidden", "8", "--batch", "64", "--seeds", "2"];
    let v = json(&[&args[..], &["--json"]].concat());
    let rows = v["rows"].as_array().unwrap();
    // Per seed, sine: vi3nr, xavier, pytorch, siren, vi3nr-search, vi3nr-plan, three
    // <baseline>-search rows, equal compute; the others have no siren rows.
    assert_eq!(rows.len(), 2 * (10 + 3 * 8));
    for label in ["vi3nr-search", "vi3nr-plan", "xavier-search", "pytorch-search", "siren-search"] {
        assert!(rows.iter().any(|r| r["init"] == label), "{label}");
    }
    assert!(rows.iter().filter(|r| r["init"].as_str().unwrap().ends_with("+eq")).count() == 8);
    assert!(rows.iter().all(|r| r["psnr"].as_f64().unwrap().is_finite()));
    assert!(rows.iter().any(|r| r["seed"] == 1));
    // The searched fits start from their winners and run fewer steps; the plan from scratch
    // and the best baseline get the search's extra cost on top of the 10.
    for r in rows.iter().filter(|r| r["init"].as_str().unwrap().ends_with("-search")) {
        assert!(r["steps"].as_u64().unwrap() < 10);
        assert!(r["detail"].as_str().unwrap().contains("% of the fit"));
    }
    for r in rows
        .iter()
        .filter(|r| r["init"] == "vi3nr-plan" || r["init"].as_str().unwrap().ends_with("+eq"))
    {
        assert!(r["steps"].as_u64().unwrap() > 10);
    }
    // The summary: one entry per activation and label, mean and sd of both seeds.
    let summary = v["summary"].as_array().unwrap();
    assert_eq!(summary.len(), 10 + 3 * 8);
    for s in summary {
        let p: Vec<f64> =
            s["psnr"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        assert_eq!(p.len(), 2);
        assert!((s["mean"].as_f64().unwrap() - (p[0] + p[1]) / 2.0).abs() < 1e-9);
        assert!((s["sd"].as_f64().unwrap() - (p[0] - p[1]).abs() / 2f64.sqrt()).abs() < 1e-9);
    }
}

/// `--save-init` writes the network the fit starts from: with `--init xavier`, weights within
/// Xavier's bound under model.safetensors' names and shapes, not the trained weights.
#[test]
fn save_init_writes_the_starting_network() {
    use safetensors::SafeTensors;
    let dir = temp_dir("save-init");
    let init = dir.join("init.safetensors");
    let out = dir.join("out");
    let init_arg = init.to_str().unwrap();
    small_fit(&out, &["--init", "xavier", "--save-init", init_arg]);
    let (a, b) =
        (std::fs::read(&init).unwrap(), std::fs::read(out.join("model.safetensors")).unwrap());
    let (start, trained) =
        (SafeTensors::deserialize(&a).unwrap(), SafeTensors::deserialize(&b).unwrap());
    let mut names = start.names();
    names.sort();
    let mut trained_names = trained.names();
    trained_names.sort();
    assert_eq!(names, trained_names);
    for name in names.iter().filter(|n| n.ends_with("weight")) {
        let (s, t) = (start.tensor(name).unwrap(), trained.tensor(name).unwrap());
        assert_eq!(s.shape(), t.shape());
        let bound = (6.0 / (s.shape()[0] + s.shape()[1]) as f32).sqrt();
        let mut w = s.data().chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap()));
        assert!(w.all(|x| x.abs() <= bound), "{name} within Xavier's bound");
        assert_ne!(s.data(), t.data(), "{name}: the start, not the trained weights");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
