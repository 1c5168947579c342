//! `vi3nr fit-many`: shards, skip-if-done, a failing input that does not stop the others.

use std::path::Path;
use std::process::{Command, Output};

fn vi3nr(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vi3nr")).args(args).output().unwrap()
}

fn png(path: &Path, seed: u8) {
    let img = image::RgbImage::from_fn(8, 8, |x, y| {
        image::Rgb([(x * 30) as u8 ^ seed, (y * 30) as u8, seed.wrapping_mul(40)])
    });
    img.save(path).unwrap();
}

#[test]
fn shards_skip_done_inputs_and_report_failures() {
    let dir = tempfile::tempdir().unwrap();
    for k in 0..3 {
        png(&dir.path().join(format!("s{k}.png")), k);
    }
    std::fs::write(dir.path().join("bad.png"), b"not an image").unwrap();
    std::fs::write(dir.path().join("list.txt"), "# inputs\ns0.png\ns1.png\n\nbad.png\ns2.png\n")
        .unwrap();
    let manifest = dir.path().join("list.txt");
    let out = dir.path().join("out");
    let (m, o) = (manifest.to_str().unwrap(), out.to_str().unwrap());
    let flags = ["--", "--steps", "5", "--hidden", "8", "--device", "cpu"];
    let run = |shard: &str| {
        let mut args = vec!["fit-many", m, "--shard", shard, "--out", o];
        args.extend(flags);
        vi3nr(&args)
    };
    // Shard 0/2 holds s0 and bad (inputs 0 and 2): bad fails, s0 is done, exit code 1.
    let first = run("0/2");
    assert_eq!(first.status.code(), Some(1), "{}", String::from_utf8_lossy(&first.stderr));
    let table = String::from_utf8_lossy(&first.stdout);
    assert!(table.contains("s0") && table.contains("done") && table.contains("failed"), "{table}");
    assert!(out.join("s0/metrics.json").exists() && out.join("s0/model.vi3").exists());
    assert!(!out.join("bad").exists() && !out.join("s1").exists());
    // Shard 1/2: s1 and s2.
    let second = run("1/2");
    assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
    assert!(out.join("s1/metrics.json").exists() && out.join("s2/metrics.json").exists());
    // A rerun of shard 1 skips both; no temporary directory is left behind.
    let before = std::fs::read(out.join("s1/model.vi3")).unwrap();
    let third = run("1/2");
    let table = String::from_utf8_lossy(&third.stdout);
    assert_eq!(table.matches("skipped").count(), 2, "{table}");
    assert_eq!(std::fs::read(out.join("s1/model.vi3")).unwrap(), before);
    let hidden: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(hidden.is_empty());
    // Bad shards are rejected.
    assert_eq!(run("2/2").status.code(), Some(2));
}
