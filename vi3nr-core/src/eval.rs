//! Evaluating a parsed [`Model`]: f32 (and f16 weights) in floating point, q15 and i8 in integer
//! arithmetic. No allocation: the caller provides the scratch, as slices or as a [`Scratch`].
//!
//! Inputs are coordinates (`in_dim` per point), typically in [−1, 1]; the fixed-point paths
//! take them in Q1.14, so they must lie in [−2, 2). Outputs pass through the model's affine map.

pub mod fast;

use crate::fixed::{self, FixedAct, Requant, Rescale};
use crate::model::{Model, ModelError, NumberFormat, Weights};
use fast::FastAct;

/// Two activation buffers of `W` values for each arithmetic, enough for any model whose
/// widest layer (the encoded input included) is at most `W`.
#[derive(Debug, Clone)]
pub struct Scratch<const W: usize> {
    float: [[f32; W]; 2],
    fixed: [[i16; W]; 2],
}

impl<const W: usize> Scratch<W> {
    /// Zeroed buffers.
    pub const fn new() -> Self {
        Scratch { float: [[0.0; W]; 2], fixed: [[0; W]; 2] }
    }
}

impl<const W: usize> Default for Scratch<W> {
    fn default() -> Self {
        Self::new()
    }
}

/// `Σ w·x` with eight partial sums over blocks of eight (vectorises on hosts; the same
/// operation count on Cortex-M).
#[inline]
fn dot(w: &[f32], x: &[f32]) -> f32 {
    let (wb, wt) = w.as_chunks::<8>();
    let (xb, xt) = x.as_chunks::<8>();
    let mut acc = [0.0f32; 8];
    for (w, x) in wb.iter().zip(xb) {
        for k in 0..8 {
            acc[k] += w[k] * x[k];
        }
    }
    let tail: f32 = wt.iter().zip(xt).map(|(w, x)| w * x).sum();
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
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

/// `Σ w·x` in i32, nothing else in the loop (a load of each operand, a multiply and an add on
/// a Cortex-M0). Wrapping, so that no input can make it panic.
#[inline(always)]
fn dot_chunk<T: Copy + Into<i32>>(w: &[T], x: &[i16]) -> i32 {
    let mut acc = 0i32;
    for (&w, &x) in w.iter().zip(x) {
        acc = acc.wrapping_add(w.into().wrapping_mul(i32::from(x)));
    }
    acc
}

/// `Σ_chunks (Σ w·x) >> post` over chunks of [`fixed::CHUNK`] products, exact in i32 when the
/// inputs are pre-shifted by [`fixed::input_shift`] (see FORMAT.md).
#[inline(always)]
fn dot_fixed<T: Copy + Into<i32>>(w: &[T], x: &[i16], post: u32) -> i32 {
    if w.len() <= fixed::CHUNK {
        return dot_chunk(w, x) >> post;
    }
    let mut acc = 0i32;
    for (w, x) in w.chunks(fixed::CHUNK).zip(x.chunks(fixed::CHUNK)) {
        acc = acc.wrapping_add(dot_chunk(w, x) >> post);
    }
    acc
}

/// A hidden q15 layer: each row's accumulator, rescaled by `r`, through `act` into `out`.
/// Kept out of line so that the row loop has the registers to itself.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn hidden_q15(
    w: &[i16],
    fan_in: usize,
    bias: &[i32],
    input: &[i16],
    post: u32,
    r: Rescale,
    act: FixedAct,
    out: &mut [i16],
) {
    for ((row, &bias), y) in w.chunks_exact(fan_in).zip(bias).zip(out) {
        *y = activate(act, bias.wrapping_add(dot_fixed(row, input, post)), r);
    }
}

/// The activation of accumulator `acc` rescaled by `r` into its argument units.
#[inline(always)]
fn activate(act: FixedAct, acc: i32, r: Rescale) -> i16 {
    match act {
        FixedAct::Sine => fixed::sine_turns(r.turns(acc)),
        _ => act.eval_q16(r.q16(acc)),
    }
}

impl Model<'_> {
    /// Scratch values each evaluator needs: twice the widest layer.
    pub fn scratch_len(&self) -> usize {
        2 * self.max_width()
    }

    fn check_io(&self, x: &[f32], out: &[f32], scratch: usize) -> Result<(), ModelError> {
        if x.len() != self.in_dim {
            return Err(ModelError::BufferLength("input: one value per input dimension"));
        }
        if out.len() != self.out_dim {
            return Err(ModelError::BufferLength("output: one value per output dimension"));
        }
        if scratch < self.scratch_len() {
            return Err(ModelError::BufferLength("scratch shorter than Model::scratch_len"));
        }
        Ok(())
    }

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
    /// Errors: a fixed-point model (use [`Model::eval_fixed`]), or buffer lengths.
    pub fn eval_f32(
        &self,
        x: &[f32],
        out: &mut [f32],
        scratch: &mut [f32],
    ) -> Result<(), ModelError> {
        self.check_io(x, out, scratch.len())?;
        let (mut a, mut b) = scratch.split_at_mut(scratch.len() / 2);
        self.encode_f32(x, a);
        for layer in &self.layers {
            let act = FastAct::new(layer.act);
            let (fi, fo) = (layer.fan_in, layer.fan_out);
            let input = &a[..fi];
            match layer.weights {
                Weights::F32 { w, b: bias } => {
                    for ((row, &bias), y) in w.chunks_exact(fi).zip(bias).zip(&mut b[..fo]) {
                        *y = act.eval(bias + dot(row, input));
                    }
                }
                Weights::F16 { w, b: bias } => {
                    for ((row, &bias), y) in w.chunks_exact(fi).zip(bias).zip(&mut b[..fo]) {
                        *y = act.eval(bias + dot_f16(row, input));
                    }
                }
                _ => return Err(ModelError::BufferLength("a fixed-point model needs eval_fixed")),
            }
            core::mem::swap(&mut a, &mut b);
        }
        for ((y, &v), [scale, offset]) in out.iter_mut().zip(&*a).zip(self.affine) {
            *y = scale * v + offset;
        }
        Ok(())
    }

    /// Evaluates one point with a q15 or i8 model in integer arithmetic (floating point only to
    /// quantise the input, compute Fourier phases, and scale the outputs).
    ///
    /// Errors: a floating-point model (use [`Model::eval_f32`]), or buffer lengths.
    pub fn eval_fixed(
        &self,
        x: &[f32],
        out: &mut [f32],
        scratch: &mut [i16],
    ) -> Result<(), ModelError> {
        self.check_io(x, out, scratch.len())?;
        let (mut a, mut b) = scratch.split_at_mut(scratch.len() / 2);
        let n_freq = self.n_freq();
        if n_freq == 0 {
            for (q, &v) in a.iter_mut().zip(x) {
                *q = libm::roundf(v * 16_384.0).clamp(-32_768.0, 32_767.0) as i16;
            }
        } else {
            for (k, f) in self.fourier.chunks_exact(self.in_dim).enumerate() {
                let t: f32 = f.iter().zip(x).map(|(f, x)| f * x).sum();
                let theta = ((t - libm::floorf(t)) * 4_294_967_296.0) as u64 as u32;
                a[k] = fixed::sine_turns(theta);
                a[n_freq + k] = fixed::sine_turns(theta.wrapping_add(1 << 30));
            }
        }
        let last = self.layers.len() - 1;
        let mut bits = fixed::in_bits(None, n_freq > 0);
        for (i, layer) in self.layers.iter().enumerate() {
            let fi = layer.fan_in;
            // Inputs rounded to `2^pre` steps (in place: they are not needed again), each chunk's
            // exact product sum shifted by `post` (FORMAT.md):
            // `acc = bias + Σ_chunks (Σ q_w · round(x / 2^pre)) >> post`.
            let shift = fixed::acc_shift(self.format, fi);
            let pre = fixed::input_shift(self.format, fi, bits);
            let post = shift - pre;
            if pre > 0 {
                let half = 1i32 << (pre - 1);
                for v in &mut a[..fi] {
                    *v = ((i32::from(*v) + half) >> pre) as i16;
                }
            }
            bits = fixed::in_bits(Some(layer.act), false);
            let input = &a[..fi];
            let index = i as u8;
            let fixed_act = FixedAct::new(layer.act)
                .ok_or(ModelError::Layer { index, what: "activation constants out of range" })?;
            let to_out = i == last;
            let mut emit = |j: usize, acc: i32, r: Rescale| {
                if to_out && layer.act.is_none() {
                    // Q16.16 of the real output.
                    out[j] = r.q16(acc) as f32 * (1.0 / 65_536.0);
                } else if to_out {
                    out[j] = f32::from(activate(fixed_act, acc, r))
                        / (1u32 << fixed::out_frac(layer.act)) as f32;
                } else {
                    b[j] = activate(fixed_act, acc, r);
                }
            };
            match layer.weights {
                Weights::Q15 { w, b: bias, requant, .. } if !to_out => {
                    hidden_q15(w, fi, bias, input, post, requant.rescale(), fixed_act, b);
                }
                Weights::Q15 { w, b: bias, requant, .. } => {
                    let r = requant.rescale();
                    for (j, (row, &bias)) in w.chunks_exact(fi).zip(bias).enumerate() {
                        emit(j, bias.wrapping_add(dot_fixed(row, input, post)), r);
                    }
                }
                Weights::I8 { scales, w, b: bias } => {
                    // One f32 product and bit operations per row (see `fixed::row_unit`).
                    let unit = layer.row_unit;
                    for (j, ((row, &bias), &scale)) in
                        w.chunks_exact(fi).zip(bias).zip(scales).enumerate()
                    {
                        let requant = Requant::from_f32(scale * unit)
                            .ok_or(ModelError::Layer { index, what: "row scale out of range" })?;
                        emit(j, bias.wrapping_add(dot_fixed(row, input, post)), requant.rescale());
                    }
                }
                _ => return Err(ModelError::BufferLength("a floating-point model needs eval_f32")),
            }
            core::mem::swap(&mut a, &mut b);
        }
        for (y, [scale, offset]) in out.iter_mut().zip(self.affine) {
            *y = scale * *y + offset;
        }
        Ok(())
    }

    /// Evaluates one point with whichever arithmetic the model's format uses.
    pub fn eval<const W: usize>(
        &self,
        x: &[f32],
        out: &mut [f32],
        scratch: &mut Scratch<W>,
    ) -> Result<(), ModelError> {
        match self.format {
            NumberFormat::F32 | NumberFormat::F16 => {
                self.eval_f32(x, out, scratch.float.as_flattened_mut())
            }
            NumberFormat::Q15 | NumberFormat::I8 => {
                self.eval_fixed(x, out, scratch.fixed.as_flattened_mut())
            }
        }
    }

    /// Evaluates consecutive points: `xs` holds `n · in_dim` values, `outs` `n · out_dim`.
    pub fn eval_batch<const W: usize>(
        &self,
        xs: &[f32],
        outs: &mut [f32],
        scratch: &mut Scratch<W>,
    ) -> Result<(), ModelError> {
        if !xs.len().is_multiple_of(self.in_dim)
            || xs.len() / self.in_dim * self.out_dim != outs.len()
        {
            return Err(ModelError::BufferLength(
                "batch: inputs and outputs disagree on the point count",
            ));
        }
        for (x, y) in xs.chunks_exact(self.in_dim).zip(outs.chunks_exact_mut(self.out_dim)) {
            self.eval(x, y, scratch)?;
        }
        Ok(())
    }
}
