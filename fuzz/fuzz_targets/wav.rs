//! Fuzz target `wav`: WAV bytes given to `Signal::from_bytes` give a signal that keeps its
//! invariants or an error naming the input, never a panic, an abort or an allocation the file
//! cannot justify.
//!
//! Every input of 12 bytes or more is decoded as it is and, when that differs, with its first
//! 12 bytes rewritten to `RIFF`, the true RIFF size, `WAVE`, so that every mutation reaches
//! the WAV decoder (through the same content sniffing a real file goes through).

#![no_main]

use libfuzzer_sys::fuzz_target;
use vi3nr_fuzz::{as_wav, check_signal};

fuzz_target!(|data: &[u8]| {
    check_signal(data);
    if data.len() >= 12 {
        let mut fixed = data.to_vec();
        as_wav(&mut fixed);
        if fixed != data {
            check_signal(&fixed);
        }
    }
});
