//! What the signal fuzz targets (`image`, `wav`) share: the check every decoded signal must
//! pass, and the fix-ups that let mutated inputs past the formats' checksums and magic.
//! Empty without the `signal` feature (the seeds example).

#![cfg(feature = "signal")]

use std::path::Path;

use vi3nr_cuda::signal::{Layout, Signal};

/// The name the inputs are loaded under; every error must carry it.
const NAME: &str = "fuzz-input";

/// Decodes `bytes` with [`Signal::from_bytes`]. An error must name the input on one line; a
/// signal must hold at least one point, `len() × in_dim()` coordinates and `len() × out_dim()`
/// values, all finite, coordinates in [−1, 1] and values too (a mesh's signed distances within
/// the cube's diagonal, ±2√3). Anything else panics, which the fuzzer reports.
pub fn check_signal(bytes: &[u8]) {
    let path = Path::new(NAME);
    let signal = match Signal::from_bytes(bytes, path) {
        Ok(signal) => signal,
        Err(e) => {
            let msg = e.to_string();
            assert_eq!(e.path(), path);
            assert!(msg.starts_with(&format!("{NAME}: ")), "{msg}");
            assert!(!msg.contains('\n'), "{msg}");
            return;
        }
    };
    assert!(!signal.is_empty(), "{:?}", signal.layout);
    assert!(signal.in_dim() > 0 && signal.out_dim() > 0, "{:?}", signal.layout);
    assert_eq!(signal.coords.len(), signal.len() * signal.in_dim());
    assert_eq!(signal.values.len(), signal.len() * signal.out_dim());
    let unit = |v: &f32| v.is_finite() && (-1.0..=1.0).contains(v);
    let bound = match signal.layout {
        Layout::Mesh { .. } => 2.0 * 3f32.sqrt() + 1e-5,
        _ => 1.0,
    };
    let value = |v: &f32| v.is_finite() && v.abs() <= bound;
    assert!(signal.values.iter().all(value), "a value outside ±{bound}");
    assert!(signal.coords.iter().all(unit), "a coordinate outside [-1, 1]");
}

/// The PNG file signature.
pub const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Rewrites the CRC-32 of every whole chunk of a PNG file so that it matches, leaving
/// everything else alone; returns whether anything changed. Mutations then reach the checks
/// behind the checksum (chunk order, sizes, the zlib stream).
pub fn fix_png_crcs(bytes: &mut [u8]) -> bool {
    let mut changed = false;
    let mut at = PNG_MAGIC.len();
    while at + 12 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let Some(end) = (at + 8).checked_add(len).filter(|&end| end + 4 <= bytes.len()) else {
            break;
        };
        let crc = vi3nr_core::model::crc32(&bytes[at + 4..end]).to_be_bytes();
        changed |= bytes[end..end + 4] != crc;
        bytes[end..end + 4].copy_from_slice(&crc);
        at = end + 4;
    }
    changed
}

/// Makes `bytes` (at least 12 of them) start like a WAV file: `RIFF`, the RIFF size the file
/// really has, `WAVE`.
pub fn as_wav(bytes: &mut [u8]) {
    let riff = u32::try_from(bytes.len() - 8).unwrap_or(u32::MAX);
    bytes[0..4].copy_from_slice(b"RIFF");
    bytes[4..8].copy_from_slice(&riff.to_le_bytes());
    bytes[8..12].copy_from_slice(b"WAVE");
}

/// Whether `bytes` is routed to the WAV decoder.
pub fn is_wav(bytes: &[u8]) -> bool {
    bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WAVE"
}
