//! The writer: checks a model description and encodes it into a caller's buffer.

use super::offset::{entry, header};
use super::{
    ActCode, Field, HEADER_BYTES, LAYER_BYTES, LayerFault, MAGIC, MAX_LAYERS, MAX_WIDTH,
    ModelError, NumberFormat, VERSION, block_bytes, crc32, header_bytes, layer_format,
};
use crate::Act;
use crate::eval::fixed::qformat::{BIAS_LIMIT, arg_scale, layer_q, row_unit};
use crate::eval::fixed::{FixedAct, Requant};
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
    let bad = ModelError::Header;
    let layers = spec.layers;
    if layers.is_empty() || layers.len() > MAX_LAYERS {
        return Err(bad(Field::LayerCount));
    }
    if spec.in_dim == 0 || spec.in_dim > usize::from(u16::MAX) {
        return Err(bad(Field::InputDim));
    }
    if !spec.fourier.len().is_multiple_of(spec.in_dim)
        || spec.fourier.len() / spec.in_dim > usize::from(u16::MAX)
    {
        return Err(bad(Field::FourierCount));
    }
    if !spec.fourier.iter().all(|x| x.is_finite()) {
        return Err(bad(Field::Fourier));
    }
    if !spec.affine.iter().flatten().all(|x| x.is_finite()) {
        return Err(bad(Field::Affine));
    }
    let n_freq = spec.fourier.len() / spec.in_dim;
    let mut expected_in = if n_freq > 0 { 2 * n_freq } else { spec.in_dim };
    let mut total = 0usize;
    for (i, l) in layers.iter().enumerate() {
        let layer = |what| ModelError::Layer { index: i as u8, what };
        if l.fan_in == 0 || l.fan_out == 0 || l.fan_in > MAX_WIDTH || l.fan_out > MAX_WIDTH {
            return Err(layer(LayerFault::Width));
        }
        if l.fan_in != expected_in {
            return Err(layer(LayerFault::FanIn));
        }
        if l.weights.len() != l.fan_in * l.fan_out || l.bias.len() != l.fan_out {
            return Err(layer(LayerFault::Shape));
        }
        if !l.weights.iter().chain(l.bias).all(|x| x.is_finite()) {
            return Err(layer(LayerFault::NotFinite));
        }
        if let Some(act) = l.act {
            act.validate().map_err(|_| layer(LayerFault::ActivationParam))?;
        }
        let size = block_bytes(spec.format, i, l.fan_in, l.fan_out).ok_or(ModelError::TooLarge)?;
        total = total.checked_add(size).ok_or(ModelError::TooLarge)?;
        expected_in = l.fan_out;
    }
    if spec.affine.len() != expected_in {
        return Err(bad(Field::AffineCount));
    }
    let head =
        header_bytes(layers.len(), spec.in_dim, n_freq, expected_in).ok_or(ModelError::TooLarge)?;
    let len = head.checked_add(total).and_then(|n| n.checked_add(4)).ok_or(ModelError::TooLarge)?;
    u32::try_from(len).map_err(|_| ModelError::TooLarge)?;
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
/// 127); biases of the fixed formats in accumulator units (FORMAT.md, "Fixed-point
/// conventions").
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
    put(out, header::MAGIC.start, &MAGIC);
    put(out, header::VERSION, &VERSION.to_le_bytes());
    put(out, header::FILE_LEN, &(len as u32).to_le_bytes());
    out[header::FORMAT] = spec.format as u8;
    out[header::ENCODING] = u8::from(n_freq > 0);
    out[header::LAYERS] = spec.layers.len() as u8;
    put(out, header::IN_DIM, &(spec.in_dim as u16).to_le_bytes());
    put(out, header::N_FREQ, &(n_freq as u16).to_le_bytes());
    put(out, header::PARAMS, &(params as u32).to_le_bytes());
    for (i, l) in spec.layers.iter().enumerate() {
        let at = HEADER_BYTES + i * LAYER_BYTES;
        let (code, p0, p1) = ActCode::of(l.act);
        put(out, at + entry::FAN_IN, &(l.fan_in as u16).to_le_bytes());
        put(out, at + entry::FAN_OUT, &(l.fan_out as u16).to_le_bytes());
        out[at + entry::ACT] = code as u8;
        put(out, at + entry::P0, &p0.to_le_bytes());
        put(out, at + entry::P1, &p1.to_le_bytes());
    }
    let mut at = HEADER_BYTES + spec.layers.len() * LAYER_BYTES;
    for x in spec.fourier.iter().chain(spec.affine.iter().flatten()) {
        put(out, at, &x.to_le_bytes());
        at += 4;
    }
    let mut at = header_bytes(spec.layers.len(), spec.in_dim, n_freq, spec.affine.len())
        .ok_or(ModelError::TooLarge)?;
    for (i, l) in spec.layers.iter().enumerate() {
        let prev = i.checked_sub(1).and_then(|p| spec.layers.get(p)).map(|p| p.act);
        let q = layer_q(spec.format, l.fan_in, prev);
        let size = block_bytes(spec.format, i, l.fan_in, l.fan_out).ok_or(ModelError::TooLarge)?;
        encode_block(layer_format(spec.format, i), l, q, &mut out[at..at + size])
            .map_err(|what| ModelError::Layer { index: i as u8, what })?;
        at += size;
    }
    let crc = crc32(&out[..len - 4]);
    put(out, len - 4, &crc.to_le_bytes());
    Ok(len)
}

/// The bias of a fixed-point layer in accumulator units.
fn bias_units(b: f32, scale: f64, shift: u32, in_frac: u32) -> Result<i32, LayerFault> {
    let units = libm::round(f64::from(b) / libm::ldexp(scale, shift as i32 - in_frac as i32));
    if units.abs() > f64::from(BIAS_LIMIT) {
        return Err(LayerFault::Bias);
    }
    Ok(units as i32)
}

/// The weight scale of a fixed-point layer or row: fine enough for the weights (`per_step`,
/// the real value of one weight step at full range) but coarse enough that the largest bias
/// fits the accumulator; rounded to the f32 the reader sees.
fn fixed_scale(per_step: f64, max_bias: f64, shift: u32, in_frac: u32) -> f64 {
    let for_bias = max_bias / libm::ldexp(f64::from(BIAS_LIMIT), shift as i32 - in_frac as i32);
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

/// Encodes one layer's block; `q` is its fixed-point `(in_frac, shift)` (`layer_q`).
fn encode_block(
    format: NumberFormat,
    l: &LayerSpec<'_>,
    q: (u32, u32),
    out: &mut [u8],
) -> Result<(), LayerFault> {
    let (in_frac, shift) = q;
    let n = l.fan_in * l.fan_out;
    if matches!(format, NumberFormat::Q15 | NumberFormat::I8) && FixedAct::new(l.act).is_none() {
        return Err(LayerFault::FixedActivation);
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
                    return Err(LayerFault::F16Range);
                }
                push(&h.to_le_bytes());
            }
            at = super::align_up(2 * n, 4).ok_or(LayerFault::Shape)?;
            for &b in l.bias {
                put(out, at, &b.to_le_bytes());
                at += 4;
            }
        }
        NumberFormat::Q15 => {
            let scale = fixed_scale(max_abs(l.weights) / 32_767.0, max_abs(l.bias), shift, in_frac);
            Requant::new(arg_scale(l.act, scale, shift, in_frac)).ok_or(LayerFault::ScaleRange)?;
            push(&(scale as f32).to_le_bytes());
            for &w in l.weights {
                push(
                    &(libm::round(f64::from(w) / scale).clamp(-32_767.0, 32_767.0) as i16)
                        .to_le_bytes(),
                );
            }
            at = 4 + super::align_up(2 * n, 4).ok_or(LayerFault::Shape)?;
            for &b in l.bias {
                put(out, at, &bias_units(b, scale, shift, in_frac)?.to_le_bytes());
                at += 4;
            }
        }
        NumberFormat::I8 => {
            let rows = || l.weights.chunks(l.fan_in);
            let scales = || {
                rows().zip(l.bias).map(|(row, &b)| {
                    fixed_scale(max_abs(row) / 127.0, f64::from(b).abs(), shift, in_frac)
                })
            };
            let unit = row_unit(l.act, shift, in_frac);
            for s in scales() {
                Requant::from_f32(s as f32 * unit).ok_or(LayerFault::ScaleRange)?;
                push(&(s as f32).to_le_bytes());
            }
            for (row, s) in rows().zip(scales()) {
                for &w in row {
                    push(&[libm::round(f64::from(w) / s).clamp(-127.0, 127.0) as i8 as u8]);
                }
            }
            at = 4 * l.fan_out + super::align_up(n, 4).ok_or(LayerFault::Shape)?;
            for (s, &b) in scales().zip(l.bias) {
                put(out, at, &bias_units(b, s, shift, in_frac)?.to_le_bytes());
                at += 4;
            }
        }
    }
    Ok(())
}
