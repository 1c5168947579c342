//! Damaged signal files: real PNG, JPEG and WAV files (made here by the real encoders, plus the
//! bundled photograph), cut at every length class and with random bytes flipped.
//! `Signal::from_bytes` returns a signal that keeps its invariants or an error, never panics;
//! a file cut short is always an error, and its message names the file.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{ColorType, ImageEncoder};
use proptest::prelude::*;
use vi3nr_cuda::signal::{Layout, Signal};

/// One valid file: its bytes, where its header ends, and the name errors must carry.
struct Fixture {
    path: PathBuf,
    bytes: Vec<u8>,
    /// Bytes before the first sample: PNG signature and IHDR; JPEG up to the entropy-coded
    /// data of the first scan; WAV up to the data chunk's samples.
    header: usize,
    /// The decoded signal's values per point and number of points.
    shape: (usize, usize),
}

/// A deterministic pattern of `n` bytes.
fn pattern(n: usize, salt: usize) -> Vec<u8> {
    (0..n).map(|i| ((i * 37 + salt * 101) % 251) as u8 ^ ((i / 7) as u8)).collect()
}

fn png(w: u32, h: u32, color: ColorType) -> Vec<u8> {
    let n = (w * h) as usize * usize::from(color.bytes_per_pixel());
    let mut out = Vec::new();
    PngEncoder::new(&mut out).write_image(&pattern(n, 1), w, h, color.into()).unwrap();
    out
}

fn jpeg(w: u32, h: u32, color: ColorType) -> Vec<u8> {
    let n = (w * h) as usize * usize::from(color.channel_count());
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 80)
        .write_image(&pattern(n, 2), w, h, color.into())
        .unwrap();
    out
}

fn wav(channels: u16, bits: u16, float: bool, frames: usize) -> Vec<u8> {
    let sample_format = if float { hound::SampleFormat::Float } else { hound::SampleFormat::Int };
    let spec = hound::WavSpec { channels, sample_rate: 8000, bits_per_sample: bits, sample_format };
    let mut out = Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut out, spec).unwrap();
    for k in 0..frames * usize::from(channels) {
        let v = (k as f64 * 0.37).sin() * 0.9;
        if float {
            writer.write_sample(v as f32).unwrap();
        } else {
            writer.write_sample((v * f64::from(1u32 << (bits - 1))) as i32).unwrap();
        }
    }
    writer.finalize().unwrap();
    out.into_inner()
}

/// Where `needle` first occurs in `bytes`.
fn find(bytes: &[u8], needle: &[u8]) -> usize {
    bytes.windows(needle.len()).position(|w| w == needle).unwrap()
}

/// Where a JPEG's first scan's entropy-coded data starts: after the SOS segment.
fn jpeg_header(bytes: &[u8]) -> usize {
    let sos = find(bytes, &[0xFF, 0xDA]);
    sos + 2 + usize::from(u16::from_be_bytes([bytes[sos + 2], bytes[sos + 3]]))
}

/// Every fixture, made once.
fn fixtures() -> &'static [Fixture] {
    static FIXTURES: OnceLock<Vec<Fixture>> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        use ColorType::{L8, L16, La8, Rgb8, Rgb16, Rgba8};
        let mut files = Vec::new();
        let mut add = |name: String, bytes: Vec<u8>, header: usize, shape: (usize, usize)| {
            let path = PathBuf::from(format!("damaged/{name}"));
            files.push(Fixture { path, bytes, header, shape });
        };
        // PNG: signature (8) and the IHDR chunk (25).
        for color in [L8, La8, Rgb8, Rgba8, L16, Rgb16] {
            let out_dim = if color.has_color() { 3 } else { 1 };
            add(format!("{color:?}.png"), png(13, 7, color), 33, (out_dim, 13 * 7));
        }
        let chelsea = include_bytes!("../assets/chelsea_128.png").to_vec();
        add("chelsea_128.png".into(), chelsea, 33, (3, 128 * 85));
        for color in [L8, Rgb8] {
            let bytes = jpeg(19, 11, color);
            let header = jpeg_header(&bytes);
            let out_dim = if color.has_color() { 3 } else { 1 };
            add(format!("{color:?}.jpg"), bytes, header, (out_dim, 19 * 11));
        }
        for channels in [1, 2] {
            for (bits, float) in [(8, false), (16, false), (24, false), (32, false), (32, true)] {
                let bytes = wav(channels, bits, float, 23);
                let header = find(&bytes, b"data") + 8;
                let kind = if float { "float" } else { "int" };
                let name = format!("{channels}ch-{bits}bit-{kind}.wav");
                add(name, bytes, header, (usize::from(channels), 23));
            }
        }
        files
    })
}

/// The invariants of a decoded signal.
fn check_signal(s: &Signal, path: &Path) -> Result<(), TestCaseError> {
    let name = path.display();
    prop_assert!(!s.is_empty(), "{name}: {:?}", s.layout);
    prop_assert_eq!(s.coords.len(), s.len() * s.in_dim(), "{}", name);
    prop_assert_eq!(s.values.len(), s.len() * s.out_dim(), "{}", name);
    let unit = |v: &f32| v.is_finite() && (-1.0..=1.0).contains(v);
    prop_assert!(s.values.iter().all(unit), "{name}: a value outside [-1, 1]");
    prop_assert!(s.coords.iter().all(unit), "{name}: a coordinate outside [-1, 1]");
    Ok(())
}

/// Decodes `bytes` as `file`: a signal keeping the invariants, or an error naming the file.
fn decode(file: &Fixture, bytes: &[u8]) -> Result<Option<Signal>, TestCaseError> {
    match Signal::from_bytes(bytes, &file.path) {
        Ok(s) => {
            check_signal(&s, &file.path)?;
            Ok(Some(s))
        }
        Err(e) => {
            let msg = e.to_string();
            prop_assert!(msg.contains(&file.path.display().to_string()), "{msg}");
            prop_assert_eq!(e.path(), file.path.as_path());
            prop_assert!(!msg.contains('\n'), "{}", msg);
            Ok(None)
        }
    }
}

/// `bytes` cut to `len` must fail, naming the file.
fn assert_cut_fails(file: &Fixture, len: usize) -> Result<(), TestCaseError> {
    let r = decode(file, &file.bytes[..len])?;
    prop_assert!(
        r.is_none(),
        "{}: cut to {len} of {} bytes (header {}) decoded as {:?}",
        file.path.display(),
        file.bytes.len(),
        file.header,
        r.map(|s| s.layout)
    );
    Ok(())
}

#[test]
fn fixtures_decode_whole() {
    for file in fixtures() {
        let s = decode(file, &file.bytes).unwrap();
        let s = s.unwrap_or_else(|| panic!("{} does not decode", file.path.display()));
        let name = file.path.display();
        assert_eq!((s.out_dim(), s.len()), file.shape, "{name}");
        let audio = matches!(s.layout, Layout::Audio { .. });
        assert_eq!(audio, file.path.extension() == Some("wav".as_ref()), "{name}: {:?}", s.layout);
    }
}

#[test]
fn every_length_class_of_cut_fails() {
    for file in fixtures() {
        let (len, h) = (file.bytes.len(), file.header);
        for cut in [0, 1, h - 1, h, h + 1, (h + len) / 2, len - 1] {
            assert_cut_fails(file, cut).unwrap();
        }
    }
}

/// A fixture and a position in it.
fn fixture_and_cut() -> impl Strategy<Value = (prop::sample::Index, prop::sample::Index)> {
    (any::<prop::sample::Index>(), any::<prop::sample::Index>())
}

/// A fixture, whether to aim at the header, and up to 4 (position, XOR mask) flips.
fn flips() -> impl Strategy<Value = (prop::sample::Index, bool, Vec<(prop::sample::Index, u8)>)> {
    (
        any::<prop::sample::Index>(),
        any::<bool>(),
        prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..=4),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn random_cuts_fail((file, cut) in fixture_and_cut()) {
        let file = file.get(fixtures());
        assert_cut_fails(file, cut.index(file.bytes.len()))?;
    }

    #[test]
    fn flipped_bytes_never_panic((file, header, flips) in flips()) {
        let file = file.get(fixtures());
        let limit = if header { file.header + 1 } else { file.bytes.len() };
        let mut bytes = file.bytes.clone();
        for (at, mask) in &flips {
            bytes[at.index(limit)] ^= mask;
        }
        decode(file, &bytes)?;
    }

    #[test]
    fn flipped_bits_then_cut_never_panic(
        (file, cut) in fixture_and_cut(),
        bits in prop::collection::vec(any::<prop::sample::Index>(), 1..=8),
    ) {
        let file = file.get(fixtures());
        let mut bytes = file.bytes.clone();
        for bit in &bits {
            let at = bit.index(bytes.len() * 8);
            bytes[at / 8] ^= 1 << (at % 8);
        }
        bytes.truncate(cut.index(bytes.len() + 1));
        decode(file, &bytes)?;
    }
}

/// A corrupt JPEG on which the `image` crate's decoder (zune-jpeg 0.5) panics inside its IDCT
/// (found by the `image` fuzz target): an error naming the file, not a panic.
#[test]
fn a_jpeg_that_panics_the_decoder_is_an_error() {
    let bytes = include_bytes!("data/jpeg-idct-panic.jpg");
    let path = std::path::Path::new("jpeg-idct-panic.jpg");
    let err = vi3nr_cuda::signal::Signal::from_bytes(bytes, path).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("jpeg-idct-panic.jpg: cannot decode JPEG"), "{text}");
    assert!(!text.contains('\n'), "{text}");
}
