//! Learning-rate schedules: the factor each step's learning rate is multiplied by.

/// How the learning rate moves over a fit (`--lr-schedule`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LrSchedule {
    /// The same rate every step.
    Constant,
    /// Half a cosine from the rate down to zero after the warm-up (PyTorch's
    /// `CosineAnnealingLR` with `eta_min = 0` over the fit's steps).
    #[default]
    Cosine,
    /// A tenth of the rate after half the steps past the warm-up, a hundredth after three
    /// quarters (PyTorch's `MultiStepLR`, γ = 0.1).
    Step,
}

/// A schedule with its linear warm-up.
///
/// ```
/// use vi3nr_cuda::train::{LrSchedule, Schedule};
/// let cosine = Schedule { kind: LrSchedule::Cosine, warmup: 10 };
/// assert_eq!(cosine.factor(5, 110), 0.5); // warming up
/// assert_eq!(cosine.factor(11, 110), 1.0); // the first step after the warm-up
/// assert!(cosine.factor(110, 110) < 1e-3); // nearly zero at the end
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Schedule {
    /// The shape after the warm-up.
    pub kind: LrSchedule,
    /// Steps whose rate rises linearly to the full rate (step s of w at s/w of it).
    pub warmup: u64,
}

impl Schedule {
    /// A constant rate without warm-up: what a fit did before schedules.
    pub const CONSTANT: Schedule = Schedule { kind: LrSchedule::Constant, warmup: 0 };

    /// The warm-up without `--warmup`: 5 % of the steps (25 of 500). Measured on four signals
    /// (README, "The default recipe"): 2–4 dB above no warm-up after a search, whose final fit
    /// restarts Adam on a trained network.
    pub fn default_warmup(steps: u64) -> u64 {
        steps / 20
    }

    /// The factor of step `step` (1-based) of a fit of `steps` steps; in (0, 1] during the
    /// warm-up and for every schedule's first step after it.
    pub fn factor(&self, step: u64, steps: u64) -> f32 {
        if step <= self.warmup {
            return (step as f64 / self.warmup as f64) as f32;
        }
        let span = steps.saturating_sub(self.warmup).max(1) as f64;
        let p = (step - self.warmup - 1) as f64 / span;
        let f = match self.kind {
            LrSchedule::Constant => 1.0,
            LrSchedule::Cosine => 0.5 * (1.0 + (std::f64::consts::PI * p).cos()),
            LrSchedule::Step => match p {
                p if p >= 0.75 => 0.01,
                p if p >= 0.5 => 0.1,
                _ => 1.0,
            },
        };
        f as f32
    }
}
