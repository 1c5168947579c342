//! Generates the fixed-point activation tables from their defining formulas (f64, rounded to
//! Q1.14), so the tables have one source of truth and cannot go stale; sets `vi3nr_dsp` on
//! thumbv7em and `vi3nr_v6m` on thumbv6m targets (the fixed-point evaluator's assembly loops).

use std::fmt::Write;
use std::{env, fs, path::Path};

fn table(name: &str, doc: &str, n: usize, f: impl Fn(f64) -> f64, out: &mut String) {
    let values: Vec<String> = (0..n)
        .map(|i| format!("{}", (f(i as f64) * 16384.0).round().clamp(-32768.0, 32767.0) as i16))
        .collect();
    let _ =
        writeln!(out, "/// {doc}\npub(crate) static {name}: [i16; {n}] = [{}];", values.join(", "));
}

fn main() {
    let mut out = String::new();
    let tau = std::f64::consts::TAU;
    // A full wave, so that the evaluator indexes it with the top bits of a wrapping u32 phase
    // and needs no quadrant logic; built from the quarter wave by symmetry, so that it is odd
    // and mirror-symmetric to the bit.
    let quarter = |k: f64| (tau * k / 1024.0).sin();
    table(
        "SINE",
        "sin(2π·i/1024), i = 0..=1024 (a full wave and its first point again), Q1.14.",
        1025,
        |i| {
            let h = i % 512.0;
            let v = quarter(if h <= 256.0 { h } else { 512.0 - h });
            if (i / 512.0).floor() as u32 % 2 == 1 { -v } else { v }
        },
        &mut out,
    );
    table(
        "GAUSS",
        "exp(−u²/2) at u = i/64, i = 0..=512, Q1.14.",
        513,
        |i| (-(i / 64.0).powi(2) / 2.0).exp(),
        &mut out,
    );
    table("TANH", "tanh(u) at u = i/64, i = 0..=512, Q1.14.", 513, |i| (i / 64.0).tanh(), &mut out);
    table(
        "SINC",
        "sin(u)/u at u = i/64, i = 0..=2048, Q1.14.",
        2049,
        |i| if i == 0.0 { 1.0 } else { (i / 64.0).sin() / (i / 64.0) },
        &mut out,
    );
    let dest = Path::new(&env::var("OUT_DIR").unwrap()).join("tables.rs");
    fs::write(dest, out).unwrap();
    println!("cargo::rerun-if-changed=build.rs");
    // `vi3nr_dsp`: the Armv7E-M DSP extension (dual 16-bit multiply-accumulates), present on
    // every thumbv7em core. Stable Rust does not set `target_feature = "dsp"` (an unstable
    // feature), so the target name decides.
    // `vi3nr_v6m`: the Armv6-M (Cortex-M0/M0+) inner loops.
    // `vi3nr_fpu`: the hard-float thumbv7em target (FPv4-SP, 32 single registers): the f32
    // evaluator's `vldm`/`vmla` loop.
    println!("cargo::rustc-check-cfg=cfg(vi3nr_dsp, vi3nr_v6m, vi3nr_fpu)");
    let target = env::var("TARGET").unwrap_or_default();
    if target.starts_with("thumbv7em-") {
        println!("cargo::rustc-cfg=vi3nr_dsp");
        if target.ends_with("eabihf") {
            println!("cargo::rustc-cfg=vi3nr_fpu");
        }
    } else if target.starts_with("thumbv6m-") {
        println!("cargo::rustc-cfg=vi3nr_v6m");
    }
}
