//! Signals: loading, rendering, PSNR and the curves report.

use std::path::{Path, PathBuf};

use vi3nr_cuda::curves::{Curves, write_curves_png};
use vi3nr_cuda::export::atomic_write;
use vi3nr_cuda::render::psnr;
use vi3nr_cuda::signal::{ErrorKind, Layout, Signal, write_rendered};

/// A fresh temporary directory.
fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Asserts that loading `path` fails with a message naming the path.
fn assert_load_fails(path: &Path, kind: ErrorKind) -> String {
    let err = Signal::load(path).expect_err("loading should fail");
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert_eq!(err.kind(), kind, "{msg}");
    assert_eq!(err.path(), path);
    assert!(!msg.contains('\n'), "{msg}");
    msg
}

/// Writes a WAV file with hound.
fn write_wav(path: &Path, spec: hound::WavSpec, samples: &[i32]) {
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
}

/// Deterministic test samples in [-1, 1).
fn wave(n: usize, seed: f64) -> Vec<f64> {
    (0..n).map(|k| (k as f64 * 0.37 + seed).sin() * 0.9).collect()
}

#[test]
fn bundled_image() {
    let s = Signal::bundled();
    let Layout::Image { width, height, channels } = s.layout else { panic!("{:?}", s.layout) };
    assert_eq!((width, height, channels), (128, 85, 3));
    assert_eq!(s.layout.describe(), "128×85 RGB image");
    assert_eq!((s.in_dim(), s.out_dim(), s.len()), (2, 3, 128 * 85));
    assert!(!s.is_empty());
    assert_eq!(s.coords.len(), s.len() * 2);
    assert_eq!(s.values.len(), s.len() * 3);
    assert!(s.values.iter().all(|v| (-1.0..=1.0).contains(v)));
    // Not a flat image.
    let (lo, hi) = s.values.iter().fold((1f32, -1f32), |(a, b), &v| (a.min(v), b.max(v)));
    assert!(hi - lo > 1.0, "{lo}..{hi}");
    // Grid: first point (-1, -1), second (x step, -1), last (1, 1), row-major.
    assert_eq!(&s.coords[..2], &[-1.0, -1.0]);
    assert!((s.coords[2] - (-1.0 + 2.0 / 127.0)).abs() < 1e-6);
    assert_eq!(s.coords[3], -1.0);
    assert_eq!(s.coords[128 * 2 + 1], (-1.0 + 2.0 / 84.0) as f32);
    assert_eq!(&s.coords[s.coords.len() - 2..], &[1.0, 1.0]);
}

#[test]
fn layout_grid_and_description() {
    let one = Layout::Image { width: 1, height: 3, channels: 1 };
    assert_eq!(one.coords(), vec![0.0, -1.0, 0.0, 0.0, 0.0, 1.0]);
    assert_eq!(one.describe(), "1×3 grey image");
    let audio = Layout::Audio { sample_rate: 44100, channels: 2, frames: 88200 };
    assert_eq!(audio.describe(), "44100 Hz stereo audio, 2.0 s");
    assert_eq!((audio.in_dim(), audio.out_dim(), audio.points()), (1, 2, 88200));
    let t = Layout::Audio { sample_rate: 8000, channels: 1, frames: 5 }.coords();
    assert_eq!(t, vec![-1.0, -0.5, 0.0, 0.5, 1.0]);
    assert_eq!(Layout::Audio { sample_rate: 8000, channels: 1, frames: 1 }.coords(), vec![0.0]);
    let short = Layout::Audio { sample_rate: 48000, channels: 6, frames: 480 };
    assert_eq!(short.describe(), "48000 Hz 6-channel audio, 10.0 ms");
}

#[test]
fn png_round_trip_rgb_and_grey() {
    let dir = tmp();
    for channels in [3u8, 1] {
        let layout = Layout::Image { width: 7, height: 5, channels };
        let values: Vec<f32> = wave(layout.points() * usize::from(channels), 0.3)
            .into_iter()
            .map(|v| v as f32 * 1.2) // some values out of range: clamped
            .collect();
        let path = dir.path().join(format!("r{channels}.png"));
        write_rendered(&layout, &values, &path).unwrap();
        let back = Signal::load(&path).unwrap();
        assert_eq!(back.layout, layout);
        assert_eq!(back.out_dim(), usize::from(channels));
        assert_eq!(back.coords, layout.coords());
        for (a, b) in values.iter().zip(&back.values) {
            assert!((a.clamp(-1.0, 1.0) - b).abs() <= 1.0 / 255.0 + 1e-6, "{a} {b}");
        }
    }
    // No temporary files left behind.
    let names: Vec<_> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn grey_png_has_one_channel() {
    let dir = tmp();
    let path = dir.path().join("grey.png");
    let img = image::GrayImage::from_fn(4, 3, |x, y| image::Luma([(x * 60 + y) as u8]));
    img.save(&path).unwrap();
    let s = Signal::load(&path).unwrap();
    assert_eq!(s.layout, Layout::Image { width: 4, height: 3, channels: 1 });
    assert_eq!(s.out_dim(), 1);
    assert_eq!(s.values[0], -1.0);
    assert!((s.values[1] - (2.0 * 60.0 / 255.0 - 1.0)).abs() < 1e-6);
}

#[test]
fn sixteen_bit_and_alpha_pngs() {
    let dir = tmp();
    let path = dir.path().join("la16.png");
    let img = image::ImageBuffer::<image::LumaA<u16>, _>::from_fn(3, 2, |x, _| {
        image::LumaA([if x == 0 { 0 } else { 65535 }, 1234])
    });
    img.save(&path).unwrap();
    let s = Signal::load(&path).unwrap();
    assert_eq!(s.layout, Layout::Image { width: 3, height: 2, channels: 1 });
    assert_eq!(&s.values[..3], &[-1.0, 1.0, 1.0]);

    let path = dir.path().join("rgba16.png");
    let img = image::ImageBuffer::<image::Rgba<u16>, _>::from_pixel(
        2,
        2,
        image::Rgba([0, 32768, 65535, 0]),
    );
    img.save(&path).unwrap();
    let s = Signal::load(&path).unwrap();
    assert_eq!(s.layout, Layout::Image { width: 2, height: 2, channels: 3 });
    assert_eq!(s.values[0], -1.0);
    assert!(s.values[1].abs() < 1e-4);
    assert_eq!(s.values[2], 1.0);
}

#[test]
fn jpeg_by_content_not_name() {
    let dir = tmp();
    let path = dir.path().join("photo.dat");
    let img = image::RgbImage::from_pixel(8, 8, image::Rgb([200, 100, 50]));
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 95).encode_image(&img).unwrap();
    std::fs::write(&path, &jpeg).unwrap();
    let s = Signal::load(&path).unwrap();
    assert_eq!(s.layout, Layout::Image { width: 8, height: 8, channels: 3 });
    assert!((s.values[0] - (2.0 * 200.0 / 255.0 - 1.0)).abs() < 0.05, "{}", s.values[0]);
}

#[test]
fn wav_round_trip_mono_and_stereo() {
    let dir = tmp();
    for channels in [1u16, 2] {
        let frames = 1000;
        let spec = hound::WavSpec {
            channels,
            sample_rate: 16000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let samples: Vec<i32> = wave(frames * usize::from(channels), f64::from(channels))
            .iter()
            .map(|v| (v * 32767.0).round() as i32)
            .collect();
        let path = dir.path().join(format!("in{channels}.wav"));
        write_wav(&path, spec, &samples);
        let s = Signal::load(&path).unwrap();
        assert_eq!(s.layout, Layout::Audio { sample_rate: 16000, channels, frames: 1000 });
        assert_eq!((s.in_dim(), s.out_dim(), s.len()), (1, usize::from(channels), 1000));
        assert_eq!(s.coords.first(), Some(&-1.0));
        assert_eq!(s.coords.last(), Some(&1.0));
        for (&x, &v) in samples.iter().zip(&s.values) {
            assert_eq!(v, x as f32 / 32768.0);
        }
        // Render it back and load again.
        let out = dir.path().join(format!("out{channels}.wav"));
        write_rendered(&s.layout, &s.values, &out).unwrap();
        let back = Signal::load(&out).unwrap();
        assert_eq!(back.layout, s.layout);
        for (a, b) in s.values.iter().zip(&back.values) {
            assert!((a - b).abs() <= 2.0 / 32768.0, "{a} {b}");
        }
        let spec = hound::WavReader::open(&out).unwrap().spec();
        assert_eq!((spec.bits_per_sample, spec.sample_rate, spec.channels), (16, 16000, channels));
    }
}

#[test]
fn wav_bit_depths_and_float() {
    let dir = tmp();
    for bits in [8u16, 24, 32] {
        let spec = hound::WavSpec {
            channels: 3,
            sample_rate: 8000,
            bits_per_sample: bits,
            sample_format: hound::SampleFormat::Int,
        };
        let full = 1i64 << (bits - 1);
        let samples = [-full as i32, 0, (full - 1) as i32, (full / 2) as i32, 1, -1];
        let path = dir.path().join(format!("b{bits}.wav"));
        write_wav(&path, spec, &samples);
        let s = Signal::load(&path).unwrap();
        assert_eq!(s.layout, Layout::Audio { sample_rate: 8000, channels: 3, frames: 2 });
        assert_eq!(s.values[0], -1.0);
        assert_eq!(s.values[1], 0.0);
        assert!(s.values[2] <= 1.0 && s.values[2] > 0.99, "{}", s.values[2]);
        assert_eq!(s.values[3], 0.5);
    }
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 22050,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let path = dir.path().join("f32.wav");
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    for v in [0.25f32, -2.0, 3.0, -0.5] {
        w.write_sample(v).unwrap();
    }
    w.finalize().unwrap();
    let s = Signal::load(&path).unwrap();
    assert_eq!(s.values, vec![0.25, -1.0, 1.0, -0.5]);

    let path = dir.path().join("nan.wav");
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    w.write_sample(f32::NAN).unwrap();
    w.finalize().unwrap();
    let msg = assert_load_fails(&path, ErrorKind::Corrupt);
    assert!(msg.contains("NaN"), "{msg}");
}

#[test]
fn bad_files_are_errors_naming_the_path() {
    let dir = tmp();
    let d = dir.path();

    let missing = d.join("missing.png");
    let msg = assert_load_fails(&missing, ErrorKind::Io);
    assert!(msg.contains("cannot read"), "{msg}");

    let empty = d.join("empty.png");
    std::fs::write(&empty, b"").unwrap();
    assert!(assert_load_fails(&empty, ErrorKind::Empty).contains("empty"));

    let text = d.join("notes.png");
    std::fs::write(&text, b"hello, this is not an image").unwrap();
    let msg = assert_load_fails(&text, ErrorKind::Unsupported);
    assert!(msg.contains(".png") && msg.contains("PNG, JPEG or WAV"), "{msg}");

    let unknown = d.join("data.xyz");
    std::fs::write(&unknown, [0u8, 1, 2, 3, 4, 5, 6, 7, 8, 9]).unwrap();
    assert_load_fails(&unknown, ErrorKind::Unsupported);

    let gif = d.join("anim.gif");
    std::fs::write(&gif, b"GIF89a\x01\x00\x01\x00\x00\x00\x00;").unwrap();
    let msg = assert_load_fails(&gif, ErrorKind::Unsupported);
    assert!(msg.contains("GIF"), "{msg}");

    // Truncated PNG (the bundled one, cut), and a corrupted one.
    let png = d.join("ok.png");
    write_rendered(&Signal::bundled().layout, &Signal::bundled().values, &png).unwrap();
    let bytes = std::fs::read(&png).unwrap();
    let cut = d.join("cut.png");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let msg = assert_load_fails(&cut, ErrorKind::Corrupt);
    assert!(msg.contains("PNG"), "{msg}");
    let mut bad = bytes.clone();
    for b in &mut bad[40..80] {
        *b ^= 0x5a;
    }
    let corrupt = d.join("corrupt.png");
    std::fs::write(&corrupt, &bad).unwrap();
    assert!(Signal::load(&corrupt).is_err());

    // Truncated WAV, WAV with no frames, WAV header only.
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let wav = d.join("ok.wav");
    write_wav(&wav, spec, &[1, 2, 3, 4, 5, 6, 7, 8]);
    let bytes = std::fs::read(&wav).unwrap();
    let cut = d.join("cut.wav");
    std::fs::write(&cut, &bytes[..bytes.len() - 3]).unwrap();
    let msg = assert_load_fails(&cut, ErrorKind::Corrupt);
    assert!(msg.contains("truncated"), "{msg}");
    let head = d.join("head.wav");
    std::fs::write(&head, &bytes[..20]).unwrap();
    assert_load_fails(&head, ErrorKind::Corrupt);
    let silent = d.join("silent.wav");
    write_wav(&silent, spec, &[]);
    let msg = assert_load_fails(&silent, ErrorKind::Empty);
    assert!(msg.contains("no audio frames"), "{msg}");
}

#[test]
fn byte_flips_never_panic() {
    let dir = tmp();
    let png = dir.path().join("small.png");
    let layout = Layout::Image { width: 5, height: 4, channels: 3 };
    write_rendered(&layout, &vec![0.25; 60], &png).unwrap();
    let wav = dir.path().join("small.wav");
    let audio = Layout::Audio { sample_rate: 8000, channels: 2, frames: 6 };
    write_rendered(&audio, &[0.5; 12], &wav).unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for file in [png, wav] {
        let bytes = std::fs::read(&file).unwrap();
        for _ in 0..400 {
            let mut b = bytes.clone();
            for _ in 0..1 + next() % 3 {
                let i = (next() % b.len() as u64) as usize;
                b[i] = next() as u8;
            }
            let cut = (next() % (b.len() as u64 + 1)) as usize;
            let keep = if next() % 4 == 0 { cut } else { b.len() };
            if let Ok(s) = Signal::from_bytes(&b[..keep], &file) {
                assert_eq!(s.values.len(), s.len() * s.out_dim());
                assert_eq!(s.coords.len(), s.len() * s.in_dim());
                assert!(s.values.iter().all(|v| (-1.0..=1.0).contains(v)));
            }
        }
    }
}

#[test]
fn write_rendered_rejects_mismatches_and_keeps_old_file() {
    let dir = tmp();
    let path = dir.path().join("out.png");
    let layout = Layout::Image { width: 2, height: 2, channels: 3 };
    write_rendered(&layout, &[0.0; 12], &path).unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = write_rendered(&layout, &[0.0; 11], &path).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Mismatch);
    assert!(err.to_string().contains("out.png"), "{err}");
    let two = Layout::Image { width: 2, height: 2, channels: 2 };
    assert!(write_rendered(&two, &[0.0; 8], &path).is_err());
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // A missing directory fails cleanly.
    let nowhere = dir.path().join("no/such/dir/out.png");
    let err = write_rendered(&layout, &[0.0; 12], &nowhere).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    // NaN renders as mid-grey.
    write_rendered(&layout, &[f32::NAN; 12], &path).unwrap();
    assert!(Signal::load(&path).unwrap().values.iter().all(|v| v.abs() < 0.01));
}

#[test]
fn atomic_write_replaces() {
    let dir = tmp();
    let path: PathBuf = dir.path().join("f.bin");
    atomic_write(&path, b"one").unwrap();
    atomic_write(&path, b"two!").unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"two!");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_ne!(mode & 0o044, 0, "{mode:o}: readable by others as umask allows");
    }
}

#[test]
fn psnr_formula() {
    let a: Vec<f32> = wave(1000, 0.0).into_iter().map(|v| v as f32).collect();
    assert_eq!(psnr(&a, &a), f64::INFINITY);
    // Constant error 0.02: MSE 4e-4, PSNR 10·log10(4 / 4e-4) = 40 dB.
    let b: Vec<f32> = a.iter().map(|v| v + 0.02).collect();
    assert!((psnr(&a, &b) - 40.0).abs() < 1e-3, "{}", psnr(&a, &b));
    // Alternating ±0.1 noise: MSE 0.01, PSNR 26.02 dB.
    let c: Vec<f32> =
        a.iter().enumerate().map(|(k, v)| v + if k % 2 == 0 { 0.1 } else { -0.1 }).collect();
    let expected = 10.0 * (4.0f64 / 0.01).log10();
    assert!((psnr(&a, &c) - expected).abs() < 1e-3);
    assert!((vi3nr_cuda::render::mse(&a, &c) - 0.01).abs() < 1e-6);
    // Full scale: -1 vs 1 gives MSE 4, 0 dB.
    assert_eq!(psnr(&[-1.0], &[1.0]), 0.0);
}

#[test]
fn curves_png_is_valid() {
    let dir = tmp();
    let path = dir.path().join("curves.png");
    let mut curves = Curves::default();
    for k in 0..50u64 {
        let loss = 0.3 * (-(k as f64) / 10.0).exp() + 1e-4;
        curves.push(k * 100, loss, 10.0 * (4.0 / loss).log10());
    }
    curves.push(5000, f64::NAN, f64::INFINITY); // left out of the curves
    write_curves_png(&curves, "chelsea_128.png: 128×85 RGB image", &path).unwrap();
    let img = image::open(&path).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (960, 720));
    // Something other than white was drawn, and both curve colours appear.
    let pixels: Vec<_> = img.pixels().collect();
    assert!(pixels.iter().any(|p| p.0 == [0, 0, 255]));
    assert!(pixels.iter().any(|p| p.0 == [255, 0, 0]));
    assert!(pixels.iter().filter(|p| p.0 != [255, 255, 255]).count() > 5000);

    // A single evaluation still draws; an empty or ragged set is an error.
    let one = Curves { steps: vec![0], loss: vec![0.5], psnr: vec![9.0] };
    write_curves_png(&one, "one", &path).unwrap();
    let err = write_curves_png(&Curves::default(), "none", &path).unwrap_err();
    assert!(err.to_string().contains("curves.png"), "{err}");
    let ragged = Curves { steps: vec![0, 1], loss: vec![0.5], psnr: vec![9.0, 9.5] };
    assert!(write_curves_png(&ragged, "ragged", &path).is_err());
}

/// A fuzz find (the `wav` target): 134 bytes whose count field at offset 80 says one triangle
/// of a binary STL. It decodes as a mesh, and its signed distances exceed 1 (a point in the
/// cube's far corner from a flat triangle) but stay within the cube's diagonal.
#[test]
fn one_triangle_stl_distances_stay_within_the_diagonal() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/stl-one-triangle.bin");
    let bytes = std::fs::read(&path).unwrap();
    let signal = Signal::from_bytes(&bytes, Path::new("fuzz-input")).unwrap();
    assert!(matches!(signal.layout, Layout::Mesh { triangles: 1, .. }), "{:?}", signal.layout);
    let max = signal.values.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(max > 1.0 && max <= 2.0 * 3f32.sqrt(), "largest |distance| {max}");
    assert!(signal.coords.iter().all(|c| (-1.0..=1.0).contains(c)));
}
