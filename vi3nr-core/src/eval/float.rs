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
                    if let Ok(x32) = <&[f32; 32]>::try_from(input) {
                        // The common 32-wide layer, its row length known to the compiler.
                        let rows = w.as_chunks::<32>().0;
                        for ((row, &bias), y) in rows.iter().zip(bias).zip(&mut b[..fo]) {
                            *y = bias + dot(row, x32);
                        }
                    } else {
                        for ((row, &bias), y) in w.chunks_exact(fi).zip(bias).zip(&mut b[..fo]) {
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
