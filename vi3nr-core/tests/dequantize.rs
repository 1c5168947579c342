//! `Layer::dequantize`: write f32 weights in each format, parse, dequantise, and compare with
//! the originals within the format's quantisation step (f32 exactly).

use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use vi3nr_core::Act;
use vi3nr_core::model::{
    self, Buffer, LayerSpec, Model, ModelError, ModelSpec, NumberFormat, Weights,
};

/// Widths and activations of the test networks: a chunked (> 32) layer, relu (Q3.12 inputs
/// after it), and an i8 layer with a non-zero accumulator shift (fan-in 300).
const NETS: [(&[usize], &[Option<Act>]); 3] = [
    (&[2, 40, 16, 1], &[Some(Act::Sine { omega: 30.0 }), Some(Act::Sine { omega: 30.0 }), None]),
    (&[3, 24, 300, 2], &[Some(Act::Relu), Some(Act::Tanh), None]),
    (&[2, 8, 8, 1], &[Some(Act::Gaussian { a: 0.5 }), Some(Act::Relu), None]),
];

/// FORMAT.md's rule: inputs Q1.14 for the first layer and after bounded activations, Q3.12
/// after relu and the identity; the accumulator shift `s = ⌈log₂ fan_in⌉` (q15), 8 less (i8).
fn bias_unit(format: NumberFormat, scale: f32, fan_in: usize, prev: Option<Option<Act>>) -> f64 {
    let in_frac = match prev {
        None => 14,
        Some(None | Some(Act::Relu)) => 12,
        Some(Some(_)) => 14,
    };
    let log2 = usize::BITS - (fan_in - 1).leading_zeros();
    let s = if format == NumberFormat::I8 { log2.saturating_sub(8) } else { log2 };
    f64::from(scale) * 2f64.powi(s as i32 - in_frac)
}

#[test]
fn dequantised_weights_are_within_half_a_quantisation_step() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
    let mut unit = move || (rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
    for (widths, acts) in NETS {
        let params: Vec<(Vec<f32>, Vec<f32>)> = widths
            .windows(2)
            .map(|w| {
                let scale = 1.0 / (w[0] as f32).sqrt();
                let weights = (0..w[0] * w[1]).map(|_| scale * (2.0 * unit() - 1.0)).collect();
                let bias = (0..w[1]).map(|_| 0.5 * unit() - 0.25).collect();
                (weights, bias)
            })
            .collect();
        let layers: Vec<LayerSpec<'_>> = params
            .iter()
            .zip(widths.windows(2))
            .zip(acts)
            .map(|(((w, b), fans), &act)| LayerSpec {
                fan_in: fans[0],
                fan_out: fans[1],
                act,
                weights: w,
                bias: b,
            })
            .collect();
        for format in NumberFormat::ALL {
            let affine = vec![[1.0, 0.0]; *widths.last().unwrap()];
            let spec = ModelSpec {
                format,
                in_dim: widths[0],
                fourier: &[],
                affine: &affine,
                layers: &layers,
            };
            let mut words = vec![0u32; model::encoded_len(&spec).unwrap().div_ceil(4)];
            let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
            let n = model::write(&spec, bytes).unwrap();
            let parsed = Model::parse(&bytes[..n]).unwrap();
            for (i, (layer, spec)) in parsed.layers.iter().zip(&layers).enumerate() {
                let what = format!("{widths:?} {} layer {i}", format.name());
                let mut w = vec![f32::NAN; spec.weights.len()];
                let mut b = vec![f32::NAN; spec.bias.len()];
                layer.dequantize(&mut w, &mut b).unwrap();
                let prev = i.checked_sub(1).map(|p| acts[p]);
                // (weight step, bias step) of each row.
                let steps = |row: usize| -> (f64, f64) {
                    match layer.weights {
                        Weights::F32 { .. } => (0.0, 0.0),
                        Weights::F16 { .. } => (f64::NAN, 0.0),
                        Weights::Q15 { scale, .. } => {
                            (f64::from(scale), bias_unit(format, scale, spec.fan_in, prev))
                        }
                        Weights::I8 { scales, .. } => (
                            f64::from(scales[row]),
                            bias_unit(format, scales[row], spec.fan_in, prev),
                        ),
                    }
                };
                for (k, (&d, &orig)) in w.iter().zip(spec.weights).enumerate() {
                    let (d, orig) = (f64::from(d), f64::from(orig));
                    let step = steps(k / spec.fan_in).0;
                    // f16: half an ulp of the stored value (11-bit significand; subnormals
                    // below 2⁻¹⁴ in steps of 2⁻²⁴); fixed point: half a step plus the f32
                    // rounding of the product.
                    let tol = if step.is_nan() {
                        (orig.abs() * 2f64.powi(-11)).max(2f64.powi(-25))
                    } else {
                        step / 2.0 + orig.abs() * 2f64.powi(-23)
                    };
                    assert!((d - orig).abs() <= tol, "{what} w[{k}]: {d} vs {orig} (tol {tol:e})");
                }
                for (j, (&d, &orig)) in b.iter().zip(spec.bias).enumerate() {
                    let (d, orig) = (f64::from(d), f64::from(orig));
                    let tol = steps(j).1 / 2.0 * (1.0 + 1e-6) + orig.abs() * 2f64.powi(-23);
                    assert!((d - orig).abs() <= tol, "{what} b[{j}]: {d} vs {orig} (tol {tol:e})");
                }
            }
        }
    }
}

#[test]
fn dequantize_checks_the_buffer_lengths() {
    let layer =
        LayerSpec { fan_in: 2, fan_out: 1, act: None, weights: &[0.5, -0.25], bias: &[0.1] };
    let spec = ModelSpec {
        format: NumberFormat::I8,
        in_dim: 2,
        fourier: &[],
        affine: &[[1.0, 0.0]],
        layers: &[layer],
    };
    let mut words = [0u32; 32];
    let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
    let n = model::write(&spec, bytes).unwrap();
    let parsed = Model::parse(&bytes[..n]).unwrap();
    let l = &parsed.layers[0];
    let (mut w, mut b) = ([0.0f32; 3], [0.0f32; 2]);
    assert_eq!(
        l.dequantize(&mut w[..1], &mut b[..1]),
        Err(ModelError::BufferLength(Buffer::Weights))
    );
    assert_eq!(l.dequantize(&mut w, &mut b[..1]), Err(ModelError::BufferLength(Buffer::Weights)));
    assert_eq!(l.dequantize(&mut w[..2], &mut b), Err(ModelError::BufferLength(Buffer::Biases)));
    assert_eq!(
        l.dequantize(&mut w[..2], &mut b[..0]),
        Err(ModelError::BufferLength(Buffer::Biases))
    );
    assert_eq!(l.dequantize(&mut w[..2], &mut b[..1]), Ok(()));
}
