//! Signals: loading images and audio as training data, rendering them back.
//!
//! A [`Signal`] is a set of points: coordinates in [-1, 1] (`in_dim` per point) and values in
//! [-1, 1] (`out_dim` per point). One submodule per kind of signal says how its samples map to
//! points: `image` (PNG, JPEG), `audio` (WAV) and `mesh` (OBJ, STL, PLY: samples of the signed
//! distance in the normalised cube, see [`Signal::from_mesh`]). The format is found from the
//! file's content, not its name.

mod audio;
mod image;
pub mod mesh;

pub use mesh::{Mesh, Normalisation};

use std::fmt;
use std::path::{Path, PathBuf};

use ::image::ImageFormat;

use crate::export::atomic_write;

/// SDF samples drawn from a mesh by default: the 500k.
pub const MESH_SAMPLES: usize = 500_000;

/// The bundled sample image (see `assets/LICENSE.md`).
const BUNDLED_PNG: &[u8] = include_bytes!("../assets/chelsea_128.png");

/// What a signal's samples are laid out as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// A still image, `channels` values per pixel.
    Image {
        /// Pixels per row.
        width: u32,
        /// Rows.
        height: u32,
        /// Values per pixel: 1 (grey) or 3 (RGB).
        channels: u8,
    },
    /// Sampled audio, `channels` values per frame.
    Audio {
        /// Frames per second.
        sample_rate: u32,
        /// Values per frame.
        channels: u16,
        /// Number of frames.
        frames: u32,
    },
    /// Samples of a mesh's signed distance function: points in [−1, 1]³ (the mesh normalised,
    /// [`Mesh::normalisation`]) and their signed distance there (negative inside). The points
    /// are not a grid: they live in [`Signal::coords`], and [`Layout::coords`] is empty.
    Mesh {
        /// Triangles of the mesh.
        triangles: u32,
        /// Number of samples.
        samples: u32,
    },
}

impl Layout {
    /// Coordinates per point: 2 for images, 1 for audio.
    pub fn in_dim(&self) -> usize {
        match self {
            Layout::Image { .. } => 2,
            Layout::Audio { .. } => 1,
            Layout::Mesh { .. } => 3,
        }
    }

    /// Values per point: the number of channels.
    pub fn out_dim(&self) -> usize {
        match *self {
            Layout::Image { channels, .. } => usize::from(channels),
            Layout::Audio { channels, .. } => usize::from(channels),
            Layout::Mesh { .. } => 1,
        }
    }

    /// Number of points: pixels or frames.
    pub fn points(&self) -> usize {
        match *self {
            Layout::Image { width, height, .. } => width as usize * height as usize,
            Layout::Audio { frames, .. } => frames as usize,
            Layout::Mesh { samples, .. } => samples as usize,
        }
    }

    /// The coordinate grid (`points() × in_dim()`, row-major) for this layout; empty for a
    /// mesh, whose sample points are no grid.
    pub fn coords(&self) -> Vec<f32> {
        match *self {
            Layout::Image { width, height, .. } => {
                let mut out = Vec::with_capacity(self.points() * 2);
                for j in 0..height {
                    let y = grid(j, height);
                    for i in 0..width {
                        out.push(grid(i, width));
                        out.push(y);
                    }
                }
                out
            }
            Layout::Audio { frames, .. } => (0..frames).map(|k| grid(k, frames)).collect(),
            Layout::Mesh { .. } => Vec::new(),
        }
    }

    /// A short human description, e.g. "128×85 RGB image" or
    /// "44100 Hz stereo audio, 2.0 s".
    pub fn describe(&self) -> String {
        match *self {
            Layout::Image { width, height, channels } => {
                let kind = match channels {
                    1 => "grey".to_string(),
                    3 => "RGB".to_string(),
                    n => format!("{n}-channel"),
                };
                format!("{width}×{height} {kind} image")
            }
            Layout::Audio { sample_rate, channels, frames } => {
                let kind = match channels {
                    1 => "mono".to_string(),
                    2 => "stereo".to_string(),
                    n => format!("{n}-channel"),
                };
                if sample_rate == 0 {
                    return format!("{kind} audio, {frames} frames at 0 Hz");
                }
                let seconds = f64::from(frames) / f64::from(sample_rate);
                let length = if seconds >= 0.1 {
                    format!("{seconds:.1} s")
                } else {
                    format!("{:.1} ms", seconds * 1e3)
                };
                format!("{sample_rate} Hz {kind} audio, {length}")
            }
            Layout::Mesh { triangles, samples } => {
                format!("mesh of {triangles} triangles, {samples} SDF samples")
            }
        }
    }
}

/// Position `k` of `n` on an evenly spaced grid over [-1, 1]; 0 when `n` ≤ 1.
fn grid(k: u32, n: u32) -> f32 {
    if n <= 1 { 0.0 } else { (-1.0 + 2.0 * f64::from(k) / f64::from(n - 1)) as f32 }
}

/// A signal as training data: coordinates (n × in_dim, row-major) and values
/// (n × out_dim): values in [-1, 1] for images and audio; for a mesh, signed distances in the
/// normalised cube, within its diagonal (±2√3).
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    /// How the points are laid out.
    pub layout: Layout,
    /// Coordinates, `len() × in_dim()`, row-major.
    pub coords: Vec<f32>,
    /// Values in [-1, 1], `len() × out_dim()`, row-major.
    pub values: Vec<f32>,
}

impl Signal {
    /// Loads a PNG or JPEG image (via `image`), a WAV file (via `hound`) or an OBJ, STL or PLY
    /// mesh ([`Mesh::from_bytes`]; [`MESH_SAMPLES`] SDF samples, seed 0), recognised by content.
    ///
    /// Images may be grey, grey+alpha, RGB or RGBA, 8 or 16 bits; WAV files
    /// any number of channels, 8/16/24/32-bit integer or 32-bit float.
    pub fn load(path: &Path) -> Result<Signal, SignalError> {
        let bytes = std::fs::read(path)
            .map_err(|e| SignalError::new(path, ErrorKind::Io, format!("cannot read: {e}")))?;
        Signal::from_bytes(&bytes, path)
    }

    /// Decodes a signal from a file's bytes; `path` only names it in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Signal, SignalError> {
        if bytes.is_empty() {
            return Err(SignalError::new(path, ErrorKind::Empty, "empty file (0 bytes)"));
        }
        if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WAVE" {
            return audio::decode(bytes, path);
        }
        if ::image::guess_format(bytes).is_err() && mesh::detect(bytes, path).is_some() {
            let mesh = Mesh::from_bytes(bytes, path)?;
            return Ok(Signal::from_mesh(&mesh, MESH_SAMPLES, 0).0);
        }
        match ::image::guess_format(bytes) {
            Ok(format @ (ImageFormat::Png | ImageFormat::Jpeg)) => {
                image::decode(bytes, format, path)
            }
            Ok(other) => Err(SignalError::new(
                path,
                ErrorKind::Unsupported,
                format!(
                    "unsupported format: the content looks like {}, expected PNG, JPEG, WAV or a mesh",
                    image::format_name(other)
                ),
            )),
            Err(_) => {
                let named = match path.extension().and_then(|e| e.to_str()) {
                    Some(ext) => format!(" (the name ends in .{ext})"),
                    None => String::new(),
                };
                Err(SignalError::new(
                    path,
                    ErrorKind::Unsupported,
                    format!(
                        "unrecognised content{named}: expected a PNG, JPEG or WAV file, or an OBJ, STL or PLY mesh"
                    ),
                ))
            }
        }
    }

    /// The bundled sample: a 128×85 RGB photograph of a cat (scikit-image's
    /// `chelsea.png`, CC0, downscaled).
    pub fn bundled() -> Signal {
        image::decode(BUNDLED_PNG, ImageFormat::Png, Path::new("<bundled chelsea_128.png>"))
            .expect("the bundled image decodes")
    }

    /// SDF samples of `mesh` from `seed`: the mesh normalised into
    /// [−1, 1]³ ([`Mesh::normalisation`]), `samples` points spread by
    /// [`Mix::default`](crate::sdf::Mix), each with its exact signed distance in normalised
    /// units (multiply by the normalisation's scale for mesh units). Returns the signal, the
    /// normalisation and the normalised mesh.
    pub fn from_mesh(mesh: &Mesh, samples: usize, seed: u64) -> (Signal, Normalisation, Mesh) {
        let norm = mesh.normalisation();
        let unit = mesh.map(|v| norm.forward(v));
        let bvh = crate::sdf::Bvh::new(&unit);
        let s = crate::sdf::sample(&unit, &bvh, samples, crate::sdf::Mix::default(), seed);
        let layout =
            Layout::Mesh { triangles: mesh.triangles.len() as u32, samples: samples as u32 };
        (Signal { layout, coords: s.points, values: s.distances }, norm, unit)
    }

    /// Builds a signal from a layout and its values (`points() × out_dim()`),
    /// filling in the coordinate grid.
    pub fn from_values(layout: Layout, values: Vec<f32>) -> Signal {
        Signal { coords: layout.coords(), layout, values }
    }

    /// Coordinates per point.
    pub fn in_dim(&self) -> usize {
        self.layout.in_dim()
    }

    /// Values per point.
    pub fn out_dim(&self) -> usize {
        self.layout.out_dim()
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.layout.points()
    }

    /// Whether the signal has no points.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Writes rendered values (n × out_dim, clamped to [-1, 1]; NaN counts as 0)
/// as PNG (image layouts; grey or RGB 8-bit) or WAV (audio layouts; 16-bit
/// PCM at the layout's rate), through a temporary file in the same directory
/// renamed into place, so a failure never leaves a partial file.
pub fn write_rendered(layout: &Layout, values: &[f32], path: &Path) -> Result<(), SignalError> {
    let expected = layout.points() * layout.out_dim();
    if values.len() != expected {
        return Err(SignalError::new(
            path,
            ErrorKind::Mismatch,
            format!(
                "cannot write: expected {expected} values ({} points × {} channels), got {}",
                layout.points(),
                layout.out_dim(),
                values.len()
            ),
        ));
    }
    if expected == 0 {
        return Err(SignalError::new(path, ErrorKind::Empty, "cannot write an empty signal"));
    }
    let bytes = match *layout {
        Layout::Image { width, height, channels } => {
            image::encode_png(width, height, channels, values, path)?
        }
        Layout::Audio { sample_rate, channels, .. } => {
            audio::encode(sample_rate, channels, values, path)?
        }
        Layout::Mesh { .. } => {
            return Err(SignalError::new(
                path,
                ErrorKind::Unsupported,
                "a mesh's SDF samples are not rendered to a file: extract the surface with                  `vi3nr eval MODEL --mesh OUT.obj`",
            ));
        }
    };
    atomic_write(path, &bytes)
        .map_err(|e| SignalError::new(path, ErrorKind::Io, format!("cannot write: {e}")))
}

/// Clamps to [-1, 1], mapping NaN to 0.
fn clamp_unit(v: f32) -> f32 {
    if v.is_nan() { 0.0 } else { v.clamp(-1.0, 1.0) }
}

/// What went wrong, broadly, in a [`SignalError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be read or written.
    Io,
    /// The format (or a variant of it) is not supported.
    Unsupported,
    /// The data is corrupt or truncated.
    Corrupt,
    /// The file or signal holds nothing.
    Empty,
    /// The signal is larger than the decoder's limits.
    TooLarge,
    /// Values do not match the layout.
    Mismatch,
}

/// A precise, one-line error: the path and the cause (unreadable file,
/// unsupported format, corrupt data, empty signal, …).
#[derive(Debug)]
pub struct SignalError {
    path: PathBuf,
    kind: ErrorKind,
    message: String,
}

impl SignalError {
    /// An error about `path`. A decoder's message that spans lines is joined into one.
    fn new(path: &Path, kind: ErrorKind, message: impl Into<String>) -> SignalError {
        let mut message = message.into();
        if message.contains(['\n', '\r']) {
            let lines: Vec<&str> =
                message.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            message = lines.join("; ");
        }
        SignalError { path: path.to_path_buf(), kind, message }
    }

    /// The file the error is about.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The broad kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Display for SignalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for SignalError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mesh_file_is_an_sdf_signal_in_the_normalised_cube() {
        let cube = crate::sdf::shapes::cube(2.0).map(|v| [v[0] + 3.0, v[1], v[2]]);
        let signal = Signal::from_bytes(&cube.to_obj(), Path::new("cube.obj")).unwrap();
        assert_eq!(signal.layout, Layout::Mesh { triangles: 12, samples: MESH_SAMPLES as u32 });
        assert_eq!((signal.in_dim(), signal.out_dim(), signal.len()), (3, 1, MESH_SAMPLES));
        assert!(signal.layout.coords().is_empty());
        // Normalised: the cube [1, 5] × [−2, 2]² becomes [−0.9, 0.9]³.
        for (p, &d) in signal.coords.chunks_exact(3).zip(&signal.values).step_by(997) {
            let exact = crate::sdf::shapes::cube_sdf(0.9, [p[0], p[1], p[2]].map(f64::from));
            assert!((f64::from(d) - exact).abs() < 1e-5, "{p:?}: {d} vs {exact}");
        }
        let e = write_rendered(&signal.layout, &signal.values, Path::new("x.png")).unwrap_err();
        assert!(e.to_string().contains("--mesh"), "{e}");
    }

    #[test]
    fn error_messages_are_one_line() {
        let e = SignalError::new(Path::new("a.jpg"), ErrorKind::Corrupt, "first\n  second\r\n\n");
        assert_eq!(e.to_string(), "a.jpg: first; second");
        assert_eq!(e.kind(), ErrorKind::Corrupt);
    }
}
