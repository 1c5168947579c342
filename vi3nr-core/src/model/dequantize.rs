//! The weights of a parsed layer back in f32, whatever format they are stored in.
//!
//! - f32: copied; f16: widened (exact);
//! - q15: `w = q · scale`, i8: `w = q · scales[row]` (one f32 product, exact to the f32
//!   rounding of the product);
//! - fixed-point biases are stored in accumulator units: one unit is worth
//!   `u = scale · 2^(s − in_frac)` of the real pre-activation (the layer's accumulator shift
//!   `s` and input fraction `in_frac`, FORMAT.md), taken in f32, and `b = q · u`.
//!
//! The stored values are what the quantiser rounded: a round trip f32 → format → f32 is off by
//! at most half a quantisation step (`scale / 2` for q15 and i8 weights, `u / 2` for their
//! biases, half an f16 ulp for f16 weights) and exact for f32.

use super::{Buffer, Layer, ModelError, Weights};

impl Layer<'_> {
    /// Writes the layer's weights (row-major, `fan_out` rows of `fan_in`, as
    /// [`LayerSpec::weights`](super::LayerSpec::weights)) into `w` and its biases into `b`,
    /// in f32 whatever the stored format; `w` must hold `fan_in · fan_out` values and `b`
    /// `fan_out` ([`ModelError::BufferLength`] otherwise). No allocation.
    ///
    /// ```
    /// use vi3nr_core::model::{self, LayerSpec, Model, ModelSpec, NumberFormat};
    /// let weights = [0.5, -0.25];
    /// let layer = LayerSpec { fan_in: 2, fan_out: 1, act: None, weights: &weights, bias: &[0.1] };
    /// let spec = ModelSpec {
    ///     format: NumberFormat::Q15, in_dim: 2, fourier: &[], affine: &[[1.0, 0.0]], layers: &[layer],
    /// };
    /// let mut buf = [0u32; 32];
    /// let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut buf);
    /// let n = model::write(&spec, bytes)?;
    /// let model = Model::parse(&bytes[..n])?;
    /// let (mut w, mut b) = ([0.0f32; 2], [0.0f32; 1]);
    /// model.layers[0].dequantize(&mut w, &mut b)?;
    /// // q15: one scale for the layer, max |w| ↦ 32767.
    /// let step = 0.5 / 32_767.0;
    /// assert!(w.iter().zip(weights).all(|(d, w)| (d - w).abs() <= step / 2.0));
    /// assert!((b[0] - 0.1).abs() < 1e-4);
    /// # Ok::<(), vi3nr_core::model::ModelError>(())
    /// ```
    pub fn dequantize(&self, w: &mut [f32], b: &mut [f32]) -> Result<(), ModelError> {
        if w.len() != self.fan_in.saturating_mul(self.fan_out) {
            return Err(ModelError::BufferLength(Buffer::Weights));
        }
        if b.len() != self.fan_out {
            return Err(ModelError::BufferLength(Buffer::Biases));
        }
        // Real value of one accumulator unit for weight scale `s`.
        let shift = i32::from(self.acc_shift) - i32::from(self.in_frac);
        let unit = |s: f32| libm::ldexp(f64::from(s), shift) as f32;
        match self.weights {
            Weights::F32 { w: qw, b: qb } => {
                w.iter_mut().zip(qw).for_each(|(y, &q)| *y = q);
                b.iter_mut().zip(qb).for_each(|(y, &q)| *y = q);
            }
            Weights::F16 { w: qw, b: qb } => {
                w.iter_mut().zip(qw).for_each(|(y, q)| *y = q.to_f32());
                b.iter_mut().zip(qb).for_each(|(y, &q)| *y = q);
            }
            Weights::Q15 { scale, w: qw, b: qb, .. } => {
                w.iter_mut().zip(qw).for_each(|(y, &q)| *y = f32::from(q) * scale);
                let u = unit(scale);
                b.iter_mut().zip(qb).for_each(|(y, &q)| *y = q as f32 * u);
            }
            Weights::I8 { scales, w: qw, b: qb } => {
                let rows = w.chunks_mut(self.fan_in.max(1)).zip(qw.chunks(self.fan_in.max(1)));
                for ((row, q), &s) in rows.zip(scales) {
                    row.iter_mut().zip(q).for_each(|(y, &q)| *y = f32::from(q) * s);
                }
                for ((y, &q), &s) in b.iter_mut().zip(qb).zip(scales) {
                    *y = q as f32 * unit(s);
                }
            }
        }
        Ok(())
    }
}
