//! The checks of the demo and the on-target tests: each model against its host goldens, and the
//! init plan against the host's.

use vi3nr_core::eval::Scratch;
use vi3nr_core::init::{
    BiasInit, BiasScheme, FirstSigma, InputStats, Plan, PlanSpec, SigmaP, SolveOptions, Status,
};
use vi3nr_core::model::{Model, ModelError, NumberFormat};
use vi3nr_core::{Act, Error};

use crate::goldens::{
    GRID, PLAN_BIAS_FRACTION, PLAN_GAUSSIAN_A, PLAN_GLOBAL, PLAN_LAYERS, PLAN_WIDTHS, RENDER_GRID,
    SDF_POINTS,
};
use crate::timer::Timer;
use crate::{GoldenModel, RENDER_SIDE};

/// Widest layer of the embedded models.
pub const WIDTH: usize = 32;

/// Largest `|device − host|` accepted per output. Host and device run the same evaluator, so the
/// outputs normally agree to the bit; the float paths allow a few ulps (the order of f32
/// operations is fixed, but a soft-float or FPU library may round a corner case differently),
/// the fixed-point paths one or two steps of their output quantum.
pub fn tolerance(format: NumberFormat) -> f32 {
    match format {
        NumberFormat::F32 | NumberFormat::F16 => 2e-6,
        NumberFormat::Q15 => 1e-4,
        NumberFormat::I8 => 1e-3,
    }
}

/// Relative tolerance of the init plan (f64, the same code on host and device).
pub const PLAN_TOLERANCE: f64 = 1e-12;

/// Coordinates of grid point `k` (0..256).
pub fn point(k: usize) -> [f32; 2] {
    [f32::from_bits(GRID[k % 16]), f32::from_bits(GRID[k / 16])]
}

/// Pixel `k` (0..4096) of the rendered 64 × 64 image: `(RENDER_GRID[k % 64], RENDER_GRID[k / 64])`.
pub fn render_point(k: usize) -> [f32; 2] {
    [RENDER_GRID[k % RENDER_SIDE], RENDER_GRID[(k / RENDER_SIDE) % RENDER_SIDE]].map(f32::from_bits)
}

/// SDF query point `k` (0..256) in [−1, 1]³: the host's coordinates, bit for bit.
pub fn sdf_point(k: usize) -> [f32; 3] {
    SDF_POINTS[k % SDF_POINTS.len()].map(f32::from_bits)
}

/// What went wrong with a model.
#[derive(Debug, Clone, Copy, PartialEq, defmt::Format)]
pub enum CheckError {
    /// `Model::parse` failed (CRC included).
    Parse(ModelError),
    /// The model parsed but is not the one the goldens were computed from.
    Crc {
        /// CRC the host saw.
        expected: u32,
        /// CRC in the embedded file.
        found: u32,
    },
    /// Evaluation failed.
    Eval(ModelError),
}

/// The result of evaluating one model on the grid.
#[derive(Debug, Clone, Copy, PartialEq, defmt::Format)]
pub struct ModelReport {
    /// The model's number format.
    pub format: NumberFormat,
    /// Outputs compared (points of the grid, queries, pixels).
    pub points: u32,
    /// Outputs within [`tolerance`] of the host's.
    pub within: u32,
    /// Outputs equal to the host's bit for bit.
    pub exact: u32,
    /// Largest `|device − host|`.
    pub max_abs_diff: f32,
    /// SysTick ticks spent in `Model::eval`, summed over the grid (timing overhead removed).
    pub ticks: u64,
}

impl ModelReport {
    /// Whether every output is within tolerance.
    pub fn passed(&self) -> bool {
        self.within == self.points
    }
}

/// Parses `golden`'s model (checking its CRC) and returns it.
pub fn parse(golden: &GoldenModel) -> Result<Model<'static>, CheckError> {
    let model = Model::parse(&golden.bytes.0).map_err(CheckError::Parse)?;
    if model.crc != golden.crc {
        return Err(CheckError::Crc { expected: golden.crc, found: model.crc });
    }
    Ok(model)
}

/// Ticks of an empty timed interval (the cost of reading the counter), summed over `points`.
fn overhead(timer: &Timer, points: usize) -> u64 {
    (0..points).map(|_| u64::from(timer.time(|| ()).1)).sum()
}

/// Evaluates `golden`'s model (2 → 1) at every grid point, timing each evaluation, and compares
/// the outputs with the host's.
pub fn check_model(golden: &GoldenModel, timer: &Timer) -> Result<ModelReport, CheckError> {
    check_at(golden, timer, point, |_, _| ())
}

/// The result of evaluating an SDF model at the 256 query points.
#[derive(Debug, Clone, Copy, PartialEq, defmt::Format)]
pub struct SdfReport {
    /// The distances against the host's, and the time.
    pub model: ModelReport,
    /// Query points the device finds inside (distance < 0).
    pub inside: u32,
    /// Query points the host finds inside.
    pub host_inside: u32,
    /// Query points on the same side for device and host.
    pub same_side: u32,
}

impl SdfReport {
    /// Whether every distance is within tolerance and every point on the host's side.
    pub fn passed(&self) -> bool {
        self.model.passed() && self.same_side == self.model.points
    }
}

/// Renders `golden`'s image model (2 → 1) at every pixel of the 64 × 64 image
/// ([`render_point`]), timing each, and compares every pixel with the host's.
pub fn check_render(golden: &GoldenModel, timer: &Timer) -> Result<ModelReport, CheckError> {
    check_at(golden, timer, render_point, |_, _| ())
}

/// Evaluates `golden`'s SDF model (3 → 1) at every query point ([`sdf_point`]), timing each
/// evaluation, compares the distances with the host's and counts the points inside.
pub fn check_sdf(golden: &GoldenModel, timer: &Timer) -> Result<SdfReport, CheckError> {
    let (mut inside, mut host_inside, mut same_side) = (0, 0, 0);
    let model = check_at(golden, timer, sdf_point, |device, host| {
        let (device_in, host_in) = (device < 0.0, host < 0.0);
        inside += u32::from(device_in);
        host_inside += u32::from(host_in);
        same_side += u32::from(device_in == host_in);
    })?;
    Ok(SdfReport { model, inside, host_inside, same_side })
}

/// Evaluates `golden`'s model at `point(k)` for every golden output `k`, timing each evaluation,
/// compares the outputs with the host's and passes each pair (device, host) to `each`.
fn check_at<const D: usize>(
    golden: &GoldenModel,
    timer: &Timer,
    point: fn(usize) -> [f32; D],
    mut each: impl FnMut(f32, f32),
) -> Result<ModelReport, CheckError> {
    let model = parse(golden)?;
    let mut scratch = Scratch::<WIDTH>::new();
    let tol = tolerance(model.format);
    let points = golden.points() as u32;
    let mut report = ModelReport {
        format: model.format,
        points,
        within: 0,
        exact: 0,
        max_abs_diff: 0.0,
        ticks: 0,
    };
    let mut ticks = 0u64;
    for (k, host) in golden.host_outputs().enumerate() {
        let x = point(k);
        let mut y = [0f32];
        let (r, t) = timer.time(|| model.eval(&x, &mut y, &mut scratch));
        r.map_err(CheckError::Eval)?;
        ticks += u64::from(t);
        let host = f32::from_bits(host);
        each(y[0], host);
        let diff = (y[0] - host).abs();
        report.exact += u32::from(y[0].to_bits() == host.to_bits());
        report.within += u32::from(diff <= tol);
        if diff > report.max_abs_diff || diff.is_nan() {
            report.max_abs_diff = diff;
        }
    }
    report.ticks = ticks.saturating_sub(overhead(timer, golden.points()));
    Ok(report)
}

/// The plan the host computed, for the 5-matrix Gaussian network of the goldens.
pub fn plan_spec_act() -> Result<Act, Error> {
    Act::gaussian(f64::from_bits(PLAN_GAUSSIAN_A))
}

/// Builds the init plan of the goldens' network (σ_p solve, per-layer bounds).
pub fn plan() -> Result<Plan<8>, Error> {
    let act = plan_spec_act()?;
    Plan::new(&PlanSpec {
        widths: &PLAN_WIDTHS,
        activations: &[act],
        input: &[InputStats::uniform(-1.0, 1.0)],
        sigma_p: SigmaP::Auto(None),
        first_sigma: FirstSigma::SigmaP,
        bias: BiasScheme::Fraction(f64::from_bits(PLAN_BIAS_FRACTION)),
        solve: SolveOptions::default(),
    })
}

/// The result of the init-plan check.
#[derive(Debug, Clone, Copy, PartialEq, defmt::Format)]
pub struct PlanReport {
    /// σ_p of the device's plan.
    pub sigma_p: f64,
    /// Where σ_p came from.
    pub status: Status,
    /// Weight matrices planned.
    pub layers: u32,
    /// Largest relative difference from the host's values.
    pub max_rel_diff: f64,
    /// Values compared.
    pub compared: u32,
    /// SysTick ticks to build the plan.
    pub ticks: u32,
}

impl PlanReport {
    /// Whether the plan matches the host's within [`PLAN_TOLERANCE`].
    pub fn passed(&self) -> bool {
        self.status == Status::Root
            && self.layers as usize == PLAN_LAYERS.len()
            && self.max_rel_diff <= PLAN_TOLERANCE
    }
}

/// `|a − b| / |b|` (0 when both are NaN or equal, infinite when only one is NaN).
pub fn rel_diff(a: f64, b: f64) -> f64 {
    if a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()) {
        return 0.0;
    }
    let d = (a - b).abs() / b.abs();
    if d.is_nan() { f64::INFINITY } else { d }
}

/// Builds the plan on the device and compares it with the host's.
pub fn check_plan(timer: &Timer) -> Result<PlanReport, Error> {
    let (plan, ticks) = timer.time(plan);
    let plan = plan?;
    let mut max = 0.0f64;
    let mut compared = 0;
    let mut cmp = |a: f64, host: u64| {
        max = max.max(rel_diff(a, f64::from_bits(host)));
        compared += 1;
    };
    let global = [
        plan.sigma_p,
        plan.ratio,
        plan.condition.unwrap_or(f64::NAN),
        plan.gain2.unwrap_or(f64::NAN),
    ];
    for (&a, &host) in global.iter().zip(&PLAN_GLOBAL) {
        cmp(a, host);
    }
    for (l, host) in plan.layers.iter().zip(&PLAN_LAYERS) {
        let bias = match l.bias {
            BiasInit::Zero => 0.0,
            BiasInit::Uniform { bound } => bound,
        };
        let values = [l.gain2, l.std, l.bound, bias, l.condition.unwrap_or(f64::NAN)];
        for (&a, &h) in values.iter().zip(host) {
            cmp(a, h);
        }
    }
    Ok(PlanReport {
        sigma_p: plan.sigma_p,
        status: plan.status,
        layers: plan.layers.len() as u32,
        max_rel_diff: max,
        compared,
        ticks,
    })
}
