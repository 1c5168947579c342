//! Writes the seed corpora, small valid files made by the real encoders, one folder per
//! target: `cargo +nightly run --example seeds -- corpus` fills (creating them)
//! `corpus/parse` (model files: every number format, four shapes), `corpus/image` (PNG grey,
//! grey+alpha, RGB, RGBA at 8 and 16 bits; JPEG grey and RGB at two qualities) and
//! `corpus/wav` (8/16/24/32-bit integer and 32-bit float WAV, mono, stereo and 3 channels).

use std::io::Cursor;
use std::path::Path;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder};

use vi3nr_core::Act;
use vi3nr_core::model::{self, LayerSpec, ModelSpec, NumberFormat};

/// Deterministic weights in [−0.5, 0.5).
fn values(n: usize, salt: usize) -> Vec<f32> {
    (0..n).map(|i| ((i * 7919 + salt * 104_729) % 997) as f32 / 997.0 - 0.5).collect()
}

/// in_dim, n_freq, widths (the encoded input first), activations.
type Shape<'a> = (usize, usize, &'a [usize], &'a [Option<Act>]);

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> Result {
    let root = std::env::args().nth(1).ok_or("usage: seeds DIR")?;
    let root = Path::new(&root);
    for (target, write) in
        [("parse", models as fn(&Path) -> Result), ("image", images), ("wav", wavs)]
    {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir)?;
        write(&dir)?;
    }
    Ok(())
}

/// Model files for `parse`.
fn models(dir: &Path) -> Result {
    let sine = Some(Act::Sine { omega: 30.0 });
    let wavelet = Some(Act::Wavelet { omega: 1.0, s: 1.0 });
    let shapes: [Shape<'_>; 4] = [
        (2, 0, &[2, 8, 8, 1], &[sine, sine, None]),
        (3, 0, &[3, 16, 5], &[Some(Act::Relu), None]),
        (2, 3, &[6, 8, 8, 1], &[Some(Act::Gaussian { a: 0.5 }), wavelet, None]),
        (1, 2, &[4, 4, 3], &[Some(Act::Sinc), Some(Act::Tanh)]),
    ];
    for format in NumberFormat::ALL {
        for (k, &(in_dim, n_freq, widths, acts)) in shapes.iter().enumerate() {
            let data: Vec<(Vec<f32>, Vec<f32>)> = widths
                .windows(2)
                .enumerate()
                .map(|(i, w)| (values(w[0] * w[1], 2 * i), values(w[1], 2 * i + 1)))
                .collect();
            let layers: Vec<LayerSpec<'_>> = widths
                .windows(2)
                .zip(acts)
                .zip(&data)
                .map(|((w, &act), (weights, bias))| LayerSpec {
                    fan_in: w[0],
                    fan_out: w[1],
                    act,
                    weights,
                    bias,
                })
                .collect();
            let fourier = values(n_freq * in_dim, 99);
            let affine = vec![[1.5, -0.25]; *widths.last().unwrap()];
            let spec =
                ModelSpec { format, in_dim, fourier: &fourier, affine: &affine, layers: &layers };
            let mut words = vec![0u32; model::encoded_len(&spec)?.div_ceil(4)];
            let n = model::write(&spec, bytemuck::cast_slice_mut(&mut words))?;
            let path = dir.join(format!("seed-{}-{k}.vi3", format.name()));
            std::fs::write(&path, &bytemuck::cast_slice::<u32, u8>(&words)[..n])?;
        }
    }
    Ok(())
}

/// A deterministic test pattern: `n` samples in [0, 1), a gradient with ripples.
fn pattern(n: usize, salt: usize) -> Vec<f64> {
    (0..n)
        .map(|i| (((i * 37 + salt * 11) % 101) as f64 / 101.0 + (i as f64 * 0.3).sin()) / 2.0)
        .map(|v| v.clamp(0.0, 0.999))
        .collect()
}

/// PNG and JPEG files for `image`.
fn images(dir: &Path) -> Result {
    use ExtendedColorType::{L8, L16, La8, La16, Rgb8, Rgb16, Rgba8, Rgba16};
    for (w, h) in [(7u32, 5u32), (16, 9)] {
        for color in [L8, La8, Rgb8, Rgba8, L16, La16, Rgb16, Rgba16] {
            let channels = usize::from(color.channel_count());
            let n = w as usize * h as usize * channels;
            let bytes: Vec<u8> = if color.bits_per_pixel() / u16::from(color.channel_count()) == 16
            {
                let words: Vec<u16> = pattern(n, 1).iter().map(|v| (v * 65536.0) as u16).collect();
                words.iter().flat_map(|v| v.to_be_bytes()).collect()
            } else {
                pattern(n, 2).iter().map(|v| (v * 256.0) as u8).collect()
            };
            let mut out = Vec::new();
            PngEncoder::new(&mut out).write_image(&bytes, w, h, color)?;
            std::fs::write(dir.join(format!("seed-{w}x{h}-{color:?}.png")), out)?;
        }
        for color in [L8, Rgb8] {
            let n = w as usize * h as usize * usize::from(color.channel_count());
            let bytes: Vec<u8> = pattern(n, 3).iter().map(|v| (v * 256.0) as u8).collect();
            for quality in [50, 95] {
                let mut out = Vec::new();
                JpegEncoder::new_with_quality(&mut out, quality)
                    .write_image(&bytes, w, h, color)?;
                std::fs::write(dir.join(format!("seed-{w}x{h}-{color:?}-q{quality}.jpg")), out)?;
            }
        }
    }
    Ok(())
}

/// WAV files for `wav`.
fn wavs(dir: &Path) -> Result {
    for channels in [1u16, 2, 3] {
        for (bits, float) in [(8, false), (16, false), (24, false), (32, false), (32, true)] {
            let spec = hound::WavSpec {
                channels,
                sample_rate: 8000,
                bits_per_sample: bits,
                sample_format: if float {
                    hound::SampleFormat::Float
                } else {
                    hound::SampleFormat::Int
                },
            };
            let mut out = Cursor::new(Vec::new());
            let mut writer = hound::WavWriter::new(&mut out, spec)?;
            for v in pattern(9 * usize::from(channels), usize::from(bits)) {
                let v = 2.0 * v - 1.0;
                if float {
                    writer.write_sample(v as f32)?;
                } else {
                    writer.write_sample((v * f64::from(1u32 << (bits - 1))) as i32)?;
                }
            }
            writer.finalize()?;
            let kind = if float { "float" } else { "int" };
            std::fs::write(
                dir.join(format!("seed-{channels}ch-{bits}bit-{kind}.wav")),
                out.into_inner(),
            )?;
        }
    }
    Ok(())
}
