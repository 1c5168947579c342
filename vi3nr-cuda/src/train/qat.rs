//! Quantisation-aware training (QAT): the forward pass of a step runs the network the device
//! will compute, and the gradient updates the float weights behind it (straight-through).
//!
//! - **Weights and biases** go through the export itself: the float parameters are written as
//!   a `.vi3` file in the target format by vi3nr-core's writer, parsed back and dequantised
//!   (`Layer::dequantize`). So q15's per-layer scale, i8's per-row scales, the biases in
//!   accumulator units and the writer's scale adjustments are the writer's, not a copy of them.
//! - **Layer inputs** are rounded to the grid the fixed-point evaluator reads them on
//!   ([`input_step`]: Q1.14 coordinates and activations, coarsened by the layer's input shift),
//!   with the derivative of the rounding taken as 1.
//! - **Not emulated**: the activation tables (within one Q1.14 step of the float activation;
//!   README, "Model files and the evaluator") and the flooring of each 32-input chunk's sum
//!   (below one accumulator unit per chunk). The exported model's PSNR is measured by the
//!   evaluator itself, so what is left over is visible in metrics.json.

use vi3nr_core::eval::parts::input_step;
use vi3nr_core::model::{Model, NumberFormat};

use super::TrainError;
use crate::mlp::Mlp;

/// When a fit trains through the quantiser ([`FitOptions::qat`](super::FitOptions::qat)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QatPlan {
    /// The export format it emulates (q15 or i8).
    pub format: NumberFormat,
    /// Steps after which every step runs through the quantiser (the last `steps − from`).
    pub from: u64,
}

/// The grid of the coordinates the fixed-point evaluator reads (Q1.14).
pub const COORDINATE_STEP: f32 = 1.0 / 16384.0;

/// The share of a fit's steps that [`QatPlan::for_fit`] trains through the quantiser.
pub const QAT_FRACTION: f64 = 0.5;

impl QatPlan {
    /// Whether QAT applies to `format`: the fixed-point formats, q15 and i8 (f32 and f16 need
    /// none).
    pub fn applies_to(format: NumberFormat) -> bool {
        matches!(format, NumberFormat::Q15 | NumberFormat::I8)
    }

    /// QAT in `format` for the last [`QAT_FRACTION`] of `steps` (at least one step); `None`
    /// for formats that need none (f32, f16).
    pub fn for_fit(format: NumberFormat, steps: u64) -> Option<Self> {
        let qat = ((steps as f64 * QAT_FRACTION).ceil() as u64).clamp(1, steps.max(1));
        Self::applies_to(format).then_some(QatPlan { format, from: steps - qat })
    }
}

/// The quantiser of one network shape: parameters in, the parameters the device computes with
/// out, plus the grid of each layer's inputs.
#[derive(Debug, Clone)]
pub struct Quantiser {
    template: Mlp,
    format: NumberFormat,
    steps: Vec<f32>,
}

impl Quantiser {
    /// The quantiser of `template`'s shape, activation, encoding and output map in `format`
    /// (q15 or i8).
    pub fn new(template: &Mlp, format: NumberFormat) -> Result<Self, TrainError> {
        if !QatPlan::applies_to(format) {
            return Err(TrainError(format!(
                "quantisation-aware training emulates q15 or i8, not {}",
                format.name()
            )));
        }
        let layers = template.weights.len();
        let steps = (0..layers)
            .map(|l| {
                let prev = (l > 0).then_some(Some(template.act));
                input_step(format, template.widths[l], prev, !template.fourier.is_empty())
            })
            .collect();
        let quantiser = Quantiser { template: template.clone(), format, steps };
        quantiser.effective(&template.flat_parameters())?;
        Ok(quantiser)
    }

    /// The format it emulates.
    pub fn format(&self) -> NumberFormat {
        self.format
    }

    /// The grid step of each layer's inputs, first layer first.
    pub fn input_steps(&self) -> &[f32] {
        &self.steps
    }

    /// The parameters (in [`Mlp::flat_parameters`] layout) after the export's round trip.
    pub fn effective(&self, params: &[f32]) -> Result<Vec<f32>, TrainError> {
        let mut mlp = self.template.clone();
        mlp.set_flat_parameters(params);
        let bytes = mlp
            .to_vi3(self.format)
            .map_err(|e| TrainError(format!("quantisation-aware training: cannot export: {e}")))?;
        let model = Model::parse(bytes.bytes())
            .map_err(|e| TrainError(format!("quantisation-aware training: {e}")))?;
        let quantised = Mlp::from_model(&model).map_err(TrainError)?;
        Ok(quantised.flat_parameters())
    }
}

/// Rounds every value to the nearest multiple of `step`, ties upwards, as the evaluator's
/// `(q + 2^(p−1)) >> p` does.
pub fn round_to_grid(values: &mut [f32], step: f32) {
    let inv = 1.0 / step;
    values.iter_mut().for_each(|v| *v = (*v * inv + 0.5).floor() * step);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schemes::InitScheme;
    use vi3nr_core::Act;
    use vi3nr_core::init::InputStats;

    fn network() -> Mlp {
        let widths = [2, 16, 16, 1];
        InitScheme::Siren
            .init_for(&widths, Act::Sine { omega: 30.0 }, 3, InputStats::uniform(-1.0, 1.0))
            .unwrap()
    }

    #[test]
    fn effective_parameters_are_what_the_export_dequantises() {
        let mlp = network();
        for format in [NumberFormat::Q15, NumberFormat::I8] {
            let q = Quantiser::new(&mlp, format).unwrap();
            let eff = q.effective(&mlp.flat_parameters()).unwrap();
            let bytes = mlp.to_vi3(format).unwrap();
            let back = Mlp::from_model(&Model::parse(bytes.bytes()).unwrap()).unwrap();
            assert_eq!(eff, back.flat_parameters(), "{format:?}");
            // Quantisation moved some weights.
            let moved = eff.iter().zip(mlp.flat_parameters()).filter(|(a, b)| **a != *b).count();
            assert!(moved > 0, "{format:?}: nothing was quantised");
            // A second pass moves nothing by more than a rounding of the scale: the grid's
            // points are (up to f32 rounding of the rescaled maximum) fixed points.
            let again = q.effective(&eff).unwrap();
            let largest = eff.iter().fold(0f32, |m, v| m.max(v.abs()));
            let moved = again.iter().zip(&eff).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
            assert!(moved <= 1e-5 * largest, "{format:?}: a second pass moved {moved}");
        }
    }

    #[test]
    fn only_fixed_formats_are_emulated() {
        let mlp = network();
        assert!(Quantiser::new(&mlp, NumberFormat::F32).is_err());
        assert!(QatPlan::for_fit(NumberFormat::F16, 100).is_none());
        let from = 100 - (100.0 * QAT_FRACTION).ceil() as u64;
        assert_eq!(QatPlan::for_fit(NumberFormat::I8, 100).unwrap().from, from);
        assert_eq!(QatPlan::for_fit(NumberFormat::Q15, 1).unwrap().from, 0);
    }

    #[test]
    fn input_grids_follow_the_evaluator() {
        let q = Quantiser::new(&network(), NumberFormat::Q15).unwrap();
        // Coordinates in Q1.14; 16 inputs after a sine: c = 4, 4 + 14 + 15 − 31 = 2 → Q1.12.
        assert_eq!(q.input_steps(), &[2f32.powi(-14), 2f32.powi(-12), 2f32.powi(-12)]);
        let mut x = [0.3f32, -0.7, 1.0];
        round_to_grid(&mut x, 0.25);
        assert_eq!(x, [0.25, -0.75, 1.0]);
    }
}
