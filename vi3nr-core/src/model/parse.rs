//! The checked, zero-copy parser.

use super::offset::{entry, header};
use super::{
    ActCode, Field, HEADER_BYTES, LAYER_BYTES, LayerFault, MAGIC, MAX_LAYERS, MAX_WIDTH,
    ModelError, NumberFormat, VERSION, block_bytes, crc32, header_bytes, layer_format,
};
use crate::Act;
use crate::eval::fixed::qformat::{BIAS_LIMIT, arg_scale, layer_q, row_unit};
use crate::eval::fixed::{FixedAct, Requant, Rescale};
use half::f16;

/// A layer's weights and biases, borrowed from the model bytes. Weights are row-major,
/// `fan_out` rows of `fan_in`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Weights<'a> {
    /// f32 weights and biases.
    F32 {
        /// Weights.
        w: &'a [f32],
        /// Biases.
        b: &'a [f32],
    },
    /// f16 weights, f32 biases (every layer of an f16 model but the first, which is
    /// [`Weights::F32`]).
    F16 {
        /// Weights.
        w: &'a [f16],
        /// Biases.
        b: &'a [f32],
    },
    /// i16 weights `w_real = w · scale`; biases in accumulator units.
    Q15 {
        /// The layer's weight scale.
        scale: f32,
        /// Weights.
        w: &'a [i16],
        /// Biases, in units of the shifted accumulator.
        b: &'a [i32],
        /// Accumulator → activation argument, derived from `scale` at parse time.
        requant: Requant,
    },
    /// i8 weights `w_real = w · scales[row]`; biases in accumulator units of their row.
    I8 {
        /// One scale per output row.
        scales: &'a [f32],
        /// Weights.
        w: &'a [i8],
        /// Biases, in units of the shifted accumulator of their row.
        b: &'a [i32],
    },
}

/// One weight matrix and the activation applied to its outputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Layer<'a> {
    /// Inputs.
    pub fan_in: usize,
    /// Outputs.
    pub fan_out: usize,
    /// Activation on the outputs; `None` is the identity (the output layer).
    pub act: Option<Act>,
    /// Weights and biases.
    pub weights: Weights<'a>,
    /// i8: `row_unit` of the layer (see [`crate::eval::parts::row_unit`]), computed once here
    /// (0 for other formats).
    pub(crate) row_unit: f32,
    /// q15: the layer's `requant` in the evaluator's form, split once here (the split divides,
    /// which a Cortex-M0 does in software); zero for other formats.
    pub(crate) rescale: Rescale,
    /// Fractional bits of the layer's fixed-point inputs (`layer_q`; ≤ 14, a u8 so that the
    /// two fit the struct's padding).
    pub(crate) in_frac: u8,
    /// The fixed-point accumulator's shift `s` (`layer_q`; ≤ 12); one accumulator unit is
    /// worth `scale · 2^(s − in_frac)`.
    pub(crate) acc_shift: u8,
}

/// A parsed model: header fields and views into the file's bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Model<'a> {
    /// Number format of the model (an f16 model's first layer is f32, see [`NumberFormat::F16`]).
    pub format: NumberFormat,
    /// Coordinate dimension (before any encoding).
    pub in_dim: usize,
    /// Output dimension.
    pub out_dim: usize,
    /// Fourier frequencies, `n_freq` rows of `in_dim` (in cycles per unit); empty for raw input.
    pub fourier: &'a [f32],
    /// Output affine map, `(scale, offset)` per output: `y = scale · net + offset`.
    pub affine: &'a [[f32; 2]],
    /// The weight matrices, input first.
    pub layers: heapless::Vec<Layer<'a>, MAX_LAYERS>,
    /// The file's CRC-32.
    pub crc: u32,
    /// Total bytes of the file.
    pub file_bytes: usize,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn f32_at(b: &[u8], at: usize) -> f32 {
    f32::from_bits(u32_at(b, at))
}

/// Views `bytes` as `[T]`; the caller has checked size and 4-byte alignment of the block.
fn cast<T: bytemuck::Pod>(bytes: &[u8]) -> Result<&[T], ModelError> {
    bytemuck::try_cast_slice(bytes).map_err(|_| ModelError::Misaligned)
}

impl<'a> Model<'a> {
    /// Parses and checks a model file held in a 4-byte-aligned buffer.
    ///
    /// Checks, in order: header length, magic, version, declared length, alignment, CRC-32,
    /// then every header field, layer entry, activation parameter, the chain of widths, the
    /// Fourier frequencies and affine map (finite), and each weight block (sizes, finite
    /// values, fixed-point scales and bias ranges).
    #[inline(never)] // its frame (~2 KiB on a Cortex-M0) stays out of the caller's
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ModelError> {
        if cfg!(target_endian = "big") {
            return Err(ModelError::BigEndianHost);
        }
        if bytes.len() < HEADER_BYTES {
            return Err(ModelError::Truncated);
        }
        if bytes[header::MAGIC] != MAGIC {
            return Err(ModelError::BadMagic);
        }
        let version = u16_at(bytes, header::VERSION);
        if version != VERSION {
            return Err(ModelError::Version(version));
        }
        let declared = u32_at(bytes, header::FILE_LEN);
        let actual = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        if declared as usize != bytes.len() {
            return Err(ModelError::Length { declared, actual });
        }
        if !(bytes.as_ptr() as usize).is_multiple_of(4) {
            return Err(ModelError::Misaligned);
        }
        if !bytes.len().is_multiple_of(4) || bytes.len() < HEADER_BYTES + 4 {
            return Err(ModelError::Header(Field::FileLength));
        }
        let body = bytes.len() - 4;
        let stored = u32_at(bytes, body);
        let computed = crc32(&bytes[..body]);
        if stored != computed {
            return Err(ModelError::Crc { stored, computed });
        }
        let bad = ModelError::Header;
        let format =
            NumberFormat::from_code(bytes[header::FORMAT]).ok_or(bad(Field::NumberFormat))?;
        let fourier_encoded = match bytes[header::ENCODING] {
            0 => false,
            1 => true,
            _ => return Err(bad(Field::InputEncoding)),
        };
        let n_layers = usize::from(bytes[header::LAYERS]);
        if n_layers == 0 || n_layers > MAX_LAYERS {
            return Err(bad(Field::LayerCount));
        }
        let in_dim = usize::from(u16_at(bytes, header::IN_DIM));
        let n_freq = usize::from(u16_at(bytes, header::N_FREQ));
        if in_dim == 0 {
            return Err(bad(Field::InputDim));
        }
        if fourier_encoded != (n_freq > 0) {
            return Err(bad(Field::FourierCount));
        }
        if bytes[header::RESERVED_U8] != 0
            || u16_at(bytes, header::RESERVED_U16) != 0
            || bytes[header::RESERVED].iter().any(|&b| b != 0)
        {
            return Err(bad(Field::Reserved));
        }
        let param_count = u32_at(bytes, header::PARAMS) as usize;

        // Layer table.
        let mut entries = [(0usize, 0usize, None::<Act>); MAX_LAYERS];
        let mut count = 0usize;
        for (i, entry) in entries.iter_mut().enumerate().take(n_layers) {
            let at = HEADER_BYTES + i * LAYER_BYTES;
            let index = i as u8;
            let e =
                bytes.get(at..at + LAYER_BYTES).ok_or(ModelError::Header(Field::TableTruncated))?;
            let (fan_in, fan_out) =
                (usize::from(u16_at(e, entry::FAN_IN)), usize::from(u16_at(e, entry::FAN_OUT)));
            let layer = |what| ModelError::Layer { index, what };
            if fan_in == 0 || fan_out == 0 || fan_in > MAX_WIDTH || fan_out > MAX_WIDTH {
                return Err(layer(LayerFault::Width));
            }
            if e[entry::RESERVED].iter().any(|&b| b != 0) {
                return Err(layer(LayerFault::Reserved));
            }
            let code = ActCode::from_u8(e[entry::ACT]).ok_or(layer(LayerFault::ActivationCode))?;
            let act = code.act(f32_at(e, entry::P0), f32_at(e, entry::P1)).map_err(layer)?;
            count = count
                .checked_add(fan_out.checked_mul(fan_in + 1).ok_or(ModelError::TooLarge)?)
                .ok_or(ModelError::TooLarge)?;
            *entry = (fan_in, fan_out, act);
        }
        let entries = &entries[..n_layers];
        let first_in = if fourier_encoded { 2 * n_freq } else { in_dim };
        if entries[0].0 != first_in {
            return Err(ModelError::Layer { index: 0, what: LayerFault::FanIn });
        }
        for (i, pair) in entries.windows(2).enumerate() {
            if pair[0].1 != pair[1].0 {
                return Err(ModelError::Layer { index: i as u8 + 1, what: LayerFault::FanIn });
            }
        }
        if count != param_count {
            return Err(bad(Field::ParamCount));
        }
        let out_dim = entries[n_layers - 1].1;

        // Frequencies and affine map.
        let table_end = HEADER_BYTES + n_layers * LAYER_BYTES;
        let freq_bytes = n_freq
            .checked_mul(in_dim)
            .and_then(|n| n.checked_mul(4))
            .ok_or(ModelError::TooLarge)?;
        let affine_at = table_end + freq_bytes;
        let payload_at =
            header_bytes(n_layers, in_dim, n_freq, out_dim).ok_or(ModelError::TooLarge)?;
        let region = bytes.get(table_end..payload_at).ok_or(bad(Field::TableTruncated))?;
        let fourier: &[f32] = cast(&region[..freq_bytes])?;
        let affine: &[[f32; 2]] = cast(&region[freq_bytes..freq_bytes + out_dim * 8])?;
        if !fourier.iter().all(|x| x.is_finite()) {
            return Err(bad(Field::Fourier));
        }
        if !affine.iter().flatten().all(|x| x.is_finite()) {
            return Err(bad(Field::Affine));
        }
        if region[affine_at - table_end + out_dim * 8..].iter().any(|&b| b != 0) {
            return Err(bad(Field::Padding));
        }

        // Weight blocks.
        let mut layers = heapless::Vec::new();
        let mut at = payload_at;
        for (i, &(fan_in, fan_out, act)) in entries.iter().enumerate() {
            let index = i as u8;
            let layer = |what| ModelError::Layer { index, what };
            let size = block_bytes(format, i, fan_in, fan_out).ok_or(ModelError::TooLarge)?;
            let end = at.checked_add(size).ok_or(ModelError::TooLarge)?;
            let block = bytes
                .get(at..end)
                .filter(|_| end <= body)
                .ok_or(layer(LayerFault::BlockTruncated))?;
            let prev = i.checked_sub(1).and_then(|p| entries.get(p)).map(|e| e.2);
            let (in_frac, acc_shift) = layer_q(format, fan_in, prev);
            let lf = layer_format(format, i);
            let weights = weights(lf, block, fan_in, fan_out, act, (in_frac, acc_shift), index)?;
            let row_unit = match format {
                NumberFormat::I8 => row_unit(act, acc_shift, in_frac),
                _ => 0.0,
            };
            let rescale = match weights {
                Weights::Q15 { requant, .. } => requant.rescale(),
                _ => Rescale::ZERO,
            };
            let (in_frac, acc_shift) = (in_frac as u8, acc_shift as u8);
            let _ = layers.push(Layer {
                fan_in,
                fan_out,
                act,
                weights,
                row_unit,
                rescale,
                in_frac,
                acc_shift,
            });
            at = end;
        }
        if at != body {
            return Err(bad(Field::PayloadLength));
        }
        Ok(Model {
            format,
            in_dim,
            out_dim,
            fourier,
            affine,
            layers,
            crc: stored,
            file_bytes: bytes.len(),
        })
    }

    /// Number of weights and biases.
    pub fn parameter_count(&self) -> usize {
        self.layers.iter().map(|l| l.fan_out * (l.fan_in + 1)).sum()
    }

    /// The widest layer (input, hidden or output): the evaluators' scratch holds two of these.
    pub fn max_width(&self) -> usize {
        self.layers.iter().map(|l| l.fan_in.max(l.fan_out)).max().unwrap_or(0)
    }

    /// Number of Fourier frequencies (0 for raw coordinates).
    pub fn n_freq(&self) -> usize {
        self.fourier.len() / self.in_dim.max(1)
    }
}

/// Views and checks one weight block of layer `index`, whose fixed-point inputs have `in_frac`
/// fractional bits and accumulator shift `shift` (`q`).
fn weights<'a>(
    format: NumberFormat,
    block: &'a [u8],
    fan_in: usize,
    fan_out: usize,
    act: Option<Act>,
    q: (u32, u32),
    index: u8,
) -> Result<Weights<'a>, ModelError> {
    let (in_frac, shift) = q;
    let bad = |what| ModelError::Layer { index, what };
    let n = fan_in * fan_out;
    if matches!(format, NumberFormat::Q15 | NumberFormat::I8) && FixedAct::new(act).is_none() {
        return Err(bad(LayerFault::FixedActivation));
    }
    // The block's size is `block_bytes`: every range below lies inside it.
    let tail = |len: usize| block.len().checked_sub(len).ok_or(bad(LayerFault::BlockTruncated));
    Ok(match format {
        NumberFormat::F32 => {
            let all: &[f32] = cast(block)?;
            let (w, b) = (all.get(..n), all.get(n..n + fan_out));
            let (Some(w), Some(b)) = (w, b) else { return Err(bad(LayerFault::BlockTruncated)) };
            if !all.iter().all(|x| x.is_finite()) {
                return Err(bad(LayerFault::NotFinite));
            }
            Weights::F32 { w, b }
        }
        NumberFormat::F16 => {
            let b_at = tail(fan_out * 4)?;
            let all: &[f16] = cast(&block[..b_at])?;
            let (w, pad) = all.split_at_checked(n).ok_or(bad(LayerFault::BlockTruncated))?;
            let b: &[f32] = cast(&block[b_at..])?;
            if !w.iter().all(|x| x.is_finite()) || !b.iter().all(|x| x.is_finite()) {
                return Err(bad(LayerFault::NotFinite));
            }
            if pad.iter().any(|x| x.to_bits() != 0) {
                return Err(bad(LayerFault::Padding));
            }
            Weights::F16 { w, b }
        }
        NumberFormat::Q15 => {
            let b_at = tail(fan_out * 4)?;
            let (head, rest) = block.split_at_checked(4).ok_or(bad(LayerFault::BlockTruncated))?;
            let scale = f32::from_le_bytes([head[0], head[1], head[2], head[3]]);
            if !(scale.is_finite() && scale > 0.0) {
                return Err(bad(LayerFault::Scale));
            }
            let w_bytes = n * 2;
            let w: &[i16] = cast(rest.get(..w_bytes).ok_or(bad(LayerFault::BlockTruncated))?)?;
            if w.contains(&i16::MIN) {
                return Err(bad(LayerFault::Q15Min));
            }
            let pad = block.get(4 + w_bytes..b_at).ok_or(bad(LayerFault::BlockTruncated))?;
            if pad.iter().any(|&b| b != 0) {
                return Err(bad(LayerFault::Padding));
            }
            let b: &[i32] = cast(&block[b_at..])?;
            if b.iter().any(|&v| v.unsigned_abs() > BIAS_LIMIT) {
                return Err(bad(LayerFault::Bias));
            }
            let requant = Requant::new(arg_scale(act, f64::from(scale), shift, in_frac))
                .ok_or(bad(LayerFault::ScaleRange))?;
            Weights::Q15 { scale, w, b, requant }
        }
        NumberFormat::I8 => {
            let b_at = tail(fan_out * 4)?;
            let s_bytes = fan_out * 4;
            let scales: &[f32] =
                cast(block.get(..s_bytes).ok_or(bad(LayerFault::BlockTruncated))?)?;
            if !scales.iter().all(|s| s.is_finite() && *s > 0.0) {
                return Err(bad(LayerFault::Scale));
            }
            let w: &[i8] =
                cast(block.get(s_bytes..s_bytes + n).ok_or(bad(LayerFault::BlockTruncated))?)?;
            let pad = block.get(s_bytes + n..b_at).ok_or(bad(LayerFault::BlockTruncated))?;
            if pad.iter().any(|&b| b != 0) {
                return Err(bad(LayerFault::Padding));
            }
            let b: &[i32] = cast(&block[b_at..])?;
            if b.iter().any(|&v| v.unsigned_abs() > BIAS_LIMIT) {
                return Err(bad(LayerFault::Bias));
            }
            let unit = row_unit(act, shift, in_frac);
            for &s in scales {
                Requant::from_f32(s * unit).ok_or(bad(LayerFault::ScaleRange))?;
            }
            Weights::I8 { scales, w, b }
        }
    })
}
