//! The `.vi3` model file: a checked, zero-copy container for an INR's weights.
//!
//! [`FORMAT.md`](https://example.invalid/vi3nr/FORMAT.md) in the repository is the
//! specification; in short: a 32-byte header (magic `VI3N`, version, sizes, number format,
//! input encoding, layer count), a 16-byte entry per layer (fan-in, fan-out, activation and its
//! parameters), the Fourier frequencies, the output affine map, then per-layer weight blocks in
//! one of four [`NumberFormat`]s, each 4-byte aligned, and a CRC-32 of everything before it.
//! All little-endian.
//!
//! [`Model::parse`] checks every field and borrows the weights in place: the buffer must be
//! 4-byte aligned (a `static` array wrapped in an `#[repr(align(4))]` struct, or any `Vec<u32>`
//! viewed as bytes). [`write()`] fills a caller's buffer, quantising to the chosen format;
//! [`Layer::dequantize`] turns a parsed layer's weights back into f32.
//!
//! The facts the writer and the parser share live once here: the field offsets ([`offset`]),
//! the activation codes ([`ActCode`]), the block sizes, and the fixed-point units of each
//! layer. Errors are a [`ModelError`], naming the [`Field`], [`LayerFault`] or [`Buffer`].

mod act_code;
mod crc;
mod dequantize;
mod error;
pub mod offset;
mod parse;
mod write;

pub use act_code::ActCode;
pub use crc::crc32;
pub use error::{Buffer, Field, LayerFault, ModelError};
pub use parse::{Layer, Model, Weights};
pub use write::{LayerSpec, ModelSpec, encoded_len, write};

/// File magic, the first four bytes.
pub const MAGIC: [u8; 4] = *b"VI3N";
/// The format version this crate reads and writes.
pub const VERSION: u16 = 2;
/// Bytes of the fixed header.
pub const HEADER_BYTES: usize = 32;
/// Bytes of one layer-table entry.
pub const LAYER_BYTES: usize = 16;
/// Most weight matrices a model may have.
pub const MAX_LAYERS: usize = 16;
/// Largest fan-in or fan-out (the fixed-point accumulators are sized for it).
pub const MAX_WIDTH: usize = 4096;

/// How weights and biases are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum NumberFormat {
    /// IEEE single precision.
    F32 = 1,
    /// IEEE half-precision weights with f32 biases, computed in f32 (a bias is added inside
    /// `sin(ω·(Wx + b))`, where its rounding error is multiplied by ω). The first layer keeps
    /// f32 weights as well (parsed as [`Weights::F32`]): its pre-activations can reach hundreds
    /// of radians, where f16's 11-bit mantissa becomes phase error.
    F16 = 2,
    /// i16 weights with one f32 scale per layer, i32 biases in accumulator units; evaluated in
    /// integer arithmetic (the "q15" path).
    Q15 = 3,
    /// i8 weights with one f32 scale per output row (symmetric, TFLite style), i32 biases.
    I8 = 4,
}

impl NumberFormat {
    /// All formats, in code order.
    pub const ALL: [NumberFormat; 4] =
        [NumberFormat::F32, NumberFormat::F16, NumberFormat::Q15, NumberFormat::I8];

    /// `f32`, `f16`, `q15` or `i8`.
    pub fn name(self) -> &'static str {
        match self {
            NumberFormat::F32 => "f32",
            NumberFormat::F16 => "f16",
            NumberFormat::Q15 => "q15",
            NumberFormat::I8 => "i8",
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        NumberFormat::ALL.into_iter().find(|f| *f as u8 == code)
    }
}

impl core::str::FromStr for NumberFormat {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, ModelError> {
        NumberFormat::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s))
            .ok_or(ModelError::Header(Field::NumberFormat))
    }
}

/// `n` rounded up to a multiple of `to` (a power of two), `None` on overflow.
fn align_up(n: usize, to: usize) -> Option<usize> {
    Some(n.checked_add(to - 1)? & !(to - 1))
}

/// The format layer `index`'s weight block is stored in: `format`, except that an f16 model
/// keeps its first layer in f32 (see [`NumberFormat::F16`]).
fn layer_format(format: NumberFormat, index: usize) -> NumberFormat {
    match format {
        NumberFormat::F16 if index == 0 => NumberFormat::F32,
        other => other,
    }
}

/// Bytes of layer `index`'s weight block in a `format` model, 4-byte aligned; `None` on
/// overflow.
fn block_bytes(format: NumberFormat, index: usize, fan_in: usize, fan_out: usize) -> Option<usize> {
    let n = fan_in.checked_mul(fan_out)?;
    match layer_format(format, index) {
        NumberFormat::F32 => n.checked_add(fan_out)?.checked_mul(4),
        NumberFormat::F16 => align_up(n.checked_mul(2)?, 4)?.checked_add(fan_out.checked_mul(4)?),
        NumberFormat::Q15 => 4usize
            .checked_add(align_up(n.checked_mul(2)?, 4)?)?
            .checked_add(fan_out.checked_mul(4)?),
        NumberFormat::I8 => fan_out
            .checked_mul(4)?
            .checked_add(align_up(n, 4)?)?
            .checked_add(fan_out.checked_mul(4)?),
    }
}

/// Bytes of the header, layer table, frequencies and affine map, padded to 16.
fn header_bytes(layers: usize, in_dim: usize, freqs: usize, out_dim: usize) -> Option<usize> {
    let n = HEADER_BYTES
        .checked_add(layers.checked_mul(LAYER_BYTES)?)?
        .checked_add(freqs.checked_mul(in_dim)?.checked_mul(4)?)?
        .checked_add(out_dim.checked_mul(8)?)?;
    align_up(n, 16)
}
