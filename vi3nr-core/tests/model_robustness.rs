//! Robustness of the `.vi3` reader and writer: truncated, corrupted and misaligned files give
//! errors (never panics), corrupted files that still parse evaluate without panicking, and
//! write → parse round trips keep the model's shape.

use proptest::prelude::*;
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use vi3nr_core::Act;
use vi3nr_core::eval::Scratch;
use vi3nr_core::model::offset::{entry, header};
use vi3nr_core::model::{self, LayerFault, LayerSpec, Model, ModelError, ModelSpec, NumberFormat};

/// A layer with owned weights, to build [`LayerSpec`]s from.
#[derive(Debug)]
struct OwnedLayer {
    fan_in: usize,
    fan_out: usize,
    act: Option<Act>,
    weights: Vec<f32>,
    bias: Vec<f32>,
}

/// A model description with owned data.
#[derive(Debug)]
struct OwnedModel {
    format: NumberFormat,
    in_dim: usize,
    fourier: Vec<f32>,
    affine: Vec<[f32; 2]>,
    layers: Vec<OwnedLayer>,
}

impl OwnedModel {
    /// Widths `widths` (the encoded input first) with `acts` per layer; weights of magnitude in
    /// [0.25, 1] with random signs and biases in [−0.25, 0.25], from `seed` (small enough for
    /// every format's accumulator at these widths).
    fn new(
        format: NumberFormat,
        in_dim: usize,
        n_freq: usize,
        widths: &[usize],
        acts: &[Option<Act>],
        seed: u64,
    ) -> Self {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut unit = move || (rng.next_u64() >> 11) as f32 / (1u64 << 53) as f32;
        let fourier = (0..n_freq * in_dim).map(|_| 4.0 * unit() - 2.0).collect();
        let layers = widths
            .windows(2)
            .zip(acts)
            .map(|(w, &act)| {
                let (fan_in, fan_out) = (w[0], w[1]);
                let weights = (0..fan_in * fan_out)
                    .map(|_| {
                        let m = 0.25 + 0.75 * unit();
                        if unit() < 0.5 { -m } else { m }
                    })
                    .collect();
                let bias = (0..fan_out).map(|_| 0.5 * unit() - 0.25).collect();
                OwnedLayer { fan_in, fan_out, act, weights, bias }
            })
            .collect::<Vec<_>>();
        let out_dim = *widths.last().unwrap();
        let affine =
            (0..out_dim).map(|i| [1.0 + i as f32 * 0.5, 0.25 - i as f32 * 0.125]).collect();
        OwnedModel { format, in_dim, fourier, affine, layers }
    }

    fn layer_specs(&self) -> Vec<LayerSpec<'_>> {
        self.layers
            .iter()
            .map(|l| LayerSpec {
                fan_in: l.fan_in,
                fan_out: l.fan_out,
                act: l.act,
                weights: &l.weights,
                bias: &l.bias,
            })
            .collect()
    }

    /// Calls `f` with the [`ModelSpec`] of this model.
    fn with_spec<R>(&self, f: impl FnOnce(&ModelSpec<'_>) -> R) -> R {
        let layers = self.layer_specs();
        f(&ModelSpec {
            format: self.format,
            in_dim: self.in_dim,
            fourier: &self.fourier,
            affine: &self.affine,
            layers: &layers,
        })
    }
}

/// An encoded model file in 4-byte-aligned storage.
#[derive(Debug, Clone)]
struct File {
    name: String,
    words: Vec<u32>,
    len: usize,
}

impl File {
    fn bytes(&self) -> &[u8] {
        &bytemuck::cast_slice(&self.words)[..self.len]
    }
}

/// Writes `spec` into a fresh `u32`-backed buffer.
fn encode(name: &str, spec: &ModelSpec<'_>) -> File {
    let n = model::encoded_len(spec).unwrap();
    let mut words = vec![0u32; n.div_ceil(4)];
    let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
    let len = model::write(spec, bytes).unwrap();
    assert_eq!(len, n, "{name}: write and encoded_len disagree");
    File { name: name.into(), words, len }
}

fn sine(omega: f64) -> Option<Act> {
    Some(Act::sine(omega).unwrap())
}

fn gaussian(a: f64) -> Option<Act> {
    Some(Act::gaussian(a).unwrap())
}

fn wavelet(omega: f64, s: f64) -> Option<Act> {
    Some(Act::wavelet(omega, s).unwrap())
}

/// A fixture: format, in_dim, n_freq, widths (the encoded input first), activations.
type Case = (NumberFormat, usize, usize, Vec<usize>, Vec<Option<Act>>);

/// The fixture models: every format with raw and with Fourier-encoded input.
fn fixture_models() -> Vec<(String, OwnedModel)> {
    use NumberFormat::*;
    let relu = Some(Act::Relu);
    let cases: Vec<Case> = vec![
        (F32, 2, 0, vec![2, 8, 8, 1], vec![sine(30.0), sine(30.0), None]),
        (F32, 3, 4, vec![8, 16, 5], vec![wavelet(1.0, 1.0), None]),
        (F16, 3, 0, vec![3, 16, 5], vec![relu, None]),
        (F16, 2, 3, vec![6, 8, 8, 1], vec![gaussian(0.5), Some(Act::Tanh), None]),
        // Odd f16 blocks (3·3 weights: padded to 4 bytes) after the f32 first layer.
        (F16, 1, 0, vec![1, 3, 3, 1], vec![sine(30.0), sine(30.0), None]),
        (Q15, 2, 0, vec![2, 8, 8, 1], vec![sine(30.0), gaussian(0.5), None]),
        (Q15, 3, 2, vec![4, 16, 5], vec![relu, None]),
        (I8, 3, 0, vec![3, 16, 5], vec![wavelet(1.0, 1.0), None]),
        (I8, 2, 4, vec![8, 8, 8, 1], vec![Some(Act::Sigmoid), Some(Act::Sinc), None]),
    ];
    cases
        .into_iter()
        .enumerate()
        .map(|(i, (format, in_dim, n_freq, widths, acts))| {
            let name = format!(
                "{}-{}-{}",
                format.name(),
                if n_freq > 0 { "fourier" } else { "raw" },
                widths.iter().map(ToString::to_string).collect::<Vec<_>>().join("-")
            );
            (name, OwnedModel::new(format, in_dim, n_freq, &widths, &acts, 1000 + i as u64))
        })
        .collect()
}

fn fixtures() -> Vec<File> {
    fixture_models().iter().map(|(name, m)| m.with_spec(|spec| encode(name, spec))).collect()
}

/// Rewrites the CRC in the last four bytes so that the structural checks are reached.
fn fix_crc(bytes: &mut [u8]) {
    let body = bytes.len() - 4;
    let crc = model::crc32(&bytes[..body]);
    bytes[body..].copy_from_slice(&crc.to_le_bytes());
}

/// Evaluates a few points in [−1, 1] through every entry point; none may panic. The evaluator
/// of the model's own arithmetic must succeed when the scratch is large enough.
fn eval_points(model: &Model<'_>) {
    let mut scratch = Scratch::<64>::new();
    let mut float = vec![0.0f32; model.scratch_len()];
    let mut fixed = vec![0i32; model.scratch_len()];
    let mut out = vec![0.0f32; model.out_dim];
    let floating = matches!(model.format, NumberFormat::F32 | NumberFormat::F16);
    for p in [-1.0f32, -0.37, 0.0, 0.5, 1.0] {
        let x: Vec<f32> = (0..model.in_dim).map(|i| if i % 2 == 0 { p } else { -p }).collect();
        let fits = model.max_width() <= 64;
        let r = model.eval(&x, &mut out, &mut scratch);
        if !fits {
            assert!(matches!(r, Err(ModelError::BufferLength(_))), "{r:?}");
        }
        let f = model.eval_f32(&x, &mut out, &mut float);
        let q = model.eval_fixed(&x, &mut out, &mut fixed);
        let (own, other) = if floating { (f, q) } else { (q, f) };
        assert_eq!(
            other,
            Err(ModelError::WrongEvaluator(model.format)),
            "evaluated a {} model with the other arithmetic",
            model.format.name()
        );
        // The own arithmetic can still fail on a parsed model (a wavelet whose constants are
        // out of the fixed-point range), but only with an error.
        let _ = own;
    }
}

/// The byte offset where the weight blocks start (end of the header region).
fn payload_at(bytes: &[u8]) -> usize {
    let u16_at = |at: usize| usize::from(u16::from_le_bytes([bytes[at], bytes[at + 1]]));
    let layers = usize::from(bytes[header::LAYERS]);
    let (in_dim, n_freq) = (u16_at(header::IN_DIM), u16_at(header::N_FREQ));
    let out_dim = u16_at(model::HEADER_BYTES + (layers - 1) * model::LAYER_BYTES + entry::FAN_OUT);
    (model::HEADER_BYTES + layers * model::LAYER_BYTES + 4 * n_freq * in_dim + 8 * out_dim)
        .next_multiple_of(16)
}

#[test]
fn fixtures_parse_and_evaluate() {
    for file in fixtures() {
        let model = Model::parse(file.bytes()).unwrap_or_else(|e| panic!("{}: {e}", file.name));
        assert_eq!(model.file_bytes, file.len);
        assert_eq!(model.crc, model::crc32(&file.bytes()[..file.len - 4]));
        eval_points(&model);
        // The model's own arithmetic succeeds and gives finite outputs.
        let mut out = vec![0.0f32; model.out_dim];
        let x = vec![0.25f32; model.in_dim];
        model.eval(&x, &mut out, &mut Scratch::<64>::new()).unwrap();
        assert!(out.iter().all(|y| y.is_finite()), "{}: {out:?}", file.name);
    }
}

#[test]
fn every_truncation_is_an_error() {
    for file in fixtures() {
        let bytes = file.bytes();
        for len in 0..bytes.len() {
            let r = Model::parse(&bytes[..len]);
            match r {
                Err(ModelError::Truncated) => assert!(len < model::HEADER_BYTES),
                Err(ModelError::Length { declared, actual }) => {
                    assert_eq!((declared as usize, actual as usize), (bytes.len(), len));
                }
                other => panic!("{}: truncated to {len}: {other:?}", file.name),
            }
        }
        assert!(Model::parse(bytes).is_ok(), "{}", file.name);
    }
}

#[test]
fn truncation_with_a_consistent_header_is_an_error() {
    // Declared length and CRC rewritten to match the shorter file: the layer table, header
    // region or weight blocks must be found short.
    for file in fixtures() {
        for len in (model::HEADER_BYTES + 4..file.len).step_by(4) {
            let mut words = file.words[..len / 4].to_vec();
            let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
            bytes[header::FILE_LEN..header::FILE_LEN + 4]
                .copy_from_slice(&(len as u32).to_le_bytes());
            fix_crc(bytes);
            let r = Model::parse(bytes);
            assert!(r.is_err(), "{}: truncated to {len} parsed", file.name);
        }
    }
}

#[test]
fn header_and_table_bytes_flipped_with_the_crc_fixed_never_panic() {
    // Exhaustive over the header region (header, layer table, frequencies, affine map) and the
    // first weight bytes, for a few masks.
    let mut parsed = 0;
    for file in fixtures() {
        let end = (payload_at(file.bytes()) + 16).min(file.len - 4);
        for at in 0..end {
            for mask in [0x01u8, 0x02, 0x10, 0x80, 0xFF] {
                let mut words = file.words.clone();
                let bytes = &mut bytemuck::cast_slice_mut::<u32, u8>(&mut words)[..file.len];
                bytes[at] ^= mask;
                let passed = Model::parse(bytes).is_ok();
                assert!(!passed, "{}: flip {mask:#04x} at {at} passed the CRC", file.name);
                fix_crc(bytes);
                if let Ok(model) = Model::parse(bytes) {
                    parsed += 1;
                    eval_points(&model);
                }
            }
        }
    }
    // Flips of weights, frequencies and affine values parse; the rest must be rejected.
    assert!(parsed > 0);
}

#[test]
fn misaligned_buffer_is_rejected() {
    for file in fixtures() {
        let mut words = vec![0u32; file.words.len() + 1];
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
        bytes[1..file.len + 1].copy_from_slice(file.bytes());
        assert_eq!(
            Model::parse(&bytes[1..file.len + 1]),
            Err(ModelError::Misaligned),
            "{}",
            file.name
        );
        // The same bytes aligned again parse.
        bytes.copy_within(1..file.len + 1, 0);
        assert!(Model::parse(&bytes[..file.len]).is_ok(), "{}", file.name);
    }
}

#[test]
fn round_trip_keeps_the_shape() {
    for (name, owned) in fixture_models() {
        let file = owned.with_spec(|spec| encode(&name, spec));
        let model = Model::parse(file.bytes()).unwrap();
        check_round_trip(&owned, &model).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// Compares a parsed model with what was written; `Err` names the first difference.
fn check_round_trip(owned: &OwnedModel, model: &Model<'_>) -> Result<(), String> {
    let out_dim = owned.layers.last().unwrap().fan_out;
    let same = |what: &str, ok: bool| if ok { Ok(()) } else { Err(format!("{what} differs")) };
    same("format", model.format == owned.format)?;
    same("in_dim", model.in_dim == owned.in_dim)?;
    same("out_dim", model.out_dim == out_dim)?;
    same("Fourier frequencies", model.fourier == owned.fourier.as_slice())?;
    same("n_freq", model.n_freq() == owned.fourier.len() / owned.in_dim)?;
    same("affine map", model.affine == owned.affine.as_slice())?;
    same("layer count", model.layers.len() == owned.layers.len())?;
    for (i, (got, want)) in model.layers.iter().zip(&owned.layers).enumerate() {
        same(
            &format!("layer {i} widths"),
            (got.fan_in, got.fan_out) == (want.fan_in, want.fan_out),
        )?;
        same(&format!("layer {i} activation"), got.act == want.act)?;
        // An f16 model keeps its first layer in f32 (FORMAT.md).
        let f32_layer =
            owned.format == NumberFormat::F32 || (owned.format == NumberFormat::F16 && i == 0);
        match got.weights {
            model::Weights::F32 { w, b } => same(
                &format!("layer {i} f32 weights"),
                f32_layer && w == want.weights.as_slice() && b == want.bias.as_slice(),
            )?,
            model::Weights::F16 { w, b } => same(
                &format!("layer {i} f16 weights"),
                owned.format == NumberFormat::F16
                    && i > 0
                    && w.iter().zip(&want.weights).all(|(h, &x)| *h == half::f16::from_f32(x))
                    && w.len() == want.weights.len()
                    && b == want.bias.as_slice(),
            )?,
            _ => same(&format!("layer {i} number format"), !f32_layer)?,
        }
    }
    let params: usize = owned.layers.iter().map(|l| l.fan_out * (l.fan_in + 1)).sum();
    same("parameter count", model.parameter_count() == params)
}

/// A valid random model: format, input encoding, 1–4 layers of width 1–12 and activations
/// with parameters in the ranges every format can hold.
fn random_model() -> impl Strategy<Value = OwnedModel> {
    let act = prop_oneof![
        Just(None),
        Just(Some(Act::Relu)),
        Just(Some(Act::Tanh)),
        Just(Some(Act::Sigmoid)),
        Just(Some(Act::Sinc)),
        (1u32..=60).prop_map(|k| sine(f64::from(k) * 0.5)),
        (1u32..=16).prop_map(|k| gaussian(f64::from(k) * 0.125)),
        (1u32..=16, 2u32..=8).prop_map(|(w, s)| wavelet(f64::from(w) * 0.5, f64::from(s) * 0.25)),
    ];
    (
        prop::sample::select(NumberFormat::ALL.to_vec()),
        1usize..=4,
        0usize..=4,
        prop::collection::vec((1usize..=12, act), 1..=4),
        any::<u64>(),
    )
        .prop_map(|(format, in_dim, n_freq, layers, seed)| {
            let first = if n_freq > 0 { 2 * n_freq } else { in_dim };
            let widths: Vec<usize> =
                core::iter::once(first).chain(layers.iter().map(|l| l.0)).collect();
            let acts: Vec<Option<Act>> = layers.iter().map(|l| l.1).collect();
            OwnedModel::new(format, in_dim, n_freq, &widths, &acts, seed)
        })
}

/// A fixture index, and whether flips aim at the header region.
fn flips() -> impl Strategy<Value = (prop::sample::Index, bool, Vec<(prop::sample::Index, u8)>)> {
    (
        any::<prop::sample::Index>(),
        any::<bool>(),
        prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..=4),
    )
}

/// XORs the masks of `flips` into distinct positions of `bytes` below `limit`; returns the
/// positions flipped.
fn apply_flips(bytes: &mut [u8], limit: usize, flips: &[(prop::sample::Index, u8)]) -> Vec<usize> {
    let mut done = Vec::new();
    for (at, mask) in flips {
        let at = at.index(limit);
        if !done.contains(&at) {
            bytes[at] ^= mask;
            done.push(at);
        }
    }
    done
}

/// A copy of fixture `file` (a 4-byte-aligned buffer and its length) with `flips` applied in
/// the header region (`header`) or anywhere below `end` bytes from the end; returns the buffer,
/// the fixture's name and length, and the positions flipped.
fn flipped(
    file: prop::sample::Index,
    header: bool,
    flips: &[(prop::sample::Index, u8)],
    end: usize,
) -> (Vec<u32>, String, usize, Vec<usize>) {
    let files = fixtures();
    let file = file.get(&files);
    let mut words = file.words.clone();
    let bytes = &mut bytemuck::cast_slice_mut::<u32, u8>(&mut words)[..file.len];
    let limit = if header { payload_at(file.bytes()) } else { file.len - end };
    let at = apply_flips(bytes, limit, flips);
    (words, file.name.clone(), file.len, at)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn byte_flips_fail_the_crc((file, header, flips) in flips()) {
        let (words, name, len, at) = flipped(file, header, &flips, 0);
        let r = Model::parse(&bytemuck::cast_slice::<u32, u8>(&words)[..len]);
        // Magic, version and declared length are checked before the CRC.
        let early = at
            .iter()
            .any(|&a| a < header::VERSION + 2 || (header::FILE_LEN..header::FILE_LEN + 4).contains(&a));
        prop_assert!(r.is_err(), "{name}: flips at {at:?} parsed");
        if !early {
            prop_assert!(matches!(r, Err(ModelError::Crc { .. })), "{name}: {r:?}");
        }
    }

    #[test]
    fn byte_flips_with_the_crc_fixed_never_panic((file, header, flips) in flips()) {
        let (mut words, _, len, _) = flipped(file, header, &flips, 4);
        let bytes = &mut bytemuck::cast_slice_mut::<u32, u8>(&mut words)[..len];
        fix_crc(bytes);
        if let Ok(model) = Model::parse(bytes) {
            prop_assert_eq!(model.file_bytes, len);
            eval_points(&model);
        }
    }

    #[test]
    fn random_models_round_trip(owned in random_model()) {
        let file = owned.with_spec(|spec| encode("random", spec));
        let model = Model::parse(file.bytes()).unwrap();
        check_round_trip(&owned, &model).map_err(TestCaseError::fail)?;
        eval_points(&model);
        let mut out = vec![0.0f32; model.out_dim];
        model.eval(&vec![0.5; model.in_dim], &mut out, &mut Scratch::<16>::new()).unwrap();
        prop_assert!(out.iter().all(|y| y.is_finite()), "{out:?}");
    }
}

/// A small valid model for the writer's error cases.
fn small() -> OwnedModel {
    OwnedModel::new(NumberFormat::F32, 2, 0, &[2, 8, 1], &[sine(30.0), None], 7)
}

#[test]
fn writer_rejects_a_small_buffer() {
    for format in NumberFormat::ALL {
        let mut owned = small();
        owned.format = format;
        owned.with_spec(|spec| {
            let n = model::encoded_len(spec).unwrap();
            let mut words = vec![0u32; n.div_ceil(4)];
            let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut words);
            for short in [0, 1, model::HEADER_BYTES, n - 4, n - 1] {
                let r = model::write(spec, &mut bytes[..short]);
                assert_eq!(r, Err(ModelError::BufferTooSmall { needed: n as u32 }), "{short}");
            }
            assert_eq!(model::write(spec, bytes), Ok(n));
            let mut big = vec![0u32; n / 4 + 8];
            let big: &mut [u8] = bytemuck::cast_slice_mut(&mut big);
            assert_eq!(model::write(spec, big), Ok(n));
            assert_eq!(&big[..n], &bytes[..n]);
        });
    }
}

#[test]
fn writer_rejects_invalid_specs() {
    /// Encodes `owned` after `edit`: `write` must fail, and so must `encoded_len` unless the
    /// fault only shows when quantising (`late`).
    fn check(what: &str, late: bool, edit: impl FnOnce(&mut OwnedModel)) {
        let mut owned = small();
        edit(&mut owned);
        owned.with_spec(|spec| {
            let len = model::encoded_len(spec);
            assert!(late || len.is_err(), "{what}: encoded_len {len:?}");
            let mut words = vec![0u32; 1024];
            let r = model::write(spec, bytemuck::cast_slice_mut(&mut words));
            assert!(
                matches!(r, Err(ModelError::Header(_) | ModelError::Layer { .. })),
                "{what}: {r:?}"
            );
        });
    }
    let rejected = |what: &str, edit: fn(&mut OwnedModel)| check(what, false, edit);
    let late = |what: &str, edit: fn(&mut OwnedModel)| check(what, true, edit);
    rejected("short weights", |m| {
        m.layers[0].weights.pop();
    });
    rejected("long weights", |m| m.layers[1].weights.push(0.5));
    rejected("short bias", |m| {
        m.layers[0].bias.pop();
    });
    rejected("NaN weight", |m| m.layers[0].weights[3] = f32::NAN);
    rejected("infinite bias", |m| m.layers[1].bias[0] = f32::INFINITY);
    rejected("NaN affine", |m| m.affine[0][1] = f32::NAN);
    rejected("NaN frequency", |m| {
        m.fourier = vec![f32::NAN, 1.0];
        m.layers[0].fan_in = 2;
    });
    rejected("frequencies not rows of in_dim", |m| m.fourier = vec![1.0, 2.0, 3.0]);
    rejected("fan-in chain", |m| {
        m.layers[1].fan_in = 7;
        m.layers[1].weights.truncate(7);
    });
    rejected("input width", |m| m.in_dim = 3);
    rejected("zero input", |m| m.in_dim = 0);
    rejected("affine length", |m| m.affine.push([1.0, 0.0]));
    rejected("no layers", |m| m.layers.clear());
    rejected("too many layers", |m| {
        let last = m.layers.pop().unwrap();
        for _ in 0..model::MAX_LAYERS {
            m.layers.push(OwnedLayer {
                fan_in: 8,
                fan_out: 8,
                act: Some(Act::Relu),
                weights: vec![0.5; 64],
                bias: vec![0.0; 8],
            });
        }
        m.layers.push(last);
    });
    rejected("bad activation parameter", |m| m.layers[0].act = Some(Act::Sine { omega: -1.0 }));
    rejected("NaN activation parameter", |m| m.layers[0].act = Some(Act::Gaussian { a: f64::NAN }));
    late("f16 overflow", |m| {
        m.format = NumberFormat::F16;
        m.layers[1].weights[0] = 1.0e6;
    });
    // A bias so large that the weight scale holding it leaves the fixed-point range.
    late("q15 bias beyond any scale", |m| {
        m.format = NumberFormat::Q15;
        m.layers[1].bias[0] = 3.0e38;
    });
    late("i8 bias beyond any scale", |m| {
        m.format = NumberFormat::I8;
        m.layers[0].bias[2] = -3.0e38;
    });
    rejected("zero width", |m| {
        m.layers[0].fan_out = 0;
        m.layers[0].weights.clear();
        m.layers[0].bias.clear();
    });
}

#[test]
fn fixed_formats_refuse_what_the_fixed_evaluator_cannot_run() {
    // A wavelet whose constants do not fit the integer multipliers: written in f32, refused in
    // q15 and i8 by the writer.
    for (format, ok) in
        [(NumberFormat::F32, true), (NumberFormat::Q15, false), (NumberFormat::I8, false)]
    {
        let owned = OwnedModel::new(format, 2, 0, &[2, 4, 1], &[wavelet(1.0, 1e-12), None], 3);
        owned.with_spec(|spec| {
            let mut words = vec![0u32; 256];
            let r = model::write(spec, bytemuck::cast_slice_mut(&mut words));
            assert_eq!(r.is_ok(), ok, "{format:?}: {r:?}");
        });
    }
    // A q15 weight of −32768 (never written) is refused by the parser even with a valid CRC.
    let mut owned = small();
    owned.format = NumberFormat::Q15;
    owned.with_spec(|spec| {
        let file = encode("q15", spec);
        let mut bytes = file.bytes().to_vec();
        let w_at = payload_at(&bytes) + 4; // after the layer's f32 scale
        bytes[w_at..w_at + 2].copy_from_slice(&i16::MIN.to_le_bytes());
        fix_crc(&mut bytes);
        let aligned: Vec<u32> =
            bytes.chunks(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect();
        let err = Model::parse(&bytemuck::cast_slice(&aligned)[..bytes.len()]).unwrap_err();
        assert_eq!(err, ModelError::Layer { index: 0, what: LayerFault::Q15Min });
    });
}

/// An f16 model whose first layer is wide (weights ~300, so pre-activations of hundreds of
/// radians) keeps that layer's weights in f32 exactly and evaluates close to the f32 model;
/// with f16 first-layer weights (steps of 0.25 at 300) the sines would be off by ~0.1 rad.
#[test]
fn f16_keeps_a_wide_first_layer_in_f32() {
    let widths = [1, 16, 16, 1];
    let acts = [sine(1.0), sine(1.0), None];
    let build = |format| {
        let mut m = OwnedModel::new(format, 1, 0, &widths, &acts, 42);
        for w in &mut m.layers[0].weights {
            *w *= 300.0;
        }
        for l in &mut m.layers[1..] {
            for w in &mut l.weights {
                *w *= 0.25;
            }
        }
        m
    };
    let (wide32, wide16) = (build(NumberFormat::F32), build(NumberFormat::F16));
    let f32_file = wide32.with_spec(|spec| encode("wide-f32", spec));
    let f16_file = wide16.with_spec(|spec| encode("wide-f16", spec));
    let (m32, m16) =
        (Model::parse(f32_file.bytes()).unwrap(), Model::parse(f16_file.bytes()).unwrap());
    assert_eq!(m16.format, NumberFormat::F16);
    check_round_trip(&wide16, &m16).unwrap();
    match m16.layers[0].weights {
        model::Weights::F32 { w, .. } => assert_eq!(w, wide16.layers[0].weights.as_slice()),
        other => panic!("first layer of an f16 model is not f32: {other:?}"),
    }
    assert!(matches!(m16.layers[1].weights, model::Weights::F16 { .. }));
    // f32 first layer (16·(1+1)·4 bytes), then two f16 blocks: 16·16·2 + 16·4 and 16·2 + 4.
    let payload = payload_at(f16_file.bytes());
    assert_eq!(f16_file.len, payload + 128 + (512 + 64) + (32 + 4) + 4);
    let (mut scratch, mut y32, mut y16) = (vec![0.0f32; m32.scratch_len()], [0.0f32], [0.0f32]);
    let mut worst = 0.0f32;
    for k in 0..=200 {
        let x = [k as f32 / 100.0 - 1.0];
        m32.eval_f32(&x, &mut y32, &mut scratch).unwrap();
        m16.eval_f32(&x, &mut y16, &mut scratch).unwrap();
        worst = worst.max((y32[0] - y16[0]).abs());
    }
    assert!(worst < 0.01, "f16 differs from f32 by {worst}");
}

/// A file of an older format version (version 1 laid f16 first layers out as f16) is refused
/// with a clear error, not misread.
#[test]
fn other_versions_are_refused() {
    for file in fixtures() {
        for version in [1u16, model::VERSION + 1] {
            let mut words = file.words.clone();
            let bytes = &mut bytemuck::cast_slice_mut::<u32, u8>(&mut words)[..file.len];
            bytes[header::VERSION..header::VERSION + 2].copy_from_slice(&version.to_le_bytes());
            fix_crc(bytes);
            let r = Model::parse(bytes);
            assert_eq!(r, Err(ModelError::Version(version)), "{}", file.name);
            let message = r.unwrap_err().to_string();
            assert!(message.contains("re-export"), "{message}");
        }
    }
}
