//! What can be wrong with a model file, a model to be written, or an evaluation's buffers.

use core::fmt;

use super::{NumberFormat, VERSION};

/// What is wrong with a model file, or with a model to be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModelError {
    /// Shorter than the fixed header.
    Truncated,
    /// The first four bytes are not `VI3N`.
    BadMagic,
    /// A version this crate does not read.
    Version(u16),
    /// The header's file length differs from the buffer's.
    Length {
        /// Length recorded in the header.
        declared: u32,
        /// Length of the buffer.
        actual: u32,
    },
    /// The buffer is not 4-byte aligned (weights are read in place).
    Misaligned,
    /// The host is big-endian: the little-endian weights cannot be read in place.
    BigEndianHost,
    /// The stored CRC-32 does not match the contents.
    Crc {
        /// CRC in the file.
        stored: u32,
        /// CRC of the contents.
        computed: u32,
    },
    /// A header field (or a model-wide field of a spec to write) is invalid.
    Header(Field),
    /// A layer entry or weight block is invalid.
    Layer {
        /// Index of the weight matrix.
        index: u8,
        /// What is wrong.
        what: LayerFault,
    },
    /// Sizes overflow the format's or the platform's integers.
    TooLarge,
    /// The output buffer is too small for the model.
    BufferTooSmall {
        /// Bytes the model needs.
        needed: u32,
    },
    /// A caller's buffer (evaluation input, output or scratch, dequantised weights) has the
    /// wrong length.
    BufferLength(Buffer),
    /// The evaluator does not compute this number format: [`Model::eval_f32`] takes f32 and
    /// f16 models, [`Model::eval_fixed`] q15 and i8 ([`Model::eval`] picks the right one).
    ///
    /// [`Model::eval_f32`]: super::Model::eval_f32
    /// [`Model::eval_fixed`]: super::Model::eval_fixed
    /// [`Model::eval`]: super::Model::eval
    WrongEvaluator(NumberFormat),
}

/// A model-wide field that is invalid ([`ModelError::Header`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Field {
    /// The file length is not a multiple of 4.
    FileLength,
    /// An unknown number-format code (or name).
    NumberFormat,
    /// An input-encoding code other than 0 (raw) or 1 (Fourier).
    InputEncoding,
    /// A layer count of 0 or above [`MAX_LAYERS`](super::MAX_LAYERS).
    LayerCount,
    /// An input dimension of 0 (or, to write, above 65,535).
    InputDim,
    /// The Fourier frequency count disagrees with the encoding, or the frequencies are not
    /// `n_freq` rows of `in_dim` (at most 65,535 rows).
    FourierCount,
    /// A Fourier frequency is not finite.
    Fourier,
    /// A value of the output affine map is not finite.
    Affine,
    /// The affine map does not have one `(scale, offset)` per output.
    AffineCount,
    /// A reserved header byte is not 0.
    Reserved,
    /// The parameter count disagrees with the layer table.
    ParamCount,
    /// The layer table, frequencies or affine map run past the end of the file.
    TableTruncated,
    /// The padding after the affine map is not 0.
    Padding,
    /// The weight blocks do not end where the CRC starts.
    PayloadLength,
}

impl Field {
    /// What is wrong, in words.
    pub fn message(self) -> &'static str {
        match self {
            Field::FileLength => "file length not a multiple of 4",
            Field::NumberFormat => "unknown number format",
            Field::InputEncoding => "unknown input encoding",
            Field::LayerCount => "layer count is 0 or above the maximum",
            Field::InputDim => "input dimension is 0 or above 65535",
            Field::FourierCount => {
                "Fourier frequencies disagree with the encoding or are not n_freq rows of in_dim"
            }
            Field::Fourier => "Fourier frequency not finite",
            Field::Affine => "output affine map not finite",
            Field::AffineCount => "affine map needs one (scale, offset) per output",
            Field::Reserved => "reserved bytes are not 0",
            Field::ParamCount => "parameter count disagrees with the layer table",
            Field::TableTruncated => "layer table, frequencies or affine map truncated",
            Field::Padding => "header padding is not 0",
            Field::PayloadLength => "file length disagrees with the layer table",
        }
    }
}

/// What is wrong with a layer ([`ModelError::Layer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LayerFault {
    /// A fan-in or fan-out of 0 or above [`MAX_WIDTH`](super::MAX_WIDTH).
    Width,
    /// The fan-in differs from the previous layer's fan-out (or the encoded input width).
    FanIn,
    /// A reserved byte of the layer entry is not 0.
    Reserved,
    /// An activation code that is not an [`ActCode`](super::ActCode).
    ActivationCode,
    /// An activation parameter is not finite and > 0.
    ActivationParam,
    /// A parameter the activation does not use is not 0.
    UnusedParam,
    /// The activation's constants are out of the fixed-point range.
    FixedActivation,
    /// The spec's weights are not `fan_in · fan_out` values or its biases not `fan_out`.
    Shape,
    /// The weight block runs past the CRC.
    BlockTruncated,
    /// A weight or bias is not finite.
    NotFinite,
    /// A weight is outside the f16 range.
    F16Range,
    /// A q15 weight is −32768 (the format is symmetric: ±32767).
    Q15Min,
    /// A weight or row scale is not finite and > 0.
    Scale,
    /// A weight or row scale maps the accumulator out of the fixed-point range.
    ScaleRange,
    /// A bias is outside the fixed-point accumulator range.
    Bias,
    /// The padding of the weight block is not 0.
    Padding,
}

impl LayerFault {
    /// What is wrong, in words.
    pub fn message(self) -> &'static str {
        match self {
            LayerFault::Width => "width is 0 or above the maximum",
            LayerFault::FanIn => "fan-in differs from the previous fan-out (or the input)",
            LayerFault::Reserved => "reserved bytes are not 0",
            LayerFault::ActivationCode => "unknown activation code",
            LayerFault::ActivationParam => "activation parameter not finite and > 0",
            LayerFault::UnusedParam => "unused activation parameter is not 0",
            LayerFault::FixedActivation => "activation constants out of the fixed-point range",
            LayerFault::Shape => "weights or bias length disagrees with the shape",
            LayerFault::BlockTruncated => "weight block truncated",
            LayerFault::NotFinite => "weight or bias not finite",
            LayerFault::F16Range => "weight outside the f16 range",
            LayerFault::Q15Min => "q15 weight −32768 (the format is symmetric: ±32767)",
            LayerFault::Scale => "weight scale not finite and > 0",
            LayerFault::ScaleRange => "weight scale out of the fixed-point range",
            LayerFault::Bias => "bias outside the fixed-point accumulator range",
            LayerFault::Padding => "padding is not 0",
        }
    }
}

/// Which caller buffer has the wrong length ([`ModelError::BufferLength`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Buffer {
    /// The input: one value per input dimension.
    Input,
    /// The output: one value per output dimension.
    Output,
    /// The scratch: at least [`Model::scratch_len`](super::Model::scratch_len) values.
    Scratch,
    /// A batch: inputs and outputs disagree on the point count.
    Batch,
    /// Dequantised weights: `fan_in · fan_out` values.
    Weights,
    /// Dequantised biases: `fan_out` values.
    Biases,
}

impl Buffer {
    /// What is wrong, in words.
    pub fn message(self) -> &'static str {
        match self {
            Buffer::Input => "input: one value per input dimension",
            Buffer::Output => "output: one value per output dimension",
            Buffer::Scratch => "scratch shorter than Model::scratch_len",
            Buffer::Batch => "batch: inputs and outputs disagree on the point count",
            Buffer::Weights => "weights: fan_in · fan_out values",
            Buffer::Biases => "biases: fan_out values",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl fmt::Display for LayerFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl fmt::Display for Buffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ModelError::Truncated => f.write_str("truncated: shorter than the 32-byte header"),
            ModelError::BadMagic => f.write_str("not a vi3nr model (bad magic)"),
            ModelError::Version(v) => {
                write!(
                    f,
                    "unsupported format version {v} (this reader: {VERSION}; re-export the model)"
                )
            }
            ModelError::Length { declared, actual } => {
                write!(f, "length mismatch: header says {declared} bytes, file has {actual}")
            }
            ModelError::Misaligned => f.write_str("model buffer is not 4-byte aligned"),
            ModelError::BigEndianHost => {
                f.write_str("big-endian hosts cannot read the weights in place")
            }
            ModelError::Crc { stored, computed } => {
                write!(f, "CRC mismatch: stored {stored:#010x}, computed {computed:#010x}")
            }
            ModelError::Header(field) => write!(f, "invalid header: {field}"),
            ModelError::Layer { index, what } => write!(f, "invalid layer {index}: {what}"),
            ModelError::TooLarge => f.write_str("model too large for the format"),
            ModelError::BufferTooSmall { needed } => {
                write!(f, "buffer too small: {needed} bytes needed")
            }
            ModelError::BufferLength(buffer) => write!(f, "wrong buffer length: {buffer}"),
            ModelError::WrongEvaluator(format) => {
                let which = match format {
                    NumberFormat::F32 | NumberFormat::F16 => "eval_f32",
                    NumberFormat::Q15 | NumberFormat::I8 => "eval_fixed",
                };
                write!(f, "a {} model needs {which} (or eval)", format.name())
            }
        }
    }
}

impl core::error::Error for ModelError {}
