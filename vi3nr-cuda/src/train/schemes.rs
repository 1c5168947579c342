//! Initialisation schemes: VI3NR and the baselines users compare it with.
//!
//! Biases follow PyTorch's `nn.Linear` default, `U(±1/√fan_in)`, in every baseline (the
//! reference VI3NR demo keeps them too, and so does [`InitScheme::vi3nr`]); schemes differ in
//! their weights:
//! - `vi3nr`: the vi3nr-core plan for the network's inputs (uniform weights with the plan's
//!   bound), with its first-layer spread and bias scheme;
//! - `xavier`: Glorot uniform, bound `√(6/(fan_in + fan_out))`;
//! - `pytorch`: `nn.Linear`'s default (Kaiming uniform with a = √5), bound `1/√fan_in`;
//! - `siren`: SIREN's scheme (Sitzmann et al. 2020) for `sin(ω z)`: first layer `U(±1/fan_in)`,
//!   later layers `U(±√(6/fan_in)/ω)`.

use crate::export::{Mlp, Vi3nrOptions};
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;
use vi3nr_core::Act;
use vi3nr_core::init::{self, BiasScheme, InputStats, SigmaP};

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
        InitScheme::Vi3nr(Vi3nrOptions { sigma_p, first_sigma: None, bias: BiasScheme::PyTorch })
    }

    /// `vi3nr`, `xavier`, `pytorch` or `siren`.
    pub fn name(&self) -> &'static str {
        match self {
            InitScheme::Vi3nr(_) => "vi3nr",
            InitScheme::Xavier => "xavier",
            InitScheme::PyTorch => "pytorch",
            InitScheme::Siren => "siren",
        }
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
            return Mlp::vi3nr_for(widths, act, options, seed, input).map_err(|e| e.to_string());
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
            let (fi, fo) = (pair[0] as f64, pair[1] as f64);
            let bound = match self {
                InitScheme::Xavier => (6.0 / (fi + fo)).sqrt(),
                InitScheme::PyTorch => 1.0 / fi.sqrt(),
                _ if i == 0 => 1.0 / fi,
                _ => (6.0 / fi).sqrt() / omega,
            };
            let mut w = vec![0.0; pair[0] * pair[1]];
            let mut b = vec![0.0; pair[1]];
            init::sample_uniform(bound, &mut w, &mut rng);
            init::sample_uniform(1.0 / fi.sqrt(), &mut b, &mut rng);
            weights.push(w);
            biases.push(b);
        }
        Ok(Mlp::new(widths, act, weights, biases))
    }
}
