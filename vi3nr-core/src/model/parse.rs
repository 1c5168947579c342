//! The checked, zero-copy parser.

use super::{
    HEADER_BYTES, LAYER_BYTES, MAGIC, MAX_LAYERS, MAX_WIDTH, ModelError, NumberFormat, VERSION,
    act_from_code, block_bytes, crc32, header_bytes, layer_format,
};
use crate::Act;
use crate::fixed::{self, Requant};
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
    /// i8: [`fixed::row_unit`] of the layer, computed once here (0 for other formats).
    pub(crate) row_unit: f32,
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
fn cast<T: bytemuck::Pod>(bytes: &[u8]) -> Result<&[T], &'static str> {
    bytemuck::try_cast_slice(bytes).map_err(|_| "weight block misaligned")
}

impl<'a> Model<'a> {
    /// Parses and checks a model file held in a 4-byte-aligned buffer.
    ///
    /// Checks, in order: header length, magic, version, declared length, alignment, CRC-32,
    /// then every header field, layer entry, activation parameter, the chain of widths, the
    /// Fourier frequencies and affine map (finite), and each weight block (sizes, finite
    /// values, fixed-point scales and bias ranges).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ModelError> {
        if cfg!(target_endian = "big") {
            return Err(ModelError::Header("big-endian hosts cannot read weights in place"));
        }
        if bytes.len() < HEADER_BYTES {
            return Err(ModelError::Truncated);
        }
        if bytes[..4] != MAGIC {
            return Err(ModelError::BadMagic);
        }
        let version = u16_at(bytes, 4);
        if version != VERSION {
            return Err(ModelError::Version(version));
        }
        let declared = u32_at(bytes, 8);
        let actual = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        if declared as usize != bytes.len() {
            return Err(ModelError::Length { declared, actual });
        }
        if !(bytes.as_ptr() as usize).is_multiple_of(4) {
            return Err(ModelError::Misaligned);
        }
        if !bytes.len().is_multiple_of(4) || bytes.len() < HEADER_BYTES + 4 {
            return Err(ModelError::Header("file length not a multiple of 4"));
        }
        let body = bytes.len() - 4;
        let stored = u32_at(bytes, body);
        let computed = crc32(&bytes[..body]);
        if stored != computed {
            return Err(ModelError::Crc { stored, computed });
        }
        let header = |what| ModelError::Header(what);
        let format = NumberFormat::from_code(bytes[12]).ok_or(header("number format"))?;
        let fourier_encoded = match bytes[13] {
            0 => false,
            1 => true,
            _ => return Err(header("input encoding")),
        };
        let n_layers = usize::from(bytes[14]);
        if n_layers == 0 || n_layers > MAX_LAYERS {
            return Err(header("layer count"));
        }
        let in_dim = usize::from(u16_at(bytes, 16));
        let n_freq = usize::from(u16_at(bytes, 18));
        if in_dim == 0 {
            return Err(header("input dimension is 0"));
        }
        if fourier_encoded != (n_freq > 0) {
            return Err(header("Fourier frequency count disagrees with the encoding"));
        }
        if bytes[15] != 0 || u16_at(bytes, 6) != 0 || bytes[24..32].iter().any(|&b| b != 0) {
            return Err(header("reserved bytes are not 0"));
        }
        let param_count = u32_at(bytes, 20) as usize;

        // Layer table.
        let mut entries = [(0usize, 0usize, None::<Act>); MAX_LAYERS];
        let mut count = 0usize;
        for (i, entry) in entries.iter_mut().enumerate().take(n_layers) {
            let at = HEADER_BYTES + i * LAYER_BYTES;
            let index = i as u8;
            let e = bytes
                .get(at..at + LAYER_BYTES)
                .ok_or(ModelError::Layer { index, what: "table truncated" })?;
            let (fan_in, fan_out) = (usize::from(u16_at(e, 0)), usize::from(u16_at(e, 2)));
            let layer = |what| ModelError::Layer { index, what };
            if fan_in == 0 || fan_out == 0 || fan_in > MAX_WIDTH || fan_out > MAX_WIDTH {
                return Err(layer("width is 0 or above the maximum"));
            }
            if e[5..8].iter().any(|&b| b != 0) {
                return Err(layer("reserved bytes are not 0"));
            }
            let act = act_from_code(e[4], f32_at(e, 8), f32_at(e, 12)).map_err(layer)?;
            count = count
                .checked_add(fan_out.checked_mul(fan_in + 1).ok_or(layer("too large"))?)
                .ok_or(layer("too large"))?;
            *entry = (fan_in, fan_out, act);
        }
        let entries = &entries[..n_layers];
        let first_in = if fourier_encoded { 2 * n_freq } else { in_dim };
        if entries[0].0 != first_in {
            return Err(ModelError::Layer {
                index: 0,
                what: "fan-in differs from the (encoded) input dimension",
            });
        }
        for (i, pair) in entries.windows(2).enumerate() {
            if pair[0].1 != pair[1].0 {
                return Err(ModelError::Layer {
                    index: i as u8 + 1,
                    what: "fan-in differs from the previous fan-out",
                });
            }
        }
        if count != param_count {
            return Err(header("parameter count disagrees with the layer table"));
        }
        let out_dim = entries[n_layers - 1].1;

        // Frequencies and affine map.
        let table_end = HEADER_BYTES + n_layers * LAYER_BYTES;
        let freq_bytes =
            n_freq.checked_mul(in_dim).and_then(|n| n.checked_mul(4)).ok_or(header("too large"))?;
        let affine_at = table_end + freq_bytes;
        let payload_at =
            header_bytes(n_layers, in_dim, n_freq, out_dim).ok_or(header("too large"))?;
        let region = bytes.get(table_end..payload_at).ok_or(header("header region truncated"))?;
        let fourier: &[f32] = cast(&region[..freq_bytes]).map_err(header)?;
        let affine: &[[f32; 2]] =
            cast(&region[freq_bytes..freq_bytes + out_dim * 8]).map_err(header)?;
        if !fourier.iter().all(|x| x.is_finite()) {
            return Err(header("Fourier frequency not finite"));
        }
        if !affine.iter().flatten().all(|x| x.is_finite()) {
            return Err(header("output affine map not finite"));
        }
        if region[affine_at - table_end + out_dim * 8..].iter().any(|&b| b != 0) {
            return Err(header("header padding is not 0"));
        }

        // Weight blocks.
        let mut layers = heapless::Vec::new();
        let mut at = payload_at;
        for (i, &(fan_in, fan_out, act)) in entries.iter().enumerate() {
            let index = i as u8;
            let layer = |what| ModelError::Layer { index, what };
            let size = block_bytes(format, i, fan_in, fan_out).ok_or(layer("too large"))?;
            let end = at.checked_add(size).ok_or(layer("too large"))?;
            let block = bytes
                .get(at..end)
                .filter(|_| end <= body)
                .ok_or(layer("weight block truncated"))?;
            let in_frac =
                if i == 0 { fixed::INPUT_FRAC } else { fixed::out_frac(entries[i - 1].2) };
            let weights = weights(layer_format(format, i), block, fan_in, fan_out, act, in_frac)
                .map_err(layer)?;
            let row_unit = match format {
                NumberFormat::I8 => fixed::row_unit(act, fixed::acc_shift(format, fan_in), in_frac),
                _ => 0.0,
            };
            let _ = layers.push(Layer { fan_in, fan_out, act, weights, row_unit });
            at = end;
        }
        if at != body {
            return Err(header("file length disagrees with the layer table"));
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

/// Views and checks one weight block.
fn weights<'a>(
    format: NumberFormat,
    block: &'a [u8],
    fan_in: usize,
    fan_out: usize,
    act: Option<Act>,
    in_frac: u32,
) -> Result<Weights<'a>, &'static str> {
    let n = fan_in * fan_out;
    if matches!(format, NumberFormat::Q15 | NumberFormat::I8) && fixed::FixedAct::new(act).is_none()
    {
        return Err("activation constants out of the fixed-point range");
    }
    Ok(match format {
        NumberFormat::F32 => {
            let all: &[f32] = cast(block)?;
            if !all.iter().all(|x| x.is_finite()) {
                return Err("weight or bias not finite");
            }
            Weights::F32 { w: &all[..n], b: &all[n..n + fan_out] }
        }
        NumberFormat::F16 => {
            let b_at = block.len() - fan_out * 4;
            let all: &[f16] = cast(&block[..b_at])?;
            let (w, pad) = all.split_at(n);
            let b: &[f32] = cast(&block[b_at..])?;
            if !w.iter().all(|x| x.is_finite()) || !b.iter().all(|x| x.is_finite()) {
                return Err("weight or bias not finite");
            }
            if pad.iter().any(|x| x.to_bits() != 0) {
                return Err("padding is not 0");
            }
            Weights::F16 { w, b }
        }
        NumberFormat::Q15 => {
            let scale = f32::from_le_bytes([block[0], block[1], block[2], block[3]]);
            if !(scale.is_finite() && scale > 0.0) {
                return Err("weight scale not finite and > 0");
            }
            let w_bytes = n * 2;
            let w: &[i16] = cast(&block[4..4 + w_bytes])?;
            if w.contains(&i16::MIN) {
                return Err("q15 weight −32768 (the format is symmetric: ±32767)");
            }
            let pad = &block[4 + w_bytes..block.len() - fan_out * 4];
            if pad.iter().any(|&b| b != 0) {
                return Err("padding is not 0");
            }
            let b: &[i32] = cast(&block[block.len() - fan_out * 4..])?;
            if b.iter().any(|&v| v.unsigned_abs() > fixed::BIAS_LIMIT) {
                return Err("bias outside the accumulator range");
            }
            let shift = fixed::acc_shift(NumberFormat::Q15, fan_in);
            let requant = Requant::new(fixed::arg_scale(act, f64::from(scale), shift, in_frac))
                .ok_or("weight scale out of the fixed-point range")?;
            Weights::Q15 { scale, w, b, requant }
        }
        NumberFormat::I8 => {
            let scales: &[f32] = cast(&block[..fan_out * 4])?;
            if !scales.iter().all(|s| s.is_finite() && *s > 0.0) {
                return Err("row scale not finite and > 0");
            }
            let w: &[i8] = cast(&block[fan_out * 4..fan_out * 4 + n])?;
            let b_at = block.len() - fan_out * 4;
            if block[fan_out * 4 + n..b_at].iter().any(|&b| b != 0) {
                return Err("padding is not 0");
            }
            let b: &[i32] = cast(&block[b_at..])?;
            if b.iter().any(|&v| v.unsigned_abs() > fixed::BIAS_LIMIT) {
                return Err("bias outside the accumulator range");
            }
            let shift = fixed::acc_shift(NumberFormat::I8, fan_in);
            let unit = fixed::row_unit(act, shift, in_frac);
            for &s in scales {
                Requant::from_f32(s * unit).ok_or("row scale out of the fixed-point range")?;
            }
            Weights::I8 { scales, w, b }
        }
    })
}
