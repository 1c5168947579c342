//! The network every backend trains: a fully connected MLP in f32 with an optional
//! Fourier-feature encoding of its coordinates, its parameters as one flat buffer (the layout
//! of every training backend), and its exact f64 forward pass, the reference every evaluator
//! is measured against.

use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;
use vi3nr_core::model::Model;
use vi3nr_core::{Act, Activation};

/// A fully connected network: an optional Fourier-feature encoding of the coordinates,
/// `widths[0]` network inputs, one activation on every hidden layer, a linear output, then an
/// affine map per output.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    /// Layer widths, input first.
    pub widths: Vec<usize>,
    /// The hidden activation.
    pub act: Act,
    /// Weights per matrix, row-major `fan_out × fan_in`.
    pub weights: Vec<Vec<f32>>,
    /// Biases per matrix.
    pub biases: Vec<Vec<f32>>,
    /// `(scale, offset)` per output.
    pub affine: Vec<[f32; 2]>,
    /// Fourier frequencies (cycles per unit), `widths[0] / 2` rows of the coordinate dimension;
    /// the network sees `[sin 2πf·x…, cos 2πf·x…]`. Empty: raw coordinates.
    pub fourier: Vec<f32>,
}

/// Where one layer sits in [`Mlp::flat_parameters`]: weights (row-major `fan_out × fan_in`)
/// at `w..b`, then biases at `b..b + fan_out` — the buffer layout of every training backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    /// Offset of the weights.
    pub w: usize,
    /// Offset of the biases.
    pub b: usize,
    /// Inputs of the layer.
    pub fan_in: usize,
    /// Outputs of the layer.
    pub fan_out: usize,
}

impl Mlp {
    /// Each layer's place in [`Mlp::flat_parameters`].
    pub fn slots(&self) -> Vec<Slot> {
        let mut at = 0;
        self.weights
            .iter()
            .zip(&self.biases)
            .map(|(w, b)| {
                let slot =
                    Slot { w: at, b: at + w.len(), fan_in: w.len() / b.len(), fan_out: b.len() };
                at += w.len() + b.len();
                slot
            })
            .collect()
    }

    /// Every parameter in one buffer: per layer its weights, then its biases.
    pub fn flat_parameters(&self) -> Vec<f32> {
        self.weights
            .iter()
            .zip(&self.biases)
            .flat_map(|(w, b)| w.iter().chain(b))
            .copied()
            .collect()
    }

    /// Takes every parameter from `flat`, laid out as [`Mlp::flat_parameters`]; `flat` must be
    /// that long.
    pub fn set_flat_parameters(&mut self, flat: &[f32]) {
        let slots = self.slots();
        for ((w, b), s) in self.weights.iter_mut().zip(&mut self.biases).zip(slots) {
            w.copy_from_slice(&flat[s.w..s.b]);
            b.copy_from_slice(&flat[s.b..s.b + s.fan_out]);
        }
    }

    /// A network on raw coordinates with the identity affine map.
    pub fn new(widths: &[usize], act: Act, weights: Vec<Vec<f32>>, biases: Vec<Vec<f32>>) -> Self {
        let out = widths[widths.len() - 1];
        Mlp {
            widths: widths.to_vec(),
            act,
            weights,
            biases,
            affine: vec![[1.0, 0.0]; out],
            fourier: Vec::new(),
        }
    }

    /// Dimension of the coordinates the network takes (before any encoding).
    pub fn coord_dim(&self) -> usize {
        if self.fourier.is_empty() {
            self.widths[0]
        } else {
            self.fourier.len() / (self.widths[0] / 2).max(1)
        }
    }

    /// The network inputs for `coords` (n × coord_dim): the coordinates, or their Fourier features.
    pub fn encode(&self, coords: &[f32]) -> Vec<f32> {
        fourier_encode(&self.fourier, self.coord_dim(), coords)
    }

    /// The network output at coordinates `x` in f64 with the exact activation (encoding and
    /// affine map included).
    pub fn forward_f64(&self, x: &[f64]) -> Vec<f64> {
        let mut a = if self.fourier.is_empty() { x.to_vec() } else { features(&self.fourier, x) };
        let last = self.weights.len() - 1;
        for (i, (w, b)) in self.weights.iter().zip(&self.biases).enumerate() {
            let fan_in = a.len();
            a = w
                .chunks_exact(fan_in)
                .zip(b)
                .map(|(row, &b)| {
                    let z = f64::from(b)
                        + row.iter().zip(&a).map(|(&w, &x)| f64::from(w) * x).sum::<f64>();
                    if i == last { z } else { self.act.f(z) }
                })
                .collect();
        }
        a.iter().zip(&self.affine).map(|(v, [s, o])| f64::from(*s) * v + f64::from(*o)).collect()
    }

    /// Sets the affine map so that each output spans [−1, 1] over `points` (flattened
    /// coordinates), as a fitted signal would.
    pub fn normalise_outputs(&mut self, points: &[f64]) {
        let out = self.affine.len();
        self.affine = vec![[1.0, 0.0]; out];
        let mut lo = vec![f64::INFINITY; out];
        let mut hi = vec![f64::NEG_INFINITY; out];
        for x in points.chunks_exact(self.coord_dim()) {
            for (k, y) in self.forward_f64(x).into_iter().enumerate() {
                lo[k] = lo[k].min(y);
                hi[k] = hi[k].max(y);
            }
        }
        for (k, a) in self.affine.iter_mut().enumerate() {
            let span = (hi[k] - lo[k]).max(1e-30);
            *a = [(2.0 / span) as f32, (-(hi[k] + lo[k]) / span) as f32];
        }
    }

    /// The network of a parsed model with its weights dequantised to f32. The model must use
    /// raw coordinates, one activation on every hidden layer and an identity output.
    pub fn from_model(model: &Model<'_>) -> Result<Mlp, String> {
        let last = model.layers.len() - 1;
        let act = match model.layers.first().and_then(|l| l.act) {
            Some(act) if last > 0 => act,
            _ => return Err("the model has no hidden activation".into()),
        };
        if model.layers.iter().enumerate().any(|(i, l)| l.act != (i != last).then_some(act)) {
            return Err("mixed activations or an activation on the output are not supported".into());
        }
        let mut widths = vec![model.layers[0].fan_in];
        let mut weights = Vec::new();
        let mut biases = Vec::new();
        for l in &model.layers {
            widths.push(l.fan_out);
            let (mut w, mut b) = (vec![0.0; l.fan_in * l.fan_out], vec![0.0; l.fan_out]);
            l.dequantize(&mut w, &mut b).map_err(|e| e.to_string())?;
            weights.push(w);
            biases.push(b);
        }
        Ok(Mlp {
            widths,
            act,
            weights,
            biases,
            affine: model.affine.to_vec(),
            fourier: model.fourier.to_vec(),
        })
    }
}

/// `[sin 2πf·x…, cos 2πf·x…]` for frequency rows `freqs` (each `x.len()` long), in f64.
fn features(freqs: &[f32], x: &[f64]) -> Vec<f64> {
    let turns: Vec<f64> = freqs
        .chunks_exact(x.len())
        .map(|f| {
            std::f64::consts::TAU * f.iter().zip(x).map(|(&f, x)| f64::from(f) * x).sum::<f64>()
        })
        .collect();
    turns.iter().map(|t| t.sin()).chain(turns.iter().map(|t| t.cos())).collect()
}

/// A network's widths: `[in_dim, hidden…, out_dim]`.
pub fn net_widths(in_dim: usize, hidden: &[usize], out_dim: usize) -> Vec<usize> {
    let mut widths = vec![in_dim];
    widths.extend(hidden);
    widths.push(out_dim);
    widths
}

/// Network inputs for `coords` (n × `dim`): the coordinates themselves when `freqs` is empty,
/// else their Fourier features for the frequency rows `freqs` (computed in f64).
pub fn fourier_encode(freqs: &[f32], dim: usize, coords: &[f32]) -> Vec<f32> {
    if freqs.is_empty() {
        return coords.to_vec();
    }
    coords
        .chunks_exact(dim)
        .flat_map(|x| {
            let x: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
            features(freqs, &x).into_iter().map(|v| v as f32)
        })
        .collect()
}

/// `m` Gaussian random frequency rows of `dim` values with standard deviation `scale`.
pub fn fourier_frequencies(m: usize, dim: usize, scale: f32, seed: u64) -> Vec<f32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0xF0F0_F0F0);
    let mut freqs = vec![0.0f32; m * dim];
    vi3nr_core::init::sample_normal(f64::from(scale), &mut freqs, &mut rng);
    freqs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schemes::InitScheme;
    use vi3nr_core::init::SigmaP;

    #[test]
    fn flat_parameters_follow_the_slots_and_round_trip() {
        let mlp = InitScheme::vi3nr(SigmaP::Auto(None))
            .init(&[2, 3, 1], Act::Sine { omega: 30.0 }, 1)
            .unwrap();
        let slots = mlp.slots();
        let s = |w, b, fan_in, fan_out| Slot { w, b, fan_in, fan_out };
        assert_eq!(slots, [s(0, 6, 2, 3), s(9, 12, 3, 1)]);
        let flat = mlp.flat_parameters();
        assert_eq!(flat.len(), 13);
        assert_eq!(&flat[6..9], &mlp.biases[0][..]);
        let mut copy = mlp.clone();
        let shifted: Vec<f32> = flat.iter().map(|x| x + 1.0).collect();
        copy.set_flat_parameters(&shifted);
        assert_eq!(copy.flat_parameters(), shifted);
        copy.set_flat_parameters(&flat);
        assert_eq!(copy, mlp);
    }
}
