//! Byte offsets of the fields of the header and of a layer-table entry (FORMAT.md, "Header"
//! and "Layer table"), shared by the parser and the writer.
//!
//! ```
//! use vi3nr_core::model::offset::{entry, header};
//! use vi3nr_core::model::{HEADER_BYTES, LAYER_BYTES};
//! assert_eq!(header::RESERVED.end, HEADER_BYTES);
//! assert_eq!(entry::P1 + 4, LAYER_BYTES);
//! ```

/// Offsets in the 32-byte header.
pub mod header {
    use core::ops::Range;

    /// `[u8; 4]`: the magic `VI3N`.
    pub const MAGIC: Range<usize> = 0..4;
    /// u16: the format version.
    pub const VERSION: usize = 4;
    /// u16: reserved, 0.
    pub const RESERVED_U16: usize = 6;
    /// u32: the file length in bytes, CRC included.
    pub const FILE_LEN: usize = 8;
    /// u8: the number-format code.
    pub const FORMAT: usize = 12;
    /// u8: the input encoding (0 raw coordinates, 1 Fourier features).
    pub const ENCODING: usize = 13;
    /// u8: the number of weight matrices.
    pub const LAYERS: usize = 14;
    /// u8: reserved, 0.
    pub const RESERVED_U8: usize = 15;
    /// u16: the coordinate dimension.
    pub const IN_DIM: usize = 16;
    /// u16: the number of Fourier frequencies.
    pub const N_FREQ: usize = 18;
    /// u32: the parameter count.
    pub const PARAMS: usize = 20;
    /// `[u8; 8]`: reserved, 0.
    pub const RESERVED: Range<usize> = 24..32;
}

/// Offsets in a 16-byte layer-table entry.
pub mod entry {
    use core::ops::Range;

    /// u16: fan-in.
    pub const FAN_IN: usize = 0;
    /// u16: fan-out.
    pub const FAN_OUT: usize = 2;
    /// u8: the [`ActCode`](super::super::ActCode).
    pub const ACT: usize = 4;
    /// `[u8; 3]`: reserved, 0.
    pub const RESERVED: Range<usize> = 5..8;
    /// f32: activation parameter 0.
    pub const P0: usize = 8;
    /// f32: activation parameter 1.
    pub const P1: usize = 12;
}
