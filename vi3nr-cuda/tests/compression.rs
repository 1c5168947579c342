//! Compression: `fit --budget/--bpp` (the file fits, the choice is recorded), quantisation-aware
//! training (the trained network is the one the evaluator computes), `vi3nr rd` (every codec
//! within its budget), and their bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn vi3nr(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vi3nr")).args(args).output().unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vi3nr-compress-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A 48 × 32 RGB test picture in `dir` (small: these tests run unoptimised in CI).
fn picture(dir: &Path) -> String {
    let png = dir.join("picture.png");
    image::RgbImage::from_fn(48, 32, |x, y| {
        let v = |k: f32| (((x as f32 * k).sin() + (y as f32 * k * 0.7).cos()) * 60.0 + 128.0) as u8;
        image::Rgb([v(0.3), v(0.17), v(0.09)])
    })
    .save(&png)
    .unwrap();
    png.to_str().unwrap().to_string()
}

fn metrics(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("metrics.json")).unwrap()).unwrap()
}

fn run_ok(args: &[&str]) -> String {
    let run = vi3nr(args);
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    assert!(run.status.success(), "{args:?}: {stderr}");
    stderr
}

#[test]
fn a_budget_chooses_a_network_whose_file_fits() {
    let dir = temp_dir("budget");
    let (png, out) = (picture(&dir), dir.join("fit"));
    let stderr = run_ok(&[
        "fit",
        &png,
        "--budget",
        "3K",
        "--fast",
        "--steps",
        "30",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(stderr.contains("← chosen"), "{stderr}");
    let file = std::fs::metadata(out.join("model.vi3")).unwrap().len();
    assert!(file <= 3 * 1024, "{file} bytes");
    let m = metrics(&out);
    assert_eq!(m["model_bytes"].as_u64(), Some(file));
    let budget = &m["budget"];
    assert_eq!(budget["budget_bytes"].as_u64(), Some(3 * 1024));
    let trials = budget["trials"].as_array().unwrap();
    assert!(trials.len() >= 2, "{budget}");
    for t in trials {
        assert!(t["bytes"].as_u64().unwrap() <= 3 * 1024, "{t}");
    }
    // The chosen format is the file's, and its PSNR was the best of the trials.
    let chosen = budget["chosen"]["format"].as_str().unwrap();
    assert_eq!(m["config"]["precision"].as_str(), Some(chosen));
    let best = trials.iter().map(|t| t["psnr"].as_f64().unwrap()).fold(f64::MIN, f64::max);
    let picked = trials
        .iter()
        .find(|t| t["hidden"] == budget["chosen"]["hidden"] && t["format"] == chosen)
        .unwrap();
    assert_eq!(picked["psnr"].as_f64(), Some(best));
    // 10 bpp of the 48 × 32 picture: ⌊10 · 48 · 32 / 8⌋ = 1,920 bytes.
    let out = dir.join("bpp");
    run_ok(&[
        "fit",
        &png,
        "--bpp",
        "10",
        "--fast",
        "--steps",
        "30",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(metrics(&out)["budget"]["budget_bytes"].as_u64(), Some(1920));
    assert!(metrics(&out)["model_bytes"].as_u64().unwrap() <= 1920);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn qat_trains_the_network_the_evaluator_computes() {
    let dir = temp_dir("qat");
    let png = picture(&dir);
    for (format, qat) in [("i8", "auto"), ("q15", "on"), ("i8", "off")] {
        let out = dir.join(format!("{format}-{qat}"));
        run_ok(&[
            "fit",
            &png,
            "--fast",
            "--precision",
            format,
            "--qat",
            qat,
            "--steps",
            "40",
            "--hidden",
            "24,24",
            "--out",
            out.to_str().unwrap(),
        ]);
        let m = metrics(&out);
        let exported = m["final_psnr"][format].as_f64().unwrap();
        let last = m["evaluations"].as_array().unwrap().last().unwrap()["psnr"].as_f64().unwrap();
        if qat == "off" {
            assert!(m["config"]["qat"].is_null());
            continue;
        }
        let plan = &m["config"]["qat"];
        assert_eq!(plan["format"].as_str(), Some(format), "{plan}");
        assert!(plan["steps"].as_u64().unwrap() >= 1, "{plan}");
        // The loop's last evaluation ran the emulated quantised network; the device's
        // evaluator differs only by its activation tables and chunk flooring.
        assert!(
            (exported - last).abs() < 0.1,
            "{format}: exported {exported} dB, trained {last} dB"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_budgets_and_qat_flags_exit_2_without_writing() {
    let dir = temp_dir("bad");
    let out = dir.join("out");
    let out = out.to_str().unwrap();
    let wav = dir.join("tone.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&wav, spec).unwrap();
    for i in 0..800 {
        w.write_sample(((i as f32 * 0.1).sin() * 8000.0) as i16).unwrap();
    }
    w.finalize().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["fit", "--budget", "100", "--out", out],
        vec!["fit", "--budget", "0", "--out", out],
        vec!["fit", "--budget", "12Q", "--out", out],
        vec!["fit", "--bpp", "-1", "--out", out],
        vec!["fit", "--bpp", "nan", "--out", out],
        vec!["fit", "--budget", "4K", "--precision", "i8", "--out", out],
        vec!["fit", "--budget", "4K", "--hidden", "8,8", "--out", out],
        vec!["fit", wav.to_str().unwrap(), "--bpp", "0.5", "--out", out],
        vec!["fit", "--precision", "f32", "--qat", "on", "--out", out],
        vec!["fit", "--qat", "sometimes", "--out", out],
        vec!["rd", "/nonexistent.png", "--out", out],
        vec!["rd", wav.to_str().unwrap(), "--out", out],
    ];
    for args in cases {
        let run = vi3nr(&args);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with("error"), "{args:?}: {stderr}");
        assert!(!Path::new(out).join("model.vi3").exists(), "{args:?} wrote a model");
        assert!(!Path::new(out).join("rd.json").exists(), "{args:?} wrote rd.json");
    }
    let tiny = vi3nr(&["fit", "--budget", "100", "--out", out]);
    let text = String::from_utf8_lossy(&tiny.stderr);
    assert!(text.contains("too small") && text.contains("needs"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rd_measures_every_codec_within_its_budget() {
    let dir = temp_dir("rd");
    let png = picture(&dir);
    let out = dir.join("rd");
    let run =
        vi3nr(&["rd", &png, "--budgets", "1K,2K", "--steps", "30", "--out", out.to_str().unwrap()]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let rd: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("rd.json")).unwrap()).unwrap();
    let points = rd["points"].as_array().unwrap();
    for budget in [1024u64, 2048] {
        let at: Vec<_> = points.iter().filter(|p| p["budget"].as_u64() == Some(budget)).collect();
        assert!(at.iter().any(|p| p["codec"].as_str().unwrap().starts_with("vi3nr-")), "{at:?}");
        assert!(at.iter().any(|p| p["codec"] == "webp"), "{at:?}");
        for p in at {
            assert!(p["bytes"].as_u64().unwrap() <= budget, "{p}");
            assert!(p["psnr"].as_f64().unwrap() > 10.0, "{p}");
            let bpp = 8.0 * p["bytes"].as_f64().unwrap() / (48.0 * 32.0);
            assert!((p["bpp"].as_f64().unwrap() - bpp).abs() < 1e-9, "{p}");
        }
    }
    assert!(out.join("rd.png").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}
