//! The f32 evaluator (f32 and f16 weights, computed in f32).
//!
//! Each layer is `y = f(b + Σ w·x)` with the dot product summed in eight partial sums over
//! blocks of eight (vectorises on hosts; `vldmia`/`vmla.f32` with the same roundings on the
//! Cortex-M4F) and the activation from [`FastAct`] (a polynomial sine about 2 ulp from
//! `libm::sinf`), applied to the whole layer once its pre-activations are in (the sine's
//! range check done once for the layer, outside its loop: [`FastAct::eval_layer`]). f16 weights
//! are widened to f32 eight at a time; biases are always f32.

use super::fast::{self, FastAct};
use crate::model::{Model, ModelError, Weights};

/// `Σ w·x` over the blocks of eight: eight partial sums `acc[k] += w[k]·x[k]` block after
/// block, then `((a₀ + a₄) + (a₁ + a₅)) + ((a₂ + a₆) + (a₃ + a₇))` (vectorises on hosts;
/// `vldmia` and `vmla.f32`, the same roundings, on the Cortex-M4F: `eval::arm`).
#[inline(always)]
fn blocks_sum(wb: &[[f32; 8]], xb: &[[f32; 8]]) -> f32 {
    #[cfg(vi3nr_fpu)]
    {
        super::arm::blocks_f32(wb, xb)
    }
    #[cfg(not(vi3nr_fpu))]
    {
        let mut acc = [0.0f32; 8];
        for (w, x) in wb.iter().zip(xb) {
            for k in 0..8 {
                acc[k] += w[k] * x[k];
            }
        }
        ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
    }
}

/// `Σ w·x`: [`blocks_sum`] of the blocks of eight, plus the tail.
#[inline]
fn dot(w: &[f32], x: &[f32]) -> f32 {
    let (wb, wt) = w.as_chunks::<8>();
    let (xb, xt) = x.as_chunks::<8>();
    let tail: f32 = wt.iter().zip(xt).map(|(w, x)| w * x).sum();
    blocks_sum(wb, xb) + tail
}

/// `y = bias + dot(row, x)` for every row when the rows are `N` long (`input.len() == N`), with
/// `N` known to the compiler; `false` (and nothing written) otherwise.
#[inline(always)]
fn rows_of<const N: usize>(w: &[f32], bias: &[f32], input: &[f32], out: &mut [f32]) -> bool {
    let Ok(x) = <&[f32; N]>::try_from(input) else {
        return false;
    };
    for ((row, &bias), y) in w.as_chunks::<N>().0.iter().zip(bias).zip(out) {
        *y = bias + dot(row, x);
    }
    true
}

/// [`rows_of`]`::<32>`, on the Cortex-M4F two rows at a time with each block of inputs loaded
/// once for both (`eval::arm`; the same sums).
#[inline(always)]
fn rows_32(w: &[f32], bias: &[f32], input: &[f32], out: &mut [f32]) -> bool {
    #[cfg(vi3nr_fpu)]
    {
        let Ok(x) = <&[f32; 32]>::try_from(input) else {
            return false;
        };
        let (pairs, last) = w.as_chunks::<32>().0.as_chunks::<2>();
        let (bias2, bias1) = bias.as_chunks::<2>();
        let (out2, out1) = out.as_chunks_mut::<2>();
        // `dot`'s sum of an empty tail, added as `dot` adds it.
        let tail: f32 = core::iter::empty::<f32>().sum();
        for (([a, b], [ba, bb]), [ya, yb]) in pairs.iter().zip(bias2).zip(out2) {
            let (sa, sb) = super::arm::rows2_f32(a, b, x);
            *ya = ba + (sa + tail);
            *yb = bb + (sb + tail);
        }
        if let ([row], [b], [y]) = (last, bias1, out1) {
            *y = b + dot(row, x);
        }
        true
    }
    #[cfg(not(vi3nr_fpu))]
    {
        rows_of::<32>(w, bias, input, out)
    }
}

/// [`dot`] with f16 weights, widened eight at a time.
#[inline]
fn dot_f16(w: &[half::f16], x: &[f32]) -> f32 {
    let (wb, wt) = w.as_chunks::<8>();
    let (xb, xt) = x.as_chunks::<8>();
    let mut acc = [0.0f32; 8];
    for (w, x) in wb.iter().zip(xb) {
        let w = w.map(half::f16::to_f32);
        for k in 0..8 {
            acc[k] += w[k] * x[k];
        }
    }
    let tail: f32 = wt.iter().zip(xt).map(|(w, x)| w.to_f32() * x).sum();
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

impl Model<'_> {
    /// Writes the encoded input (coordinates, or Fourier features) into `a`; returns its width.
    fn encode_f32(&self, x: &[f32], a: &mut [f32]) -> usize {
        let n_freq = self.n_freq();
        if n_freq == 0 {
            a[..x.len()].copy_from_slice(x);
            return x.len();
        }
        for (k, f) in self.fourier.chunks_exact(self.in_dim).enumerate() {
            let t = core::f32::consts::TAU * f.iter().zip(x).map(|(f, x)| f * x).sum::<f32>();
            a[k] = fast::sin(t);
            a[n_freq + k] = fast::cos(t);
        }
        2 * n_freq
    }

    /// Evaluates one point with an f32 or f16 model.
    ///
    /// Errors: a fixed-point model ([`ModelError::WrongEvaluator`]: use
    /// [`Model::eval_fixed`]), or buffer lengths ([`ModelError::BufferLength`]).
    pub fn eval_f32(
        &self,
        x: &[f32],
        out: &mut [f32],
        scratch: &mut [f32],
    ) -> Result<(), ModelError> {
        let (mut a, mut b) = self.open(false, x, out, scratch)?;
        self.encode_f32(x, a);
        for layer in &self.layers {
            let act = FastAct::new(layer.act);
            let (fi, fo) = (layer.fan_in, layer.fan_out);
            let input = &a[..fi];
            match layer.weights {
                Weights::F32 { w, b: bias } => {
                    // Coordinates and the common 32-wide layer with their row length known to
                    // the compiler (the same sums, unrolled); other widths row by row.
                    let out = &mut b[..fo];
                    let known = rows_of::<2>(w, bias, input, out)
                        || rows_of::<3>(w, bias, input, out)
                        || rows_32(w, bias, input, out);
                    if !known {
                        for ((row, &bias), y) in w.chunks_exact(fi).zip(bias).zip(out) {
                            *y = bias + dot(row, input);
                        }
                    }
                }
                Weights::F16 { w, b: bias } => {
                    for ((row, &bias), y) in w.chunks_exact(fi).zip(bias).zip(&mut b[..fo]) {
                        *y = bias + dot_f16(row, input);
                    }
                }
                _ => return Err(ModelError::WrongEvaluator(self.format)),
            }
            act.eval_layer(&mut b[..fo]);
            core::mem::swap(&mut a, &mut b);
        }
        for ((y, &v), [scale, offset]) in out.iter_mut().zip(&*a).zip(self.affine) {
            *y = scale * v + offset;
        }
        Ok(())
    }
}
