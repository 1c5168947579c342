//! `vi3nr._vi3nr`: the PyO3 extension module under the `vi3nr` Python package.
//!
//! Thin by design (STYLE.md, "Python bindings"): every function converts its arguments, calls
//! the Rust API (vi3nr-core's solver, plan and model format; vi3nr-cuda's trainer) and converts
//! the result; structured results cross as JSON text the Python side parses. Bad input raises
//! `ValueError`, file trouble `OSError`, a failed fit `RuntimeError`, each with the Rust
//! message. Fits run with the GIL released.

use std::path::PathBuf;

use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use serde_json::json;
use vi3nr_core::Act;
use vi3nr_core::init::{BiasScheme, FirstSigma, InputStats, SigmaP, Solution, SolveOptions};
use vi3nr_core::model::{Model, NumberFormat, Weights};
use vi3nr_cuda::budget::Budget;
use vi3nr_cuda::export::AlignedBytes;
use vi3nr_cuda::fitting::{self, Device, FitConfig, QatMode};
use vi3nr_cuda::init_report::{self, SigmaChoice};
use vi3nr_cuda::mlp::Mlp;
use vi3nr_cuda::schemes::{InitScheme, Scheme, Vi3nrOptions};
use vi3nr_cuda::signal::{Layout, Signal};
use vi3nr_cuda::stop::Stop;
use vi3nr_cuda::train::{Loss, LrSchedule, Schedule, Training};

fn value_error(e: impl ToString) -> PyErr {
    PyValueError::new_err(e.to_string())
}

fn activation(s: &str) -> PyResult<Act> {
    s.parse::<Act>().map_err(value_error)
}

/// `"zero"`, `"pytorch"` or a fraction ρ in [0, 1).
fn bias(s: &str) -> PyResult<BiasScheme> {
    match s {
        "zero" => Ok(BiasScheme::Zero),
        "pytorch" => Ok(BiasScheme::PyTorch),
        v => match v.parse::<f64>() {
            Ok(r) if (0.0..1.0).contains(&r) => Ok(BiasScheme::Fraction(r)),
            _ => Err(value_error(format!(
                "bias: expected 'zero', 'pytorch' or a fraction in [0, 1), got {v:?}"
            ))),
        },
    }
}

/// `None` (σ_p), `"default"` (the activation's recommendation) or a value.
fn first_sigma(s: Option<&str>) -> PyResult<FirstSigma> {
    match s {
        None => Ok(FirstSigma::SigmaP),
        Some("default") => Ok(FirstSigma::Recommended),
        Some(v) => match v.parse::<f64>() {
            Ok(x) if x.is_finite() && x > 0.0 => Ok(FirstSigma::Value(x)),
            _ => Err(value_error(format!(
                "first_sigma: expected None, 'default' or a finite number > 0, got {v:?}"
            ))),
        },
    }
}

fn input_stats(input: (f64, f64)) -> PyResult<InputStats> {
    let (mean, var) = input;
    if !(mean.is_finite() && var.is_finite() && var >= 0.0) {
        return Err(value_error(format!(
            "input: expected (mean, variance) finite with variance ≥ 0, got ({mean}, {var})"
        )));
    }
    Ok(InputStats { mean, var })
}

/// The σ_p solver's verdict for `activation` at width ratio `ratio`, as JSON.
#[pyfunction]
fn solve_sigma_p(activation: &str, ratio: f64) -> PyResult<String> {
    let act = self::activation(activation)?;
    let solution = vi3nr_core::init::solve_sigma_p(&act, ratio, &SolveOptions::default())
        .map_err(value_error)?;
    let value = match solution {
        Solution::Root { sigma_p, roots } => {
            json!({"status": "root", "sigma_p": sigma_p, "sign_changes": roots})
        }
        Solution::NoRoot { closest_sigma_p, closest_condition, limit } => json!({
            "status": "no_root",
            "sigma_p": null,
            "closest_sigma_p": closest_sigma_p,
            "closest_condition": closest_condition,
            "limit": format!("{limit:?}").to_lowercase(),
        }),
        _ => json!({"status": "any", "sigma_p": null}),
    };
    Ok(value.to_string())
}

/// The plan of `vi3nr init --json` (the same function builds both).
#[pyfunction]
#[pyo3(signature = (activation, widths, sigma_p, first_sigma, bias, input))]
fn plan(
    activation: &str,
    widths: Vec<usize>,
    sigma_p: &str,
    first_sigma: Option<&str>,
    bias: &str,
    input: (f64, f64),
) -> PyResult<String> {
    let act = self::activation(activation)?;
    let sigma: SigmaChoice = sigma_p.parse().map_err(value_error)?;
    if sigma == SigmaChoice::Search {
        return Err(value_error("sigma_p='search' trains trial networks: use it with vi3nr.fit"));
    }
    vi3nr_cuda::limits::check_network(&widths).map_err(value_error)?;
    let report = init_report::build(
        act,
        &widths,
        &[input_stats(input)?],
        sigma,
        self::bias(bias)?,
        self::first_sigma(first_sigma)?,
    )
    .map_err(value_error)?;
    Ok(report.to_json().to_string())
}

/// A parsed `.vi3` model, dequantised: `(json header, weights, biases)` where the header holds
/// format, widths, activation, fourier (flat), affine and file bytes.
type Loaded = (String, Vec<Vec<f32>>, Vec<Vec<f32>>);

/// Parses and dequantises a `.vi3` file's bytes.
#[pyfunction]
fn load_bytes(bytes: &[u8]) -> PyResult<Loaded> {
    let aligned = AlignedBytes::copy_from(bytes);
    let model = Model::parse(aligned.bytes()).map_err(value_error)?;
    let mlp = Mlp::from_model(&model).map_err(value_error)?;
    let header = json!({
        "format": model.format.name(),
        "widths": mlp.widths,
        "activation": mlp.act.to_string(),
        "in_dim": model.in_dim,
        "out_dim": model.out_dim,
        "fourier": mlp.fourier,
        "affine": mlp.affine,
        "file_bytes": model.file_bytes,
        "crc": model.crc,
    });
    Ok((header.to_string(), mlp.weights, mlp.biases))
}

/// The stored numbers of a `.vi3` file's layers, not dequantised, as JSON: per layer `kind`
/// (f32, f16, q15, i8), `w` (row-major `fan_out × fan_in`; f16 widened exactly to f32, q15
/// and i8 as integers), `b` (f32, or i32 accumulator units for q15 and i8) and `scales` (q15:
/// one, i8: one per row; `w · scale` is the weight).
#[pyfunction]
fn load_raw(bytes: &[u8]) -> PyResult<String> {
    let aligned = AlignedBytes::copy_from(bytes);
    let model = Model::parse(aligned.bytes()).map_err(value_error)?;
    let layers: Vec<_> = model
        .layers
        .iter()
        .map(|l| match l.weights {
            Weights::F32 { w, b } => json!({"kind": "f32", "w": w, "b": b, "scales": []}),
            Weights::F16 { w, b } => json!({
                "kind": "f16",
                "w": w.iter().map(|x| x.to_f32()).collect::<Vec<_>>(),
                "b": b,
                "scales": [],
            }),
            Weights::Q15 { scale, w, b, .. } => {
                json!({"kind": "q15", "w": w, "b": b, "scales": [scale]})
            }
            Weights::I8 { scales, w, b } => json!({"kind": "i8", "w": w, "b": b, "scales": scales}),
        })
        .collect();
    Ok(json!(layers).to_string())
}

/// Encodes a network as `.vi3` bytes in `precision`.
#[pyfunction]
#[pyo3(signature = (widths, activation, weights, biases, affine, fourier, precision))]
#[allow(clippy::too_many_arguments)]
fn save_bytes<'py>(
    py: Python<'py>,
    widths: Vec<usize>,
    activation: &str,
    weights: Vec<Vec<f32>>,
    biases: Vec<Vec<f32>>,
    affine: Vec<[f32; 2]>,
    fourier: Vec<f32>,
    precision: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let act = self::activation(activation)?;
    let format: NumberFormat = precision.parse().map_err(value_error)?;
    vi3nr_cuda::limits::check_network(&widths).map_err(value_error)?;
    let layers = widths.len().saturating_sub(1);
    if weights.len() != layers || biases.len() != layers {
        return Err(value_error(format!(
            "{} widths need {layers} weight matrices and bias vectors, got {} and {}",
            widths.len(),
            weights.len(),
            biases.len()
        )));
    }
    for (i, (w, b)) in weights.iter().zip(&biases).enumerate() {
        let (fan_in, fan_out) = (widths[i], widths[i + 1]);
        if w.len() != fan_in * fan_out || b.len() != fan_out {
            return Err(value_error(format!(
                "layer {i}: expected {fan_out}×{fan_in} weights and {fan_out} biases, got {} and {}",
                w.len(),
                b.len()
            )));
        }
    }
    let mut mlp = Mlp::new(&widths, act, weights, biases);
    if affine.len() == mlp.affine.len() {
        mlp.affine = affine;
    } else if !affine.is_empty() {
        return Err(value_error(format!(
            "affine: expected {} (scale, offset) pairs, got {}",
            mlp.affine.len(),
            affine.len()
        )));
    }
    mlp.fourier = fourier;
    let bytes = mlp.to_vi3(format).map_err(value_error)?;
    Ok(PyBytes::new(py, bytes.bytes()))
}

/// The training options of `vi3nr fit`, as keyword arguments.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct Options {
    activation: String,
    init: String,
    sigma_p: Option<String>,
    first_sigma: Option<String>,
    bias: String,
    hidden: Vec<usize>,
    steps: u64,
    lr: f32,
    lr_schedule: String,
    warmup: Option<u64>,
    clip_grad: Option<f32>,
    loss: Option<String>,
    batch: Option<usize>,
    seed: u64,
    device: String,
    precision: String,
    fourier: Option<(usize, f32)>,
    qat: String,
    budget: Option<usize>,
    bpp: Option<f64>,
}

fn config(o: &Options, input: Option<PathBuf>, out: PathBuf) -> PyResult<FitConfig> {
    let act = activation(&o.activation)?;
    let scheme = match o.init.as_str() {
        "vi3nr" => Scheme::Vi3nr,
        "xavier" => Scheme::Xavier,
        "pytorch" => Scheme::Pytorch,
        "siren" => Scheme::Siren,
        v => {
            return Err(value_error(format!(
                "init: expected vi3nr, xavier, pytorch or siren, got {v:?}"
            )));
        }
    };
    let choice: SigmaChoice = match (&o.sigma_p, scheme) {
        (Some(s), _) => s.parse().map_err(value_error)?,
        (None, Scheme::Vi3nr) => SigmaChoice::Search,
        (None, _) => SigmaChoice::Auto,
    };
    let kind = match o.lr_schedule.as_str() {
        "constant" => LrSchedule::Constant,
        "cosine" => LrSchedule::Cosine,
        "step" => LrSchedule::Step,
        v => {
            return Err(value_error(format!(
                "lr_schedule: expected constant, cosine or step, got {v:?}"
            )));
        }
    };
    let sigma_p = match choice {
        SigmaChoice::Auto | SigmaChoice::Search => SigmaP::Auto(None),
        SigmaChoice::Value(v) => SigmaP::Value(v),
        SigmaChoice::Grid => {
            SigmaP::Value(vi3nr_core::init::solve_grid(&act, 1.0).map_err(value_error)?.sigma_p)
        }
    };
    let options = Vi3nrOptions {
        sigma_p,
        first_sigma: first_sigma(o.first_sigma.as_deref())?,
        bias: bias(&o.bias)?,
    };
    let training = Training {
        hidden: o.hidden.clone(),
        steps: o.steps,
        lr: o.lr,
        batch: o.batch,
        seed: o.seed,
        schedule: Schedule { kind, warmup: o.warmup.unwrap_or(Schedule::default_warmup(o.steps)) },
        clip: o.clip_grad,
        loss: match &o.loss {
            Some(text) => {
                Some(text.parse::<Loss>().map_err(|e| value_error(format!("loss: {e}")))?)
            }
            None => None,
        },
    };
    training.check().map_err(value_error)?;
    let device = match o.device.as_str() {
        "auto" => Device::Auto,
        "cpu" => Device::Cpu,
        "cuda" => Device::Cuda,
        v => return Err(value_error(format!("device: expected auto, cpu or cuda, got {v:?}"))),
    };
    Ok(FitConfig {
        input,
        act,
        init: InitScheme::new(scheme, options),
        training,
        device,
        precision: o.precision.parse().map_err(value_error)?,
        out,
        fourier: o.fourier,
        search: choice == SigmaChoice::Search,
        search_score: vi3nr_cuda::search::Score::Fit,
        checkpoint_every: Some(0),
        resume: false,
        save_init: None,
        stop: Stop::new(),
        mesh: Default::default(),
        qat: match o.qat.as_str() {
            "auto" => QatMode::Auto,
            "on" => QatMode::On,
            "off" => QatMode::Off,
            v => return Err(value_error(format!("qat: expected auto, on or off, got {v:?}"))),
        },
        budget: match (o.budget, o.bpp) {
            (Some(_), Some(_)) => return Err(value_error("give budget or bpp, not both")),
            (Some(b), None) => Some(Budget::Bytes(b).check().map_err(value_error)?),
            (None, Some(b)) => Some(Budget::Bpp(b).check().map_err(value_error)?),
            (None, None) => None,
        },
    })
}

/// Fits a signal (`path`, or an image `array`: values in [−1, 1], `(height, width, channels)`)
/// with the GIL released, writing `vi3nr fit`'s outputs into `out`. Returns metrics.json's
/// text and model.vi3's bytes.
#[pyfunction]
#[pyo3(signature = (path, array, out, options))]
fn fit<'py>(
    py: Python<'py>,
    path: Option<PathBuf>,
    array: Option<(Vec<f32>, u32, u32, u8)>,
    out: PathBuf,
    options: Options,
) -> PyResult<(String, Bound<'py, PyBytes>)> {
    let config = config(&options, path.clone(), out.clone())?;
    let signal = match array {
        Some((values, height, width, channels)) => {
            let layout = Layout::Image { width, height, channels };
            if values.len() != layout.points() * layout.out_dim()
                || !(channels == 1 || channels == 3)
            {
                return Err(value_error(format!(
                    "array: expected height×width×channels values with 1 or 3 channels, got {} for {height}×{width}×{channels}",
                    values.len()
                )));
            }
            Some(Signal::from_values(layout, values))
        }
        None => None,
    };
    let result = py.detach(|| {
        let mut quiet = |_: &vi3nr_cuda::train::Evaluation| {};
        match &signal {
            Some(s) => fitting::run_signal(&config, s, &mut quiet),
            None => fitting::run(&config, &mut quiet),
        }
    });
    let summary = result.map_err(|e| match path.as_ref().filter(|p| !p.exists()) {
        Some(p) => PyOSError::new_err(format!("{}: {e}", p.display())),
        None => PyRuntimeError::new_err(e),
    })?;
    let model_path = out.join("model.vi3");
    let bytes = std::fs::read(&model_path)
        .map_err(|e| PyOSError::new_err(format!("{}: {e}", model_path.display())))?;
    let metrics = serde_json::to_string(&summary.metrics).map_err(value_error)?;
    Ok((metrics, PyBytes::new(py, &bytes)))
}

/// The extension module.
#[pymodule]
fn _vi3nr(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(solve_sigma_p, m)?)?;
    m.add_function(wrap_pyfunction!(plan, m)?)?;
    m.add_function(wrap_pyfunction!(load_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(load_raw, m)?)?;
    m.add_function(wrap_pyfunction!(save_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(fit, m)?)?;
    Ok(())
}
