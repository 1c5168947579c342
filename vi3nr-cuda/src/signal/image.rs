//! Images: PNG and JPEG in (through `image`), PNG out.
//!
//! Pixel (column i, row j) of a W×H image sits at x = −1 + 2i/(W−1), y = −1 + 2j/(H−1) (0 when
//! the dimension is 1), points row-major, coordinates `[x, y]`; each channel's value is
//! 2·v/max − 1 (max 255 or 65535). Grey and grey+alpha give one channel, RGB and RGBA three;
//! alpha is dropped.
//!
//! Before anything is decoded, two checks stand in for trust in the header:
//! - the file must be whole: its PNG chunks, walked by their declared lengths, reach `IEND`;
//!   its JPEG segments and scans reach the end-of-image marker. (The decoders would otherwise
//!   return an image from a file cut short: PNG never reads `IEND`, and the JPEG decoder fills
//!   missing data with zeros.)
//! - the file must be able to hold the image its header declares. Deflate turns at best 2 bits
//!   into 258 bytes, so a PNG's raw rows are at most [`DEFLATE_MAX_RATIO`] times the file's
//!   length; a JPEG codes every 8×8 block of each component in at least one bit, and a
//!   component is subsampled at most 4×4, so it holds at most [`JPEG_MAX_PIXELS_PER_BYTE`]
//!   pixels per byte. A tiny file declaring a huge image is [`ErrorKind::TooLarge`] before the
//!   decoder allocates its buffer; the image crate's default [`Limits`] (512 MiB) bound the
//!   buffer of any file.

use std::io::Cursor;
use std::path::Path;

use image::{
    DynamicImage, ExtendedColorType, ImageDecoder, ImageEncoder, ImageFormat, ImageReader, Limits,
};

use super::{ErrorKind, Layout, Signal, SignalError, clamp_unit};

/// A readable name for an image format in messages.
pub(super) fn format_name(format: ImageFormat) -> String {
    match format.extensions_str().first() {
        Some(ext) => format!("a {} image", ext.to_uppercase()),
        None => format!("{format:?}"),
    }
}

/// Decodes a PNG or JPEG image.
pub(super) fn decode(
    bytes: &[u8],
    format: ImageFormat,
    path: &Path,
) -> Result<Signal, SignalError> {
    let png = format == ImageFormat::Png;
    let name = if png { "PNG" } else { "JPEG" };
    let fail = |kind, cause: String| {
        SignalError::new(path, kind, format!("cannot decode {name}: {cause}"))
    };
    let image_err = |e: image::ImageError| {
        let kind = match e {
            image::ImageError::Unsupported(_) => ErrorKind::Unsupported,
            image::ImageError::Limits(_) => ErrorKind::TooLarge,
            _ => ErrorKind::Corrupt,
        };
        fail(kind, e.to_string())
    };
    // Raw PNG rows' bits per pixel (1, the fewest, when IHDR is bad: the decoder rejects it).
    let row_bits = if png {
        png_whole(bytes).map(|bits| Some(bits.unwrap_or(1)))
    } else {
        jpeg_whole(bytes).map(|()| None)
    }
    .map_err(|cause| fail(ErrorKind::Corrupt, cause))?;
    let decoder =
        ImageReader::with_format(Cursor::new(bytes), format).into_decoder().map_err(image_err)?;
    let (width, height) = decoder.dimensions();
    fits(width, height, row_bits, bytes.len()).map_err(|cause| fail(ErrorKind::TooLarge, cause))?;
    Limits::default().reserve(decoder.total_bytes()).map_err(image_err)?;
    let img = contained(|| DynamicImage::from_decoder(decoder))
        .map_err(|cause| fail(ErrorKind::Corrupt, cause))?
        .map_err(image_err)?;
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

/// The most bytes deflate makes of one byte: 258 (its longest match) from two 1-bit codes.
pub(super) const DEFLATE_MAX_RATIO: u64 = 1032;

/// The most pixels one byte of a JPEG file holds: 8 blocks of 8×8, each subsampled 4×4.
pub(super) const JPEG_MAX_PIXELS_PER_BYTE: u64 = 8 * 64 * 16;

/// The PNG file signature.
const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Checks that a PNG file is whole: walked by their declared lengths, its chunks (IHDR first)
/// reach `IEND`. Returns the bits per pixel of the raw rows, from IHDR, when they are known
/// (`None` for a bit depth or colour type PNG does not have, which the decoder rejects).
fn png_whole(bytes: &[u8]) -> Result<Option<u64>, String> {
    let cut = |at: usize| {
        format!(
            "truncated: the file ends at byte {} before its IEND chunk (at byte {at})",
            bytes.len()
        )
    };
    let mut at = PNG_MAGIC.len();
    let mut row_bits = None;
    loop {
        let Some(head) = bytes.get(at..at + 8) else { return Err(cut(at)) };
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let end = at + 12 + len;
        if bytes.len() < end {
            return Err(cut(at));
        }
        match &head[4..8] {
            b"IHDR" if at == PNG_MAGIC.len() && len >= 13 => {
                let (depth, colour) = (u64::from(bytes[at + 16]), bytes[at + 17]);
                let samples = match colour {
                    0 | 3 => Some(1),
                    2 => Some(3),
                    4 => Some(2),
                    6 => Some(4),
                    _ => None,
                };
                let depth = [1, 2, 4, 8, 16].contains(&depth).then_some(depth);
                row_bits = samples.zip(depth).map(|(s, d)| s * d);
            }
            b"IEND" => return Ok(row_bits),
            _ => {}
        }
        at = end;
    }
}

/// Checks that a JPEG file is whole: from SOI, its segments (skipped by their declared
/// lengths) and scans (entropy-coded data up to the next marker) reach the end-of-image
/// marker. Bytes where a marker belongs are skipped up to the next 0xFF, as libjpeg does.
fn jpeg_whole(bytes: &[u8]) -> Result<(), String> {
    let cut = || format!("truncated: no end-of-image marker in the file's {} bytes", bytes.len());
    let mut at = 2;
    loop {
        // The next marker: 0xFF (any fill 0xFF), then its code.
        at += bytes
            .get(at..)
            .and_then(|rest| rest.iter().position(|&b| b == 0xFF))
            .ok_or_else(cut)?;
        while bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let code = *bytes.get(at + 1).ok_or_else(cut)?;
        at += 2;
        match code {
            0xD9 => return Ok(()),
            // Standalone markers: restart, TEM, and a stray 0x00 (stuffing outside a scan).
            0xD0..=0xD7 | 0x01 | 0x00 => {}
            _ => {
                let len = bytes.get(at..at + 2).ok_or_else(cut)?;
                at += usize::from(u16::from_be_bytes([len[0], len[1]]));
                if code == 0xDA {
                    // Entropy-coded data: 0xFF 0x00 is a stuffed byte, 0xFF 0xD0..0xD7 a
                    // restart marker; anything else after 0xFF is the next marker.
                    loop {
                        at += bytes
                            .get(at..)
                            .and_then(|rest| rest.iter().position(|&b| b == 0xFF))
                            .ok_or_else(cut)?;
                        match bytes.get(at + 1) {
                            Some(0x00 | 0xD0..=0xD7) => at += 2,
                            Some(_) => break,
                            None => return Err(cut()),
                        }
                    }
                }
            }
        }
    }
}

/// Checks that a `bytes`-long file can hold a `width × height` image: for a PNG, its raw rows
/// (`row_bits` per pixel and a filter byte per row) at most [`DEFLATE_MAX_RATIO`] times the
/// file; for a JPEG (`row_bits` `None`), at most [`JPEG_MAX_PIXELS_PER_BYTE`] pixels per byte.
fn fits(width: u32, height: u32, row_bits: Option<u64>, bytes: usize) -> Result<(), String> {
    // In u128: 2³² rows of 2³² pixels of 64 bits overflow u64.
    let (w, h, n) = (u128::from(width), u128::from(height), bytes as u128);
    let (need, most, what) = match row_bits {
        Some(bits) => (
            h * (1 + (w * u128::from(bits)).div_ceil(8)),
            n * u128::from(DEFLATE_MAX_RATIO),
            "bytes of pixel rows",
        ),
        None => (w * h, n * u128::from(JPEG_MAX_PIXELS_PER_BYTE), "pixels"),
    };
    if need <= most {
        return Ok(());
    }
    Err(format!(
        "the header declares a {width}×{height} image ({need} {what}), more than a {bytes}-byte \
         file can hold (at most {most})"
    ))
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

/// Encodes values (`width × height × channels`, clamped to [−1, 1]) as an 8-bit grey or RGB PNG.
pub(super) fn encode_png(
    width: u32,
    height: u32,
    channels: u8,
    values: &[f32],
    path: &Path,
) -> Result<Vec<u8>, SignalError> {
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
        .map_err(|e| SignalError::new(path, ErrorKind::Io, format!("cannot encode PNG: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small valid image of `color`, encoded by the real encoder.
    fn encoded(format: ImageFormat, w: u32, h: u32, color: ExtendedColorType) -> Vec<u8> {
        let n = (w * h) as usize * usize::from(color.channel_count());
        let pixels: Vec<u8> = (0..n).map(|i| (i * 37 % 251) as u8).collect();
        let mut out = Vec::new();
        match format {
            ImageFormat::Png => image::codecs::png::PngEncoder::new(&mut out)
                .write_image(&pixels, w, h, color)
                .unwrap(),
            _ => image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
                .write_image(&pixels, w, h, color)
                .unwrap(),
        }
        out
    }

    /// `png` with IHDR's width and height replaced (and its CRC fixed).
    fn png_claiming(mut png: Vec<u8>, w: u32, h: u32) -> Vec<u8> {
        png[16..20].copy_from_slice(&w.to_be_bytes());
        png[20..24].copy_from_slice(&h.to_be_bytes());
        let crc = vi3nr_core::model::crc32(&png[12..29]);
        png[29..33].copy_from_slice(&crc.to_be_bytes());
        png
    }

    /// `jpeg` with its SOF0 height and width replaced.
    fn jpeg_claiming(mut jpeg: Vec<u8>, w: u16, h: u16) -> Vec<u8> {
        let sof = jpeg.windows(2).position(|m| m == [0xFF, 0xC0]).unwrap();
        jpeg[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
        jpeg[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
        jpeg
    }

    fn decode_err(bytes: &[u8], format: ImageFormat) -> SignalError {
        decode(bytes, format, Path::new("x/claims.img")).expect_err("decoding should fail")
    }

    #[test]
    fn a_small_file_declaring_a_huge_image_is_too_large() {
        // Before these checks, a PNG of under 100 bytes declaring 20000×20000 made the decoder allocate
        // its whole 400 MB buffer, and a 629-byte JPEG declaring 16000×10000 decoded (the
        // missing data read as zeros) into a 480 MB image, then 3.2 GB of coordinates and values.
        let png =
            png_claiming(encoded(ImageFormat::Png, 4, 4, ExtendedColorType::L8), 20_000, 20_000);
        let jpeg = jpeg_claiming(
            encoded(ImageFormat::Jpeg, 8, 8, ExtendedColorType::Rgb8),
            16_000,
            10_000,
        );
        for (bytes, format) in [(png, ImageFormat::Png), (jpeg, ImageFormat::Jpeg)] {
            let e = decode_err(&bytes, format);
            let msg = e.to_string();
            assert_eq!(e.kind(), ErrorKind::TooLarge, "{msg}");
            assert!(msg.starts_with("x/claims.img: cannot decode "), "{msg}");
            assert!(
                msg.contains("image") && msg.contains(&format!("{}-byte file", bytes.len())),
                "{msg}"
            );
        }
    }

    #[test]
    fn the_bounds_admit_real_files() {
        // Flat images, the most compressible that real encoders make, still fit the bounds.
        for (w, h) in [(1, 1), (640, 480), (1, 3000), (3000, 1)] {
            let n = (w * h) as usize;
            for color in [ExtendedColorType::L8, ExtendedColorType::Rgb8] {
                let flat = vec![0u8; n * usize::from(color.channel_count())];
                let mut png = Vec::new();
                image::codecs::png::PngEncoder::new(&mut png)
                    .write_image(&flat, w, h, color)
                    .unwrap();
                let mut jpeg = Vec::new();
                image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 10)
                    .write_image(&flat, w, h, color)
                    .unwrap();
                for (bytes, format) in [(png, ImageFormat::Png), (jpeg, ImageFormat::Jpeg)] {
                    let s = decode(&bytes, format, Path::new("flat")).unwrap();
                    assert_eq!(s.len(), n, "{format:?} {w}×{h} {color:?}");
                }
            }
        }
    }

    #[test]
    fn size_bounds() {
        // Raw PNG rows: a filter byte per row, bits rounded up to bytes.
        assert!(fits(8, 1, Some(1), 1).is_ok()); // 2 bytes of rows
        assert!(fits(7, 1000, Some(8), 8).is_ok()); // 8000 ≤ 8256
        assert!(fits(8, 1000, Some(8), 8).is_err()); // 9000 > 8256
        let e = fits(100, 100, None, 1).unwrap_err(); // 10000 pixels > 8192
        assert!(e.contains("100×100 image (10000 pixels)") && e.contains("at most 8192"), "{e}");
        assert!(fits(u32::MAX, u32::MAX, Some(64), usize::MAX / 2048).is_err());
    }

    #[test]
    fn a_file_cut_before_its_end_marker_is_truncated() {
        let png = encoded(ImageFormat::Png, 5, 3, ExtendedColorType::Rgb8);
        let jpeg = encoded(ImageFormat::Jpeg, 5, 3, ExtendedColorType::Rgb8);
        for (bytes, format) in [(png, ImageFormat::Png), (jpeg, ImageFormat::Jpeg)] {
            assert!(decode(&bytes, format, Path::new("whole")).is_ok());
            // Trailing bytes after the end marker are allowed.
            let mut longer = bytes.clone();
            longer.extend_from_slice(b"trailing");
            assert!(decode(&longer, format, Path::new("longer")).is_ok(), "{format:?}");
            for cut in [bytes.len() - 1, bytes.len() - 4, bytes.len() / 2] {
                let e = decode_err(&bytes[..cut], format);
                assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
                assert!(e.to_string().contains("truncated"), "{format:?} cut to {cut}: {e}");
            }
        }
    }

    #[test]
    fn jpeg_markers_are_walked() {
        // SOI, a comment holding what looks like EOI, then EOI: whole, and only through the
        // comment's length is the real EOI reached.
        let file = [0xFF, 0xD8, 0xFF, 0xFE, 0x00, 0x04, 0xFF, 0xD9, 0xFF, 0xD9];
        assert!(jpeg_whole(&file).is_ok());
        assert!(jpeg_whole(&file[..8]).is_err());
        // In a scan, stuffed 0xFF 0x00 and restart markers are data; fill bytes precede EOI.
        let scan = [0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 1, 0xFF, 0x00, 2, 0xFF, 0xD3, 3, 0xFF];
        assert!(jpeg_whole(&scan).is_err());
        assert!(jpeg_whole(&[&scan[..], &[0xFF, 0xD9]].concat()).is_ok());
    }
}

thread_local! {
    /// Whether this thread is inside [`contained`]: its panics are reported as errors.
    static CONTAINED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs a third-party decoder that may panic on malformed input (zune-jpeg 0.5 unwraps inside
/// its IDCT on some corrupt JPEGs, found by the `image` fuzz target) and turns a panic into an
/// error, without the panic message on stderr: the panic hook stays silent for this thread
/// while it runs, and every other panic reaches the previous hook as before.
fn contained<T>(decode: impl FnOnce() -> T) -> Result<T, String> {
    static QUIET_HOOK: std::sync::Once = std::sync::Once::new();
    QUIET_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !CONTAINED.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    CONTAINED.with(|c| c.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(decode));
    CONTAINED.with(|c| c.set(false));
    result.map_err(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "the decoder failed".into());
        format!("malformed data (the decoder gave up: {what})")
    })
}
