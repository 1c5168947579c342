//! Fuzz target `parse`: any bytes given to `Model::parse` return a model or an error, never a
//! panic, and a model that parses evaluates points in [−1, 1] without panicking.
//!
//! Each input is parsed twice: as it is, and with the declared length and CRC-32 rewritten to
//! match, so that mutations reach the structural checks behind the checksum.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vi3nr_core::eval::Scratch;
use vi3nr_core::model::{self, Model, NumberFormat};

fuzz_target!(|data: &[u8]| {
    let mut words = vec![0u32; data.len().div_ceil(4)];
    let bytes = &mut bytemuck::cast_slice_mut::<u32, u8>(&mut words)[..data.len()];
    bytes.copy_from_slice(data);
    check(bytes);
    if bytes.len() >= model::HEADER_BYTES + 4 {
        let len = bytes.len() as u32;
        bytes[8..12].copy_from_slice(&len.to_le_bytes());
        let body = bytes.len() - 4;
        let crc = model::crc32(&bytes[..body]);
        bytes[body..].copy_from_slice(&crc.to_le_bytes());
        check(bytes);
    }
});

/// Parses `bytes`; if that succeeds, checks the model's invariants and evaluates a few points
/// through every evaluator.
fn check(bytes: &[u8]) {
    let Ok(model) = Model::parse(bytes) else { return };
    assert_eq!(model.file_bytes, bytes.len());
    assert!(!model.layers.is_empty() && model.in_dim > 0 && model.out_dim > 0);
    assert_eq!(model.affine.len(), model.out_dim);
    assert_eq!(model.fourier.len(), model.n_freq() * model.in_dim);
    let floating = matches!(model.format, NumberFormat::F32 | NumberFormat::F16);
    let mut out = vec![0.0f32; model.out_dim];
    let mut float = vec![0.0f32; model.scratch_len()];
    let mut fixed = vec![0i32; model.scratch_len()];
    let mut scratch = Scratch::<32>::new();
    for p in [-1.0f32, -0.3, 0.0, 0.7, 1.0] {
        let x: Vec<f32> = (0..model.in_dim).map(|i| if i % 2 == 0 { p } else { -p }).collect();
        let own = if floating {
            assert!(model.eval_fixed(&x, &mut out, &mut fixed).is_err());
            model.eval_f32(&x, &mut out, &mut float)
        } else {
            assert!(model.eval_f32(&x, &mut out, &mut float).is_err());
            model.eval_fixed(&x, &mut out, &mut fixed)
        };
        let via_scratch = model.eval(&x, &mut out, &mut scratch);
        if model.max_width() <= 32 {
            assert_eq!(own.is_ok(), via_scratch.is_ok());
        } else {
            assert!(via_scratch.is_err());
        }
    }
}
