//! Initialisation schemes: VI3NR and the baselines users compare it with, in one place.
//!
//! Biases follow PyTorch's `nn.Linear` default, `U(±1/√fan_in)`, in every baseline (the
//! reference VI3NR demo keeps them too, and so does [`InitScheme::vi3nr`]); schemes differ in
//! their weights:
//! - `vi3nr`: the vi3nr-core plan for the network's inputs (uniform weights with the plan's
//!   bound), with its first-layer spread and bias scheme ([`Vi3nrOptions`]);
//! - `xavier`: Glorot & Bengio 2010, uniform with bound [`xavier_bound`];
//! - `pytorch`: `nn.Linear`'s default (Kaiming uniform with a = √5), bound [`pytorch_bound`];
//! - `siren`: Sitzmann et al. 2020 for `sin(ω z)`, bound [`siren_bound`]: first layer
//!   `U(±1/fan_in)`, later layers `U(±√(6/fan_in)/ω)`.

use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;
use vi3nr_core::init::{
    self, BiasScheme, FirstSigma, InputStats, Plan, PlanSpec, SigmaP, SolveOptions,
};
use vi3nr_core::model::MAX_LAYERS;
use vi3nr_core::{Act, Error};

use crate::mlp::Mlp;

/// The schemes by name (`--init`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scheme {
    /// VI3NR (this project): σ_p from the backward condition, or --sigma-p.
    Vi3nr,
    /// Glorot/Xavier uniform.
    Xavier,
    /// PyTorch's nn.Linear default.
    Pytorch,
    /// SIREN's scheme (sine only).
    Siren,
}

impl Scheme {
    /// `vi3nr`, `xavier`, `pytorch` or `siren`.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Vi3nr => "vi3nr",
            Scheme::Xavier => "xavier",
            Scheme::Pytorch => "pytorch",
            Scheme::Siren => "siren",
        }
    }
}

/// The choices of a VI3NR initialisation beyond the activation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Vi3nrOptions {
    /// How σ_p is chosen.
    pub sigma_p: SigmaP,
    /// Spread of the first layer's pre-activations.
    pub first_sigma: FirstSigma,
    /// Biases.
    pub bias: BiasScheme,
}

impl Default for Vi3nrOptions {
    /// The paper's demo: σ_p from the backward condition, the first layer at σ_p, PyTorch-style
    /// biases.
    fn default() -> Self {
        Vi3nrOptions {
            sigma_p: SigmaP::Auto(None),
            first_sigma: FirstSigma::SigmaP,
            bias: BiasScheme::PyTorch,
        }
    }
}

impl Vi3nrOptions {
    /// The vi3nr-core plan of a network of `widths` with `act` on its hidden layers, for inputs
    /// with statistics `input` (coordinates on [−1, 1]: `InputStats::uniform(-1.0, 1.0)`;
    /// Fourier features: mean 0, variance 1/2).
    pub fn plan(
        &self,
        widths: &[usize],
        act: Act,
        input: InputStats,
    ) -> Result<Plan<MAX_LAYERS>, Error> {
        Plan::new(&PlanSpec {
            widths,
            activations: &[act],
            input: &[input],
            sigma_p: self.sigma_p,
            first_sigma: self.first_sigma,
            bias: self.bias,
            solve: SolveOptions::default(),
        })
    }

    /// A network initialised by [`Vi3nrOptions::plan`]: uniform weights with the plan's bound,
    /// biases as the plan says.
    pub fn init(
        &self,
        widths: &[usize],
        act: Act,
        seed: u64,
        input: InputStats,
    ) -> Result<Mlp, Error> {
        let plan = self.plan(widths, act, input)?;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut weights = Vec::new();
        let mut biases = Vec::new();
        for layer in &plan.layers {
            let mut w = vec![0.0; layer.fan_in * layer.fan_out];
            let mut b = vec![0.0; layer.fan_out];
            init::fill_uniform(layer, &mut w, &mut rng)?;
            init::fill_bias(layer, &mut b, &mut rng)?;
            weights.push(w);
            biases.push(b);
        }
        Ok(Mlp::new(widths, act, weights, biases))
    }
}

/// Glorot/Xavier uniform bound `gain·√(6/(fan_in + fan_out))`.
pub fn xavier_bound(fan_in: usize, fan_out: usize, gain: f64) -> f64 {
    gain * (6.0 / (fan_in + fan_out) as f64).sqrt()
}

/// PyTorch's `nn.Linear` bound `1/√fan_in` (weights and biases).
pub fn pytorch_bound(fan_in: usize) -> f64 {
    1.0 / (fan_in as f64).sqrt()
}

/// SIREN's bound for `sin(ω z)`: `1/fan_in` for the first layer, `√(6/fan_in)/ω` after it.
pub fn siren_bound(fan_in: usize, omega: f64, first: bool) -> f64 {
    if first { 1.0 / fan_in as f64 } else { (6.0 / fan_in as f64).sqrt() / omega }
}

/// An initialisation scheme.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum InitScheme {
    /// VI3NR with these choices.
    Vi3nr(Vi3nrOptions),
    /// Glorot/Xavier uniform.
    Xavier,
    /// PyTorch's `nn.Linear` default.
    PyTorch,
    /// SIREN's scheme (sine only).
    Siren,
}

impl InitScheme {
    /// VI3NR with this σ_p, the first layer at σ_p and PyTorch-style biases (the paper's demo).
    pub fn vi3nr(sigma_p: SigmaP) -> Self {
        InitScheme::Vi3nr(Vi3nrOptions { sigma_p, ..Vi3nrOptions::default() })
    }

    /// The scheme `scheme`, with `options` if it is VI3NR.
    pub fn new(scheme: Scheme, options: Vi3nrOptions) -> Self {
        match scheme {
            Scheme::Vi3nr => InitScheme::Vi3nr(options),
            Scheme::Xavier => InitScheme::Xavier,
            Scheme::Pytorch => InitScheme::PyTorch,
            Scheme::Siren => InitScheme::Siren,
        }
    }

    /// The scheme's name.
    pub fn scheme(&self) -> Scheme {
        match self {
            InitScheme::Vi3nr(_) => Scheme::Vi3nr,
            InitScheme::Xavier => Scheme::Xavier,
            InitScheme::PyTorch => Scheme::Pytorch,
            InitScheme::Siren => Scheme::Siren,
        }
    }

    /// `vi3nr`, `xavier`, `pytorch` or `siren`.
    pub fn name(&self) -> &'static str {
        self.scheme().name()
    }

    /// A network of `widths` with `act` on its hidden layers, initialised by this scheme, for
    /// coordinates uniform on [−1, 1].
    pub fn init(&self, widths: &[usize], act: Act, seed: u64) -> Result<Mlp, String> {
        self.init_for(widths, act, seed, InputStats::uniform(-1.0, 1.0))
    }

    /// [`InitScheme::init`] for network inputs with the given statistics (used by VI3NR's
    /// first layer; the baselines ignore them).
    pub fn init_for(
        &self,
        widths: &[usize],
        act: Act,
        seed: u64,
        input: InputStats,
    ) -> Result<Mlp, String> {
        if let InitScheme::Vi3nr(options) = self {
            return options.init(widths, act, seed, input).map_err(|e| e.to_string());
        }
        if widths.len() < 2 || widths.contains(&0) {
            return Err("a network needs at least two nonzero widths".into());
        }
        let omega = match (self, act) {
            (InitScheme::Siren, Act::Sine { omega }) => omega,
            (InitScheme::Siren, _) => {
                return Err(format!("the siren scheme is for sine networks, not {act}"));
            }
            _ => 1.0,
        };
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut weights = Vec::new();
        let mut biases = Vec::new();
        for (i, pair) in widths.windows(2).enumerate() {
            let (fan_in, fan_out) = (pair[0], pair[1]);
            let bound = match self {
                InitScheme::Xavier => xavier_bound(fan_in, fan_out, 1.0),
                InitScheme::PyTorch => pytorch_bound(fan_in),
                _ => siren_bound(fan_in, omega, i == 0),
            };
            let mut w = vec![0.0; fan_in * fan_out];
            let mut b = vec![0.0; fan_out];
            init::sample_uniform(bound, &mut w, &mut rng);
            init::sample_uniform(pytorch_bound(fan_in), &mut b, &mut rng);
            weights.push(w);
            biases.push(b);
        }
        Ok(Mlp::new(widths, act, weights, biases))
    }
}

/// Rescales `mlp`'s weights: the first layer's so that its pre-activations (bias excluded)
/// spread `first_sigma` for inputs with statistics `input` (`σ_0² = fan_in · E[x²] · E[w²]`
/// over the drawn weights), the layers between hidden layers' by `gain`; the output layer and
/// the biases stay. How a baseline gets VI3NR's first-layer spread and a hidden gain to search.
pub fn rescale(mlp: &mut Mlp, input: InputStats, gain: f64, first_sigma: f64) -> Result<(), Error> {
    let x2 = input.second_moment()?;
    let first = &mut mlp.weights[0];
    let w2 = first.iter().map(|&w| f64::from(w) * f64::from(w)).sum::<f64>() / first.len() as f64;
    let spread = (mlp.widths[0] as f64 * x2 * w2).sqrt();
    if !(spread > 0.0 && first_sigma.is_finite() && first_sigma > 0.0 && gain.is_finite()) {
        return Err(Error::NotPositive("first-layer spread"));
    }
    let s = (first_sigma / spread) as f32;
    first.iter_mut().for_each(|w| *w *= s);
    let last = mlp.weights.len() - 1;
    for w in mlp.weights.iter_mut().take(last).skip(1) {
        w.iter_mut().for_each(|w| *w *= gain as f32);
    }
    Ok(())
}
