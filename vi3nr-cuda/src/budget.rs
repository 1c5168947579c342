//! `--budget BYTES` / `--bpp X`: the network and number format whose whole `.vi3` file (header,
//! tables, weights, CRC) fits a byte budget, chosen by short trial fits.
//!
//! Candidates: 2, 3 and 4 hidden layers of equal width, in i8 and in q15, each at the widest
//! width whose file fits ([`file_bytes`], computed by vi3nr-core's writer itself, so the
//! choice can never exceed the budget). Each candidate trains for a short trial
//! ([`trial_steps`]: a sixteenth of the fit, at least 30 steps) from the VI3NR plan with the
//! activation's recommended first-layer spread, through the quantiser of its format for the
//! whole trial (quantisation-aware), and the best PSNR of the quantised network wins. The fit
//! itself then runs the default recipe (the σ_p search and the rest) on the winner.

use std::time::Instant;

use serde_json::{Value, json};
use vi3nr_core::Act;
use vi3nr_core::init::{FirstSigma, InputStats};
use vi3nr_core::model::{self, LayerSpec, ModelSpec, NumberFormat};

use crate::mlp::net_widths;
use crate::render::psnr;
use crate::schemes::Vi3nrOptions;
use crate::signal::{Layout, Signal};
use crate::stop::Stop;
use crate::train::{Adam, Backend, Batch, CpuBackend, Training};

/// How a budget is given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Budget {
    /// Bytes of the whole `.vi3` file.
    Bytes(usize),
    /// Bits per pixel of an image: `⌊bpp · pixels / 8⌋` bytes.
    Bpp(f64),
}

impl Budget {
    /// The largest byte budget accepted (1 GiB).
    pub const MAX_BYTES: usize = 1 << 30;
    /// The largest budget in bits per pixel accepted.
    pub const MAX_BPP: f64 = 64.0;

    /// `self` when in range — 1 to [`Budget::MAX_BYTES`] bytes, or a finite bpp in
    /// (0, [`Budget::MAX_BPP`]] — else what is wrong.
    pub fn check(self) -> Result<Self, String> {
        match self {
            Budget::Bytes(n) if (1..=Self::MAX_BYTES).contains(&n) => Ok(self),
            Budget::Bpp(b) if b.is_finite() && b > 0.0 && b <= Self::MAX_BPP => Ok(self),
            Budget::Bytes(n) => {
                Err(format!("budget: expected 1 to {} bytes, got {n}", Self::MAX_BYTES))
            }
            Budget::Bpp(b) => {
                Err(format!("bpp: expected bits per pixel in (0, {}], got {b}", Self::MAX_BPP))
            }
        }
    }

    /// The budget in bytes for a signal of `points` samples (`image`: whether it is an image,
    /// which `--bpp` needs).
    pub fn bytes(self, points: usize, image: bool) -> Result<usize, String> {
        match self {
            Budget::Bytes(n) => Ok(n),
            Budget::Bpp(_) if !image => Err("--bpp applies to images; use --budget BYTES".into()),
            Budget::Bpp(bpp) => Ok((bpp * points as f64 / 8.0).floor() as usize),
        }
    }
}

/// Hidden-layer counts the candidates take.
pub const DEPTHS: [usize; 3] = [2, 3, 4];
/// Number formats the candidates take (f32 and f16 carry 2–4× the bytes per weight).
pub const FORMATS: [NumberFormat; 2] = [NumberFormat::I8, NumberFormat::Q15];
/// The narrowest hidden layer a candidate may have.
pub const MIN_WIDTH: usize = 4;

/// One candidate network for a budget.
#[derive(Debug, Clone, PartialEq)]
pub struct Architecture {
    /// Hidden widths.
    pub hidden: Vec<usize>,
    /// Number format of the file.
    pub format: NumberFormat,
    /// Bytes of its `.vi3` file.
    pub bytes: usize,
}

/// Bytes of the `.vi3` file of a network of `widths` (input first) with hidden activation
/// `act` in `format`, raw coordinates: what vi3nr-core's writer will need.
pub fn file_bytes(widths: &[usize], act: Act, format: NumberFormat) -> Result<usize, String> {
    let zeros = vec![0.0f32; widths.windows(2).map(|w| w[0] * w[1]).max().unwrap_or(0)];
    let last = widths.len() - 2;
    let layers: Vec<LayerSpec<'_>> = widths
        .windows(2)
        .enumerate()
        .map(|(i, w)| LayerSpec {
            fan_in: w[0],
            fan_out: w[1],
            act: (i != last).then_some(act),
            weights: &zeros[..w[0] * w[1]],
            bias: &zeros[..w[1]],
        })
        .collect();
    let affine = vec![[1.0f32, 0.0]; widths[widths.len() - 1]];
    let spec =
        ModelSpec { format, in_dim: widths[0], fourier: &[], affine: &affine, layers: &layers };
    model::encoded_len(&spec).map_err(|e| e.to_string())
}

/// The widest equal-width candidate of every depth and format that fits `budget` bytes, for
/// `in_dim` coordinates and `out_dim` outputs; an error naming the smallest file when none fits.
pub fn candidates(
    budget: usize,
    in_dim: usize,
    out_dim: usize,
    act: Act,
) -> Result<Vec<Architecture>, String> {
    let widths = |depth: usize, width: usize| net_widths(in_dim, &vec![width; depth], out_dim);
    let mut found = Vec::new();
    for format in FORMATS {
        for depth in DEPTHS {
            let size = |width: usize| file_bytes(&widths(depth, width), act, format);
            if size(MIN_WIDTH)? > budget {
                continue;
            }
            // The largest width that fits: sizes grow with the width.
            let (mut lo, mut hi) = (MIN_WIDTH, model::MAX_WIDTH + 1);
            while hi - lo > 1 {
                let mid = (lo + hi) / 2;
                if size(mid)? <= budget { lo = mid } else { hi = mid }
            }
            found.push(Architecture { hidden: vec![lo; depth], format, bytes: size(lo)? });
        }
    }
    if found.is_empty() {
        let smallest = file_bytes(&widths(DEPTHS[0], MIN_WIDTH), act, NumberFormat::I8)?;
        return Err(format!(
            "--budget: {budget} bytes is too small for any network: the smallest ({} hidden \
             layers of {MIN_WIDTH} in i8) needs {smallest} bytes",
            DEPTHS[0]
        ));
    }
    Ok(found)
}

/// Steps of each candidate's trial for a fit of `steps` steps.
pub fn trial_steps(steps: u64) -> u64 {
    (steps / 16).max(30)
}

/// A candidate's trial result.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    /// The candidate.
    pub arch: Architecture,
    /// PSNR of its quantised network after the trial (dB).
    pub psnr: f64,
}

/// The budget's choice and how it was made.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// The budget in bytes.
    pub budget: usize,
    /// Every candidate's trial, in [`candidates`] order.
    pub trials: Vec<Trial>,
    /// Index of the winner in `trials`.
    pub best: usize,
    /// Trial steps per candidate.
    pub steps: u64,
    /// Wall seconds of all trials.
    pub seconds: f64,
}

impl Choice {
    /// The chosen architecture.
    pub fn arch(&self) -> &Architecture {
        &self.trials[self.best].arch
    }

    /// The record for metrics.json.
    pub fn record(&self) -> Value {
        json!({
            "budget_bytes": self.budget,
            "chosen": {"hidden": self.arch().hidden, "format": self.arch().format.name(), "bytes": self.arch().bytes},
            "trial_steps": self.steps,
            "seconds": self.seconds,
            "trials": self.trials.iter().map(|t| json!({"hidden": t.arch.hidden, "format": t.arch.format.name(), "bytes": t.arch.bytes, "psnr": t.psnr})).collect::<Vec<_>>(),
        })
    }
}

/// Trains every candidate for `budget` bytes on `signal` for [`trial_steps`] (VI3NR's plan for
/// inputs with statistics `input`) and returns the best; a stop request ends it with an error.
pub fn choose(
    budget: usize,
    signal: &Signal,
    act: Act,
    training: &Training,
    input: InputStats,
    stop: &Stop,
) -> Result<Choice, String> {
    let start = Instant::now();
    let (coords, values) = (&signal.coords[..], &signal.values[..]);
    let (in_dim, out_dim) = (signal.in_dim(), signal.out_dim());
    let archs = candidates(budget, in_dim, out_dim, act)?;
    let steps = trial_steps(training.steps);
    let options = Vi3nrOptions { first_sigma: FirstSigma::Recommended, ..Vi3nrOptions::default() };
    let batch = Batch::for_signal(training.batch, coords.len() / in_dim);
    let loss = training.loss_for(matches!(signal.layout, Layout::Mesh { .. }));
    let mut trials = Vec::new();
    for arch in archs {
        let widths = net_widths(in_dim, &arch.hidden, out_dim);
        let mlp = options.init(&widths, act, training.seed, input).map_err(|e| e.to_string())?;
        let mut cpu =
            CpuBackend::new(mlp, coords, values, Adam::for_training(training), training.seed)
                .map_err(|e| e.to_string())?
                .with_loss(loss);
        cpu.set_qat(Some(arch.format)).map_err(|e| e.to_string())?;
        for _ in 0..steps {
            if stop.requested().is_some() {
                return Err("stopped during the budget's trials; nothing written".into());
            }
            cpu.step(batch).map_err(|e| e.to_string())?;
        }
        let mut out = vec![0.0f32; values.len()];
        cpu.predict(coords, &mut out).map_err(|e| e.to_string())?;
        let p = psnr(&out, values);
        trials.push(Trial { arch, psnr: if p.is_nan() { f64::NEG_INFINITY } else { p } });
    }
    let best = (0..trials.len())
        .max_by(|&a, &b| trials[a].psnr.total_cmp(&trials[b].psnr))
        .ok_or("no candidate")?;
    Ok(Choice { budget, trials, best, steps, seconds: start.elapsed().as_secs_f64() })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SINE: Act = Act::Sine { omega: 30.0 };

    #[test]
    fn candidates_are_the_widest_that_fit() {
        for budget in [600, 2_000, 4_096, 20_000] {
            let found = candidates(budget, 2, 3, SINE).unwrap();
            assert!(!found.is_empty(), "{budget}");
            for a in &found {
                let widths = net_widths(2, &a.hidden, 3);
                assert_eq!(file_bytes(&widths, SINE, a.format).unwrap(), a.bytes);
                assert!(a.bytes <= budget, "{a:?} over {budget}");
                // One more unit per layer no longer fits.
                let wider: Vec<usize> = widths
                    .iter()
                    .enumerate()
                    .map(|(i, &w)| w + usize::from(i > 0 && i < widths.len() - 1))
                    .collect();
                assert!(file_bytes(&wider, SINE, a.format).unwrap() > budget, "{a:?} at {budget}");
            }
        }
    }

    #[test]
    fn file_bytes_matches_an_export() {
        let widths = [2, 20, 20, 3];
        let mlp =
            Vi3nrOptions::default().init(&widths, SINE, 0, InputStats::uniform(-1.0, 1.0)).unwrap();
        for format in NumberFormat::ALL {
            assert_eq!(
                file_bytes(&widths, SINE, format).unwrap(),
                mlp.to_vi3(format).unwrap().bytes().len()
            );
        }
    }

    #[test]
    fn a_budget_too_small_is_an_error_that_names_the_smallest_file() {
        let e = candidates(100, 2, 3, SINE).unwrap_err();
        assert!(e.contains("too small") && e.contains("needs"), "{e}");
        assert_eq!(Budget::Bpp(0.5).bytes(1000, true).unwrap(), 62);
        assert!(Budget::Bpp(0.5).bytes(1000, false).is_err());
    }
}
