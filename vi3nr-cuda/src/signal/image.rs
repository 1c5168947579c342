//! Images: PNG and JPEG in (through `image`), PNG out.
//!
//! Pixel (column i, row j) of a W×H image sits at x = −1 + 2i/(W−1), y = −1 + 2j/(H−1) (0 when
//! the dimension is 1), points row-major, coordinates `[x, y]`; each channel's value is
//! 2·v/max − 1 (max 255 or 65535). Grey and grey+alpha give one channel, RGB and RGBA three;
//! alpha is dropped.

use std::path::Path;

use image::{DynamicImage, ExtendedColorType, ImageEncoder, ImageFormat};

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
