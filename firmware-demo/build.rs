//! Picks the board's `memory.x` from the target: thumbv7em-none-eabihf → mps2-an386
//! (Cortex-M4F), thumbv6m-none-eabi → micro:bit (Cortex-M0). No `memory.x` in the crate root:
//! it would win the link search for both boards.

use std::{env, fs, path::PathBuf};

fn main() {
    let target = env::var("TARGET").unwrap();
    let board = match target.as_str() {
        "thumbv7em-none-eabihf" => "mps2_an386",
        "thumbv6m-none-eabi" => "microbit",
        other => panic!(
            "firmware-demo builds for thumbv7em-none-eabihf or thumbv6m-none-eabi, not {other}"
        ),
    };
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    let memory = format!("memory/{}.x", board.replace('_', "-"));
    fs::copy(&memory, out.join("memory.x")).unwrap();
    println!("cargo::rustc-link-search={}", out.display());
    println!("cargo::rustc-check-cfg=cfg(board, values(\"mps2_an386\", \"microbit\"))");
    println!("cargo::rustc-cfg=board=\"{board}\"");
    println!("cargo::rerun-if-changed={memory}");
    println!("cargo::rerun-if-changed=build.rs");
}
