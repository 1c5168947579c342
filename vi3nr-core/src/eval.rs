//! Evaluating a parsed [`Model`]: f32 (and f16 weights) in floating point, q15 and i8 in integer
//! arithmetic. No allocation: the caller provides the scratch, as slices or as a [`Scratch`].
//!
//! Inputs are coordinates (`in_dim` per point), typically in [−1, 1]; the fixed-point paths
//! take them in Q1.14, so they must lie in [−2, 2). Outputs pass through the model's affine map.
//!
//! - [`Model::eval`] and [`Model::eval_batch`] pick the arithmetic from the model's format;
//! - [`Model::eval_f32`] (submodule `float`) and [`Model::eval_fixed`] (submodule `fixed`, with
//!   its Q-format rules, requantisation and activation tables) are the two evaluators; both
//!   open with the same checks of the input, output and scratch lengths;
//! - [`fast`]: the f32 activations; [`parts`]: the fixed-point evaluator's pieces, public only
//!   so that firmware can time them alone.

#[cfg(any(vi3nr_dsp, vi3nr_v6m, vi3nr_fpu))]
#[allow(unsafe_code)] // the crate's one module with `unsafe` (inline assembly)
mod arm;
pub mod fast;
pub(crate) mod fixed;
mod float;
pub mod parts;

use crate::model::{Buffer, Model, ModelError, NumberFormat};

/// Two activation buffers of `W` values for each arithmetic, enough for any model whose
/// widest layer (the encoded input included) is at most `W`: `16 · W` bytes, f32 for the
/// float evaluator and i32 for the fixed-point one (its i16 values widened to i32, or packed
/// in pairs on thumbv7em: [`parts::Lane`]).
#[derive(Debug, Clone)]
pub struct Scratch<const W: usize> {
    float: [[f32; W]; 2],
    fixed: [[i32; W]; 2],
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

impl Model<'_> {
    /// Scratch values each evaluator needs: twice the widest layer.
    pub fn scratch_len(&self) -> usize {
        2 * self.max_width()
    }

    /// The opening both evaluators share: checks the input, output and scratch lengths and
    /// that the model's format is the evaluator's (`fixed`: q15 or i8, else f32 or f16), and
    /// splits the scratch into its two activation buffers.
    fn open<'s, T>(
        &self,
        fixed: bool,
        x: &[f32],
        out: &[f32],
        scratch: &'s mut [T],
    ) -> Result<(&'s mut [T], &'s mut [T]), ModelError> {
        if x.len() != self.in_dim {
            return Err(ModelError::BufferLength(Buffer::Input));
        }
        if out.len() != self.out_dim {
            return Err(ModelError::BufferLength(Buffer::Output));
        }
        if scratch.len() < self.scratch_len() {
            return Err(ModelError::BufferLength(Buffer::Scratch));
        }
        if matches!(self.format, NumberFormat::Q15 | NumberFormat::I8) != fixed {
            return Err(ModelError::WrongEvaluator(self.format));
        }
        let half = scratch.len() / 2;
        Ok(scratch.split_at_mut(half))
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
            return Err(ModelError::BufferLength(Buffer::Batch));
        }
        for (x, y) in xs.chunks_exact(self.in_dim).zip(outs.chunks_exact_mut(self.out_dim)) {
            self.eval(x, y, scratch)?;
        }
        Ok(())
    }
}
