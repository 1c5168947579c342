//! Fuzz target `image`: PNG and JPEG bytes given to `Signal::from_bytes` give a signal that
//! keeps its invariants or an error naming the input, never a panic, an abort or an
//! allocation the file cannot justify (libFuzzer's `-rss_limit_mb` / `-malloc_limit_mb`).
//!
//! A PNG input is decoded twice: as it is, and with every chunk's CRC-32 rewritten to match,
//! so that mutations reach the structural checks behind the checksums. WAV inputs are left to
//! the `wav` target.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vi3nr_fuzz::{PNG_MAGIC, check_signal, fix_png_crcs, is_wav};

fuzz_target!(|data: &[u8]| {
    if is_wav(data) {
        return;
    }
    check_signal(data);
    if data.starts_with(PNG_MAGIC) {
        let mut fixed = data.to_vec();
        if fix_png_crcs(&mut fixed) {
            check_signal(&fixed);
        }
    }
});
