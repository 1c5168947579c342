//! The writer: checks a model description and encodes it into a caller's buffer.

use super::{
    HEADER_BYTES, LAYER_BYTES, MAGIC, MAX_LAYERS, MAX_WIDTH, ModelError, NumberFormat, VERSION,
    act_code, block_bytes, crc32, header_bytes, layer_format,
};
use crate::Act;
use crate::fixed::{self, Requant};
use half::f16;

/// One weight matrix to write.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerSpec<'a> {
    /// Inputs.
    pub fan_in: usize,
    /// Outputs.
    pub fan_out: usize,
    /// Activation on the outputs (`None`: identity).
    pub act: Option<Act>,
    /// Weights, row-major: `fan_out` rows of `fan_in` (PyTorch's `nn.Linear` layout).
    pub weights: &'a [f32],
    /// Biases, `fan_out` of them.
    pub bias: &'a [f32],
}

/// A model to write.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelSpec<'a> {
    /// Number format of the weights.
    pub format: NumberFormat,
    /// Coordinate dimension.
    pub in_dim: usize,
    /// Fourier frequencies, `n_freq` rows of `in_dim` in cycles per unit; empty for raw input.
    /// Features are `sin(2π f·x)` for every row, then `cos(2π f·x)`.
    pub fourier: &'a [f32],
    /// `(scale, offset)` per output.
    pub affine: &'a [[f32; 2]],
    /// The weight matrices, input first.
    pub layers: &'a [LayerSpec<'a>],
}

fn check(spec: &ModelSpec<'_>) -> Result<usize, ModelError> {
    let header = |what| ModelError::Header(what);
    let layers = spec.layers;
    if layers.is_empty() || layers.len() > MAX_LAYERS {
        return Err(header("layer count"));
    }
    if spec.in_dim == 0 || spec.in_dim > usize::from(u16::MAX) {
        return Err(header("input dimension"));
    }
    if !spec.fourier.len().is_multiple_of(spec.in_dim)
        || spec.fourier.len() / spec.in_dim > usize::from(u16::MAX)
    {
        return Err(header("Fourier frequencies are not n_freq rows of in_dim"));
    }
    if !spec.fourier.iter().chain(spec.affine.iter().flatten()).all(|x| x.is_finite()) {
        return Err(header("Fourier frequency or affine map not finite"));
    }
    let n_freq = spec.fourier.len() / spec.in_dim;
    let mut expected_in = if n_freq > 0 { 2 * n_freq } else { spec.in_dim };
    let mut total = 0usize;
    for (i, l) in layers.iter().enumerate() {
        let layer = |what| ModelError::Layer { index: i as u8, what };
        if l.fan_in == 0 || l.fan_out == 0 || l.fan_in > MAX_WIDTH || l.fan_out > MAX_WIDTH {
            return Err(layer("width is 0 or above the maximum"));
        }
        if l.fan_in != expected_in {
            return Err(layer("fan-in differs from the previous fan-out (or the input)"));
        }
        if l.weights.len() != l.fan_in * l.fan_out || l.bias.len() != l.fan_out {
            return Err(layer("weights or bias length disagrees with the shape"));
        }
        if !l.weights.iter().chain(l.bias).all(|x| x.is_finite()) {
            return Err(layer("weight or bias not finite"));
        }
        if let Some(act) = l.act {
            act.validate().map_err(|_| layer("activation parameter not finite and > 0"))?;
        }
        total += block_bytes(spec.format, i, l.fan_in, l.fan_out).ok_or(layer("too large"))?;
        expected_in = l.fan_out;
    }
    if spec.affine.len() != expected_in {
        return Err(header("affine map needs one (scale, offset) per output"));
    }
    let head =
        header_bytes(layers.len(), spec.in_dim, n_freq, expected_in).ok_or(header("too large"))?;
    let len = head + total + 4;
    u32::try_from(len).map_err(|_| header("too large"))?;
    Ok(len)
}

/// Bytes [`write()`] needs for `spec`, after checking it.
pub fn encoded_len(spec: &ModelSpec<'_>) -> Result<usize, ModelError> {
    check(spec)
}

fn put(out: &mut [u8], at: usize, bytes: &[u8]) {
    out[at..at + bytes.len()].copy_from_slice(bytes);
}

/// Writes `spec` into the start of `out` and returns the number of bytes written. Weights are
/// quantised to the spec's format: f16 by rounding (all but the first layer, which stays f32);
/// q15 with one scale per layer (max |w| ↦ 32767); i8 with one scale per output row (max |w| ↦
/// 127); biases of the fixed formats in accumulator units (see [`crate::fixed`]).
///
/// ```
/// use vi3nr_core::model::{self, LayerSpec, Model, ModelSpec, NumberFormat};
/// let layer = LayerSpec { fan_in: 2, fan_out: 1, act: None, weights: &[0.5, -0.25], bias: &[0.1] };
/// let spec = ModelSpec { format: NumberFormat::F32, in_dim: 2, fourier: &[], affine: &[[1.0, 0.0]], layers: &[layer] };
/// let mut buf = [0u32; 32]; // u32 storage: 4-byte aligned
/// let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut buf);
/// let n = model::write(&spec, bytes)?;
/// let model = Model::parse(&bytes[..n])?;
/// assert_eq!(model.parameter_count(), 3);
/// # Ok::<(), vi3nr_core::model::ModelError>(())
/// ```
pub fn write(spec: &ModelSpec<'_>, out: &mut [u8]) -> Result<usize, ModelError> {
    let len = check(spec)?;
    if out.len() < len {
        return Err(ModelError::BufferTooSmall { needed: len as u32 });
    }
    let out = &mut out[..len];
    out.fill(0);
    let n_freq = spec.fourier.len() / spec.in_dim;
    let params: usize = spec.layers.iter().map(|l| l.fan_out * (l.fan_in + 1)).sum();
    put(out, 0, &MAGIC);
    put(out, 4, &VERSION.to_le_bytes());
    put(out, 8, &(len as u32).to_le_bytes());
    out[12] = spec.format as u8;
    out[13] = u8::from(n_freq > 0);
    out[14] = spec.layers.len() as u8;
    put(out, 16, &(spec.in_dim as u16).to_le_bytes());
    put(out, 18, &(n_freq as u16).to_le_bytes());
    put(out, 20, &(params as u32).to_le_bytes());
    for (i, l) in spec.layers.iter().enumerate() {
        let at = HEADER_BYTES + i * LAYER_BYTES;
        let (code, p0, p1) = act_code(l.act);
        put(out, at, &(l.fan_in as u16).to_le_bytes());
        put(out, at + 2, &(l.fan_out as u16).to_le_bytes());
        out[at + 4] = code;
        put(out, at + 8, &p0.to_le_bytes());
        put(out, at + 12, &p1.to_le_bytes());
    }
    let mut at = HEADER_BYTES + spec.layers.len() * LAYER_BYTES;
    for x in spec.fourier.iter().chain(spec.affine.iter().flatten()) {
        put(out, at, &x.to_le_bytes());
        at += 4;
    }
    let mut at = header_bytes(spec.layers.len(), spec.in_dim, n_freq, spec.affine.len())
        .ok_or(ModelError::Header("too large"))?;
    for (i, l) in spec.layers.iter().enumerate() {
        let in_frac =
            if i == 0 { fixed::INPUT_FRAC } else { fixed::out_frac(spec.layers[i - 1].act) };
        let size = block_bytes(spec.format, i, l.fan_in, l.fan_out)
            .ok_or(ModelError::Header("too large"))?;
        encode_block(layer_format(spec.format, i), l, in_frac, &mut out[at..at + size])
            .map_err(|what| ModelError::Layer { index: i as u8, what })?;
        at += size;
    }
    let crc = crc32(&out[..len - 4]);
    put(out, len - 4, &crc.to_le_bytes());
    Ok(len)
}

/// The bias of a fixed-point layer in accumulator units.
fn bias_units(b: f32, scale: f64, shift: u32, in_frac: u32) -> Result<i32, &'static str> {
    let units = libm::round(f64::from(b) / libm::ldexp(scale, shift as i32 - in_frac as i32));
    if units.abs() > f64::from(fixed::BIAS_LIMIT) {
        return Err("bias too large for the fixed-point accumulator");
    }
    Ok(units as i32)
}

/// The weight scale of a fixed-point layer or row: fine enough for the weights (`per_step`,
/// the real value of one weight step at full range) but coarse enough that the largest bias
/// fits the accumulator; rounded to the f32 the reader sees.
fn fixed_scale(per_step: f64, max_bias: f64, shift: u32, in_frac: u32) -> f64 {
    let for_bias =
        max_bias / libm::ldexp(f64::from(fixed::BIAS_LIMIT), shift as i32 - in_frac as i32);
    let scale = per_step.max(for_bias * (1.0 + 1e-6));
    let scale = if scale > 0.0 { scale } else { 1.0 / 32_768.0 };
    let mut stored = scale as f32;
    if f64::from(stored) < scale {
        stored = stored.next_up();
    }
    f64::from(stored)
}

fn max_abs(w: &[f32]) -> f64 {
    w.iter().fold(0.0f64, |m, &x| m.max(f64::from(x).abs()))
}

fn encode_block(
    format: NumberFormat,
    l: &LayerSpec<'_>,
    in_frac: u32,
    out: &mut [u8],
) -> Result<(), &'static str> {
    let n = l.fan_in * l.fan_out;
    if matches!(format, NumberFormat::Q15 | NumberFormat::I8)
        && fixed::FixedAct::new(l.act).is_none()
    {
        return Err("activation constants out of the fixed-point range");
    }
    let mut at = 0;
    let mut push = |bytes: &[u8]| {
        put(out, at, bytes);
        at += bytes.len();
    };
    match format {
        NumberFormat::F32 => l.weights.iter().chain(l.bias).for_each(|x| push(&x.to_le_bytes())),
        NumberFormat::F16 => {
            for &x in l.weights {
                let h = f16::from_f32(x);
                if !h.is_finite() {
                    return Err("weight outside the f16 range");
                }
                push(&h.to_le_bytes());
            }
            at = super::align_up(2 * n, 4).ok_or("too large")?;
            for &b in l.bias {
                put(out, at, &b.to_le_bytes());
                at += 4;
            }
        }
        NumberFormat::Q15 => {
            let shift = fixed::acc_shift(format, l.fan_in);
            let scale = fixed_scale(max_abs(l.weights) / 32_767.0, max_abs(l.bias), shift, in_frac);
            Requant::new(fixed::arg_scale(l.act, scale, shift, in_frac))
                .ok_or("weight scale out of the fixed-point range")?;
            push(&(scale as f32).to_le_bytes());
            for &w in l.weights {
                push(
                    &(libm::round(f64::from(w) / scale).clamp(-32_767.0, 32_767.0) as i16)
                        .to_le_bytes(),
                );
            }
            at = 4 + super::align_up(2 * n, 4).ok_or("too large")?;
            for &b in l.bias {
                put(out, at, &bias_units(b, scale, shift, in_frac)?.to_le_bytes());
                at += 4;
            }
        }
        NumberFormat::I8 => {
            let shift = fixed::acc_shift(format, l.fan_in);
            let rows = || l.weights.chunks(l.fan_in);
            let scales = || {
                rows().zip(l.bias).map(|(row, &b)| {
                    fixed_scale(max_abs(row) / 127.0, f64::from(b).abs(), shift, in_frac)
                })
            };
            let unit = fixed::row_unit(l.act, shift, in_frac);
            for s in scales() {
                Requant::from_f32(s as f32 * unit)
                    .ok_or("row scale out of the fixed-point range")?;
                push(&(s as f32).to_le_bytes());
            }
            for (row, s) in rows().zip(scales()) {
                for &w in row {
                    push(&[libm::round(f64::from(w) / s).clamp(-127.0, 127.0) as i8 as u8]);
                }
            }
            at = 4 * l.fan_out + super::align_up(n, 4).ok_or("too large")?;
            for (s, &b) in scales().zip(l.bias) {
                put(out, at, &bias_units(b, s, shift, in_frac)?.to_le_bytes());
                at += 4;
            }
        }
    }
    Ok(())
}
