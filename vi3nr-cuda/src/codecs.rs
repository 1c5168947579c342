//! The image codecs `vi3nr rd` measures a model file against, through their real encoders:
//! baseline JPEG from the `image` crate (its encoder's defaults) and lossy WebP from libwebp (the
//! `webp` crate: libwebp's default method 4), each at the largest quality whose file fits a
//! byte budget, decoded again and measured as 8-bit RGB.

use image::codecs::jpeg::JpegEncoder;
use image::{ExtendedColorType, RgbImage};

/// A codec's file for one budget.
#[derive(Debug, Clone, PartialEq)]
pub struct Encoded {
    /// The encoder's quality setting (1–100 JPEG, 0–100 WebP).
    pub quality: u8,
    /// The file.
    pub bytes: Vec<u8>,
    /// The decoded image.
    pub decoded: RgbImage,
}

/// The codecs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// Baseline JPEG (`image` crate).
    Jpeg,
    /// Lossy WebP (libwebp).
    WebP,
}

impl Codec {
    /// Both codecs.
    pub const ALL: [Codec; 2] = [Codec::Jpeg, Codec::WebP];

    /// Its name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Jpeg => "jpeg",
            Codec::WebP => "webp",
        }
    }

    fn qualities(self) -> (u8, u8) {
        match self {
            Codec::Jpeg => (1, 100),
            Codec::WebP => (0, 100),
        }
    }

    /// `image` encoded at `quality` and decoded again.
    pub fn encode(self, image: &RgbImage, quality: u8) -> Result<Encoded, String> {
        let (w, h) = image.dimensions();
        let (bytes, decoded) = match self {
            Codec::Jpeg => {
                let mut bytes = Vec::new();
                JpegEncoder::new_with_quality(&mut bytes, quality)
                    .encode(image.as_raw(), w, h, ExtendedColorType::Rgb8)
                    .map_err(|e| format!("JPEG encoder: {e}"))?;
                let decoded = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg)
                    .map_err(|e| format!("JPEG decoder: {e}"))?
                    .to_rgb8();
                (bytes, decoded)
            }
            Codec::WebP => {
                let bytes =
                    webp::Encoder::from_rgb(image.as_raw(), w, h).encode(f32::from(quality));
                let bytes = bytes.to_vec();
                let img = webp::Decoder::new(&bytes)
                    .decode()
                    .ok_or("WebP decoder: cannot decode the encoder's file")?;
                let raw: Vec<u8> = match img.is_alpha() {
                    true => img.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect(),
                    false => img.to_vec(),
                };
                let decoded = RgbImage::from_raw(img.width(), img.height(), raw)
                    .ok_or("WebP decoder: the decoded buffer has the wrong size")?;
                (bytes, decoded)
            }
        };
        if decoded.dimensions() != (w, h) {
            return Err(format!("{}: the decoded image has another size", self.name()));
        }
        Ok(Encoded { quality, bytes, decoded })
    }

    /// The file at the largest quality that fits `budget` bytes (sizes grow with the quality,
    /// so a bisection finds it; the answer is checked), or `None` when even the lowest
    /// quality is larger.
    pub fn at_most(self, image: &RgbImage, budget: usize) -> Result<Option<Encoded>, String> {
        let (lo, hi) = self.qualities();
        let fits = |q: u8| -> Result<Option<Encoded>, String> {
            let e = self.encode(image, q)?;
            Ok((e.bytes.len() <= budget).then_some(e))
        };
        let Some(mut best) = fits(lo)? else { return Ok(None) };
        let (mut a, mut b) = (lo, hi + 1); // best fits at a; b is the first known not to
        while b - a > 1 {
            let mid = a + (b - a) / 2;
            match fits(mid)? {
                Some(e) => {
                    best = e;
                    a = mid;
                }
                None => b = mid,
            }
        }
        Ok(Some(best))
    }
}

/// PSNR in dB of two 8-bit images of the same size over every channel value (peak 255).
pub fn psnr_u8(a: &[u8], b: &[u8]) -> f64 {
    let n = a.len().min(b.len()).max(1);
    let se: f64 = a.iter().zip(b).map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2)).sum();
    if se == 0.0 { f64::INFINITY } else { 10.0 * (255.0f64 * 255.0 * n as f64 / se).log10() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture() -> RgbImage {
        RgbImage::from_fn(96, 64, |x, y| {
            let v = |k: f32| ((x as f32 * k).sin() * 60.0 + y as f32 * 2.0 + 40.0) as u8;
            image::Rgb([v(0.21), v(0.13), v(0.05)])
        })
    }

    #[test]
    fn the_largest_quality_that_fits_is_found() {
        let img = picture();
        for codec in Codec::ALL {
            let full = codec.encode(&img, 90).unwrap().bytes.len();
            let budget = full * 2 / 3;
            let e = codec.at_most(&img, budget).unwrap().expect("fits at some quality");
            assert!(e.bytes.len() <= budget, "{codec:?}");
            if e.quality < 100 {
                let next = codec.encode(&img, e.quality + 1).unwrap().bytes.len();
                assert!(next > budget, "{codec:?}: quality {} also fits", e.quality + 1);
            }
            let p = psnr_u8(img.as_raw(), e.decoded.as_raw());
            assert!(p > 20.0 && p.is_finite(), "{codec:?}: {p} dB");
            assert!(codec.at_most(&img, 10).unwrap().is_none(), "{codec:?}: 10 bytes");
        }
    }

    #[test]
    fn psnr_of_one_step_everywhere() {
        let a = [10u8; 300];
        let b = [11u8; 300];
        assert!((psnr_u8(&a, &b) - 20.0 * 255f64.log10()).abs() < 1e-9);
        assert_eq!(psnr_u8(&a, &a), f64::INFINITY);
    }
}
