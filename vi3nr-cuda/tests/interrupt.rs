//! Nothing lost: SIGINT/SIGTERM keep the last good model and a checkpoint, `--resume` ends
//! bit-identical to an uninterrupted run and refuses other inputs or settings, limits fail
//! before any work, and a process killed while writing (or a full disk) leaves every output
//! absent, as it was, or complete.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use vi3nr_core::model::Model;
use vi3nr_cuda::checkpoint::{self, Checkpoint};
use vi3nr_cuda::export::AlignedBytes;

/// The outputs a fit writes into its directory.
const OUTPUTS: [&str; 6] =
    ["model.vi3", "model.safetensors", "recon.png", "curves.png", "metrics.json", checkpoint::FILE];

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vi3nr-interrupt-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A small, quick fit with random batches (so the sampler's state matters), with `extra`
/// flags appended.
fn fit_args<'a>(steps: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["fit", "--steps", steps, "--hidden", "16,16", "--batch", "256"];
    args.extend(extra);
    args
}

fn vi3nr(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vi3nr")).args(args).output().unwrap()
}

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_vi3nr"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: kill(2) with a child's pid and a valid signal number touches no memory.
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
}

/// Starts a fit, sends `sig` when its first progress line appears, and returns its exit code
/// and stderr.
fn interrupted(args: &[&str], signals: &[i32]) -> (Option<i32>, String) {
    let mut child = spawn(args);
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut text = String::new();
    loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            break;
        }
        text.push_str(&line);
        if line.starts_with("step ") {
            signals.iter().for_each(|&s| signal(&child, s));
            break;
        }
    }
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    text.push_str(&rest);
    (child.wait().unwrap().code(), text)
}

/// A 2000-step fit into a new directory `name`, stopped by `sig` at its first progress line:
/// the directory (its path as text too) and the exit code.
fn stopped_fit(name: &str, sig: i32) -> (PathBuf, String, Option<i32>) {
    let dir = temp_dir(name);
    let d = dir.to_str().unwrap().to_string();
    let (code, stderr) = interrupted(&fit_args("2000", &["--out", &d]), &[sig]);
    assert!(stderr.contains("interrupted by"), "{stderr}");
    (dir, d, code)
}

fn metrics(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("metrics.json")).unwrap()).unwrap()
}

/// Whether `bytes` are a complete file of the output `name`.
fn complete(name: &str, bytes: &[u8]) -> bool {
    match name {
        "model.vi3" => Model::parse(AlignedBytes::copy_from(bytes).bytes()).is_ok(),
        "model.safetensors" => safetensors::SafeTensors::deserialize(bytes).is_ok(),
        "recon.png" | "curves.png" => image::load_from_memory(bytes).is_ok(),
        "metrics.json" => serde_json::from_slice::<serde_json::Value>(bytes).is_ok(),
        _ => Checkpoint::from_bytes(bytes).is_ok(),
    }
}

/// Every output in `dir` is absent, equal to `before`'s, or complete; nothing else but hidden
/// temporary files lies there.
fn nothing_partial(dir: &Path, before: &[(String, Option<Vec<u8>>)]) {
    for (name, old) in before {
        let Ok(now) = std::fs::read(dir.join(name)) else { continue };
        let same = old.as_deref() == Some(&now[..]);
        assert!(same || complete(name, &now), "{name}: partial ({} bytes)", now.len());
    }
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let known = OUTPUTS.contains(&name.as_str());
        assert!(known || (name.starts_with('.') && name.ends_with(".tmp")), "stray file {name}");
    }
}

fn snapshot(dir: &Path) -> Vec<(String, Option<Vec<u8>>)> {
    OUTPUTS.iter().map(|n| (n.to_string(), std::fs::read(dir.join(n)).ok())).collect()
}

#[test]
fn sigint_keeps_the_last_good_model_and_resume_ends_bit_identical() {
    let (whole, cut) = (temp_dir("whole"), temp_dir("cut"));
    let w = whole.to_str().unwrap();
    let run = vi3nr(&fit_args("400", &["--out", w]));
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));

    let c = cut.to_str().unwrap();
    let (code, stderr) = interrupted(&fit_args("400", &["--out", c]), &[libc::SIGINT]);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("interrupted by SIGINT at step"), "{stderr}");
    let m = metrics(&cut);
    assert_eq!(m["interrupted"], true);
    let at = m["interrupted_at_step"].as_u64().unwrap();
    assert!(at < 400 && m["steps"].as_u64().unwrap() <= at, "{m}");
    for file in OUTPUTS {
        assert!(cut.join(file).is_file(), "{file} missing after the interruption");
    }

    // Resumed with the same flags, it ends where the uninterrupted run ended, bit for bit.
    let run = vi3nr(&fit_args("400", &["--resume", c]));
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let read = |d: &Path| std::fs::read(d.join("model.vi3")).unwrap();
    assert_eq!(read(&cut), read(&whole), "the resumed model differs");
    let (a, b) = (metrics(&whole), metrics(&cut));
    assert_eq!(b["resumed_from_step"].as_u64(), Some(at));
    let steps = |m: &serde_json::Value| -> Vec<u64> {
        m["evaluations"].as_array().unwrap().iter().map(|e| e["step"].as_u64().unwrap()).collect()
    };
    assert_eq!(steps(&a), steps(&b));
    assert_eq!(a["final_psnr"], b["final_psnr"]);
    assert!(!cut.join(checkpoint::FILE).exists(), "a finished run keeps no checkpoint");
    let _ = std::fs::remove_dir_all(&whole);
    let _ = std::fs::remove_dir_all(&cut);
}

#[test]
fn sigterm_exits_143_and_a_second_signal_at_once_leaving_nothing_partial() {
    let (dir, d, code) = stopped_fit("term", libc::SIGTERM);
    assert_eq!(code, Some(143));
    assert_eq!(metrics(&dir)["interrupted"], true);
    // Two signals at once: the second ends the process immediately, still with 128 + signal.
    let before = snapshot(&dir);
    let (code, stderr) = interrupted(
        &fit_args("2000", &["--seed", "3", "--out", &d]),
        &[libc::SIGINT, libc::SIGINT],
    );
    assert_eq!(code, Some(130), "{stderr}");
    nothing_partial(&dir, &before);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn resume_refuses_another_input_other_settings_or_no_checkpoint() {
    let (dir, d, code) = stopped_fit("refuse", libc::SIGINT);
    let d = d.as_str();
    assert_eq!(code, Some(130));
    let before = snapshot(&dir);
    let lr = vi3nr(&fit_args("2000", &["--lr", "2e-3", "--resume", d]));
    assert_eq!(lr.status.code(), Some(2));
    let text = String::from_utf8_lossy(&lr.stderr);
    assert!(text.contains("settings differ") && text.contains("lr"), "{text}");
    let loss =
        vi3nr(&fit_args("2000", &["--loss", "clamped-l1", "--device", "cpu", "--resume", d]));
    assert_eq!(loss.status.code(), Some(2));
    let text = String::from_utf8_lossy(&loss.stderr);
    assert!(text.contains("settings differ") && text.contains("loss"), "{text}");
    let grey = dir.join("grey.png");
    image::GrayImage::from_fn(16, 16, |x, y| image::Luma([(x * 16 + y) as u8]))
        .save(&grey)
        .unwrap();
    let other = vi3nr(&fit_args("2000", &[grey.to_str().unwrap(), "--resume", d]));
    assert_eq!(other.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&other.stderr).contains("input differs"));
    std::fs::remove_file(&grey).unwrap();
    assert_eq!(snapshot(&dir), before, "a refused resume changed the outputs");
    let none = vi3nr(&fit_args("20", &["--resume", "/nonexistent/vi3nr-run"]));
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("checkpoint.safetensors"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn limits_fail_before_any_work_with_nothing_written() {
    let dir = temp_dir("limits");
    let d = dir.to_str().unwrap();
    let deep = ["16"; 16].join(",");
    for (args, says) in [
        (vec!["fit", "--hidden", "100000,100000", "--out", d], "by 95904"),
        (vec!["fit", "--hidden", "5000,5000", "--out", d], "limit of 4096 (by 904)"),
        (vec!["fit", "--hidden", &deep, "--out", d], "(1 too many)"),
        (vec!["fit", "--fourier", "4000", "--out", d], "--fourier"),
        (vec!["compare", "--hidden", "5000"], "limit of 4096"),
        (vec!["init", "-a", "tanh", "--layers", "2,5000,1"], "limit of 4096"),
    ] {
        let started = std::time::Instant::now();
        let out = vi3nr(&args);
        let text = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {text}");
        assert!(text.contains(says) && !text.contains("panicked"), "{args:?}: {text}");
        assert!(started.elapsed().as_secs() < 10, "{args:?} did work first");
        assert!(!dir.exists(), "{args:?} wrote {d}");
    }
}

#[test]
fn a_process_killed_while_writing_leaves_each_output_absent_old_or_complete() {
    let dir = temp_dir("kill");
    let d = dir.to_str().unwrap();
    let run = vi3nr(&fit_args("16", &["--seed", "1", "--out", d]));
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let args = fit_args("16", &["--seed", "2", "--checkpoint-every", "4", "--out", d]);
    // How long a run takes here, to spread the kills over all of it, writes included.
    let started = std::time::Instant::now();
    assert!(vi3nr(&args).status.success());
    let span = started.elapsed().as_micros() as u64;
    let run = vi3nr(&fit_args("16", &["--seed", "1", "--out", d]));
    assert!(run.status.success());
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..12 {
        let before = snapshot(&dir);
        let mut child = spawn(&args);
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        std::thread::sleep(std::time::Duration::from_micros((state >> 33) % span.max(1)));
        signal(&child, libc::SIGKILL);
        child.wait().unwrap();
        nothing_partial(&dir, &before);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_full_disk_gives_a_clear_error_and_no_partial_file() {
    let dir = temp_dir("full");
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.to_str().unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=48k", "tmpfs", d])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        let required = std::env::var_os("VI3NR_REQUIRE_TMPFS").is_some();
        assert!(!required, "VI3NR_REQUIRE_TMPFS is set but a tmpfs cannot be mounted");
        eprintln!("SKIP a_full_disk_gives_a_clear_error_and_no_partial_file: cannot mount a tmpfs");
        let _ = std::fs::remove_dir(&dir);
        return;
    }
    let out = vi3nr(&fit_args("8", &["--out", d]));
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    nothing_partial(&dir, &snapshot(&dir).into_iter().map(|(n, _)| (n, None)).collect::<Vec<_>>());
    let _ = Command::new("umount").arg(d).status();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("cannot write") && text.contains("No space left"), "{text}");
}
