//! Signals: loading images and audio as training data, rendering them back.
//!
//! A [`Signal`] is a set of points: coordinates in [-1, 1] (`in_dim` per
//! point) and values in [-1, 1] (`out_dim` per point).
//!
//! - Images (PNG, JPEG): pixel (column i, row j) of a W×H image sits at
//!   x = -1 + 2i/(W-1), y = -1 + 2j/(H-1) (0 when the dimension is 1), points
//!   row-major (row outer, column inner), coordinates `[x, y]`; each channel's
//!   value is 2·v/max − 1 (max 255 or 65535). Grey and grey+alpha give one
//!   channel, RGB and RGBA three; alpha is dropped.
//! - Audio (WAV): frame k of N sits at t = -1 + 2k/(N-1); one value per
//!   channel, integers divided by 2^(bits-1), floats as they are, clamped.
//!
//! The format is found from the file's content, not its name.

use std::fmt;
use std::io::{self, Cursor, Write};
use std::path::{Path, PathBuf};

use image::{DynamicImage, ExtendedColorType, ImageEncoder, ImageFormat};

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
}

impl Layout {
    /// Coordinates per point: 2 for images, 1 for audio.
    pub fn in_dim(&self) -> usize {
        match self {
            Layout::Image { .. } => 2,
            Layout::Audio { .. } => 1,
        }
    }

    /// Values per point: the number of channels.
    pub fn out_dim(&self) -> usize {
        match *self {
            Layout::Image { channels, .. } => usize::from(channels),
            Layout::Audio { channels, .. } => usize::from(channels),
        }
    }

    /// Number of points: pixels or frames.
    pub fn points(&self) -> usize {
        match *self {
            Layout::Image { width, height, .. } => width as usize * height as usize,
            Layout::Audio { frames, .. } => frames as usize,
        }
    }

    /// The coordinate grid (`points() × in_dim()`, row-major) for this layout.
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
        }
    }
}

/// Position `k` of `n` on an evenly spaced grid over [-1, 1]; 0 when `n` ≤ 1.
fn grid(k: u32, n: u32) -> f32 {
    if n <= 1 { 0.0 } else { (-1.0 + 2.0 * f64::from(k) / f64::from(n - 1)) as f32 }
}

/// A signal as training data: coordinates (n × in_dim, row-major) and values
/// (n × out_dim), values in [-1, 1].
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
    /// Loads a PNG or JPEG image (via `image`) or a WAV file (via `hound`),
    /// recognised by content.
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
            return decode_wav(bytes, path);
        }
        match image::guess_format(bytes) {
            Ok(format @ (ImageFormat::Png | ImageFormat::Jpeg)) => {
                decode_image(bytes, format, path)
            }
            Ok(other) => Err(SignalError::new(
                path,
                ErrorKind::Unsupported,
                format!(
                    "unsupported format: the content looks like {}, expected PNG, JPEG or WAV",
                    format_name(other)
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
                    format!("unrecognised content{named}: expected a PNG, JPEG or WAV file"),
                ))
            }
        }
    }

    /// The bundled sample: a 128×85 RGB photograph of a cat (scikit-image's
    /// `chelsea.png`, CC0, downscaled).
    pub fn bundled() -> Signal {
        decode_image(BUNDLED_PNG, ImageFormat::Png, Path::new("<bundled chelsea_128.png>"))
            .expect("the bundled image decodes")
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

/// A readable name for an image format in messages.
fn format_name(format: ImageFormat) -> String {
    match format.extensions_str().first() {
        Some(ext) => format!("a {} image", ext.to_uppercase()),
        None => format!("{format:?}"),
    }
}

/// Decodes a PNG or JPEG image.
fn decode_image(bytes: &[u8], format: ImageFormat, path: &Path) -> Result<Signal, SignalError> {
    let name = if format == ImageFormat::Png { "PNG" } else { "JPEG" };
    let img = image::load_from_memory_with_format(bytes, format).map_err(|e| {
        let kind = match e {
            image::ImageError::Unsupported(_) => ErrorKind::Unsupported,
            image::ImageError::Limits(_) => ErrorKind::TooLarge,
            _ => ErrorKind::Corrupt,
        };
        SignalError::new(path, kind, format!("cannot decode {name}: {e}"))
    })?;
    let (width, height) = (img.width(), img.height());
    if width == 0 || height == 0 {
        return Err(SignalError::new(
            path,
            ErrorKind::Empty,
            format!("empty image ({width}×{height} pixels)"),
        ));
    }
    let grey = !img.color().has_color();
    let values: Vec<f32> = match img {
        DynamicImage::ImageLuma8(_) | DynamicImage::ImageLumaA8(_) => {
            img.to_luma8().into_raw().into_iter().map(unit_u8).collect()
        }
        DynamicImage::ImageRgb8(_) | DynamicImage::ImageRgba8(_) => {
            img.to_rgb8().into_raw().into_iter().map(unit_u8).collect()
        }
        DynamicImage::ImageLuma16(_) | DynamicImage::ImageLumaA16(_) => {
            img.to_luma16().into_raw().into_iter().map(unit_u16).collect()
        }
        DynamicImage::ImageRgb16(_) | DynamicImage::ImageRgba16(_) => {
            img.to_rgb16().into_raw().into_iter().map(unit_u16).collect()
        }
        _ if grey => img.to_luma32f().into_raw().into_iter().map(unit_f32).collect(),
        _ => img.to_rgb32f().into_raw().into_iter().map(unit_f32).collect(),
    };
    let layout = Layout::Image { width, height, channels: if grey { 1 } else { 3 } };
    Ok(Signal::from_values(layout, values))
}

/// 8-bit channel value to [-1, 1].
fn unit_u8(v: u8) -> f32 {
    (2.0 * f64::from(v) / 255.0 - 1.0) as f32
}

/// 16-bit channel value to [-1, 1].
fn unit_u16(v: u16) -> f32 {
    (2.0 * f64::from(v) / 65535.0 - 1.0) as f32
}

/// Floating-point channel value in [0, 1] to [-1, 1], clamped.
fn unit_f32(v: f32) -> f32 {
    if v.is_nan() { 0.0 } else { (2.0 * v - 1.0).clamp(-1.0, 1.0) }
}

/// Decodes a WAV file.
fn decode_wav(bytes: &[u8], path: &Path) -> Result<Signal, SignalError> {
    let wav_err = |e: hound::Error| {
        let kind = match e {
            hound::Error::Unsupported => ErrorKind::Unsupported,
            _ => ErrorKind::Corrupt,
        };
        let cause = match e {
            hound::Error::IoError(ref io) if io.kind() == io::ErrorKind::UnexpectedEof => {
                "truncated data".to_string()
            }
            hound::Error::IoError(ref io) if io.to_string().contains("enough bytes") => {
                "truncated data".to_string()
            }
            ref other => other.to_string(),
        };
        SignalError::new(path, kind, format!("cannot decode WAV: {cause}"))
    };
    let mut reader = hound::WavReader::new(Cursor::new(bytes)).map_err(wav_err)?;
    let spec = reader.spec();
    let frames = reader.duration();
    if spec.sample_rate == 0 {
        return Err(SignalError::new(path, ErrorKind::Corrupt, "WAV sample rate is 0 Hz"));
    }
    if frames == 0 {
        return Err(SignalError::new(path, ErrorKind::Empty, "WAV file has no audio frames"));
    }
    // The header's length is not trusted for the allocation: a file cannot
    // hold more samples than it has bytes.
    let count = reader.len() as usize;
    let mut values = Vec::with_capacity(count.min(bytes.len()));
    match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Int, bits @ 1..=32) => {
            let scale = 1.0 / f64::from(1u32 << (bits - 1));
            for sample in reader.samples::<i32>() {
                values.push((f64::from(sample.map_err(wav_err)?) * scale) as f32);
            }
        }
        (hound::SampleFormat::Float, 32) => {
            for (k, sample) in reader.samples::<f32>().enumerate() {
                let v = sample.map_err(wav_err)?;
                if v.is_nan() {
                    return Err(SignalError::new(
                        path,
                        ErrorKind::Corrupt,
                        format!("WAV sample {k} is NaN"),
                    ));
                }
                values.push(v.clamp(-1.0, 1.0));
            }
        }
        (format, bits) => {
            let format = match format {
                hound::SampleFormat::Int => "integer",
                hound::SampleFormat::Float => "float",
            };
            return Err(SignalError::new(
                path,
                ErrorKind::Unsupported,
                format!("unsupported WAV sample format: {bits}-bit {format}"),
            ));
        }
    }
    if values.len() != count {
        return Err(SignalError::new(
            path,
            ErrorKind::Corrupt,
            "cannot decode WAV: truncated data",
        ));
    }
    let layout = Layout::Audio { sample_rate: spec.sample_rate, channels: spec.channels, frames };
    Ok(Signal::from_values(layout, values))
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
            let color = match channels {
                1 => ExtendedColorType::L8,
                3 => ExtendedColorType::Rgb8,
                n => {
                    return Err(SignalError::new(
                        path,
                        ErrorKind::Unsupported,
                        format!("cannot write a {n}-channel image: only grey (1) or RGB (3)"),
                    ));
                }
            };
            let pixels: Vec<u8> =
                values.iter().map(|&v| ((clamp_unit(v) + 1.0) * 127.5).round() as u8).collect();
            let mut out = Vec::new();
            image::codecs::png::PngEncoder::new(&mut out)
                .write_image(&pixels, width, height, color)
                .map_err(|e| {
                    SignalError::new(path, ErrorKind::Io, format!("cannot encode PNG: {e}"))
                })?;
            out
        }
        Layout::Audio { sample_rate, channels, .. } => {
            let spec = hound::WavSpec {
                channels,
                sample_rate,
                bits_per_sample: 16,
                sample_format: hound::SampleFormat::Int,
            };
            encode_wav(spec, values).map_err(|e| {
                SignalError::new(path, ErrorKind::Io, format!("cannot encode WAV: {e}"))
            })?
        }
    };
    atomic_write(path, &bytes)
        .map_err(|e| SignalError::new(path, ErrorKind::Io, format!("cannot write: {e}")))
}

/// Clamps to [-1, 1], mapping NaN to 0.
fn clamp_unit(v: f32) -> f32 {
    if v.is_nan() { 0.0 } else { v.clamp(-1.0, 1.0) }
}

/// Encodes interleaved values as 16-bit PCM WAV in memory.
fn encode_wav(spec: hound::WavSpec, values: &[f32]) -> Result<Vec<u8>, hound::Error> {
    let mut out = Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut out, spec)?;
    for &v in values {
        writer.write_sample((clamp_unit(v) * 32767.0).round() as i16)?;
    }
    writer.finalize()?;
    Ok(out.into_inner())
}

/// Writes `bytes` to `path` through a temporary file in the same directory,
/// synced and renamed into place: readers see the old file or the new one,
/// never a partial one, and a failure removes the temporary file.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "the path does not name a file")
    })?;
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(name);
    prefix.push(".");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    // Like `File::create`: the umask decides, not tempfile's private 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut file = builder.tempfile_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Mean squared error of two equally long slices (0 when empty).
///
/// # Panics
///
/// If the lengths differ.
pub fn mse(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len(), "mse: slices of different lengths");
    if a.is_empty() {
        return 0.0;
    }
    let sum: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| {
            let d = f64::from(x) - f64::from(y);
            d * d
        })
        .sum();
    sum / a.len() as f64
}

/// PSNR in dB for signals in [-1, 1] (peak-to-peak 2): 10·log10(4 / MSE);
/// +∞ for identical (or empty) slices.
///
/// # Panics
///
/// If the lengths differ.
pub fn psnr(a: &[f32], b: &[f32]) -> f64 {
    let e = mse(a, b);
    if e == 0.0 { f64::INFINITY } else { 10.0 * (4.0 / e).log10() }
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
    /// An error about `path`.
    fn new(path: &Path, kind: ErrorKind, message: impl Into<String>) -> SignalError {
        SignalError { path: path.to_path_buf(), kind, message: message.into() }
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
