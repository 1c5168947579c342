//! The CPU backend: the reference implementation and the default without a GPU.
//!
//! Parameters live in one flat buffer (each layer's weights, row-major `fan_out × fan_in`, then
//! its biases), as do their gradients and Adam moments. A step splits the batch into one chunk
//! per thread (rayon); each chunk runs the forward pass with the activation and its derivative
//! fused into one sweep over the pre-activations, then the backward pass, into its own gradient
//! buffer, using matrixmultiply's sgemm for the products. Chunk gradients are summed and one
//! Adam update follows. Workspaces are allocated once and reused every step. The loss is MSE
//! unless [`CpuBackend::with_loss`] chooses another ([`Loss`]).

use super::qat::{Quantiser, round_to_grid};
use super::{Adam, Backend, Batch, Loss, TrainError, TrainState};
use crate::gemm::{matmul, matmul_at_b_acc};
use crate::mlp::{Mlp, Slot};
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use rayon::prelude::*;
use std::borrow::Cow;
use vi3nr_core::eval::fast::FastAct;
use vi3nr_core::model::NumberFormat;

/// One thread's buffers: per-layer activations and derivatives, gradient, scratch.
#[derive(Debug, Default)]
struct Workspace {
    /// Inputs of each layer (`a[0]` is the batch's coordinates).
    a: Vec<Vec<f32>>,
    /// `f'(z)` of each hidden layer.
    d: Vec<Vec<f32>>,
    grad: Vec<f32>,
    g: Vec<f32>,
    dx: Vec<f32>,
    loss: f64,
}

/// The CPU backend.
#[derive(Debug)]
pub struct CpuBackend {
    template: Mlp,
    act: FastAct,
    loss: Loss,
    slots: Vec<Slot>,
    params: Vec<f32>,
    m: Vec<f32>,
    v: Vec<f32>,
    /// β₁ᵗ and β₂ᵗ, advanced by one multiplication per step (as the CUDA backend does).
    beta_t: (f32, f32),
    /// Steps taken.
    steps: u64,
    adam: Adam,
    /// The learning rate of the next step: `adam.lr` × the schedule's factor.
    lr: f32,
    /// Sum and count of step losses since [`Backend::take_loss`].
    loss_sum: f64,
    loss_steps: u64,
    coords: Vec<f32>,
    values: Vec<f32>,
    in_dim: usize,
    out_dim: usize,
    rng: Xoshiro256PlusPlus,
    batch_x: Vec<f32>,
    batch_y: Vec<f32>,
    workspaces: Vec<Workspace>,
    /// Quantisation-aware training: the quantiser every step's forward pass runs through.
    qat: Option<Quantiser>,
}

impl CpuBackend {
    /// A backend training `mlp` on `coords` (n × in_dim) → `values` (n × out_dim); `seed` drives
    /// minibatch sampling.
    pub fn new(
        mlp: Mlp,
        coords: &[f32],
        values: &[f32],
        adam: Adam,
        seed: u64,
    ) -> Result<Self, TrainError> {
        let (in_dim, out_dim) = super::data_dims(&mlp, coords, values)?;
        let (slots, params) = (mlp.slots(), mlp.flat_parameters());
        let n = params.len();
        let threads = rayon::current_num_threads().max(1);
        Ok(CpuBackend {
            act: FastAct::new(Some(mlp.act)),
            loss: Loss::Mse,
            template: mlp,
            slots,
            params,
            m: vec![0.0; n],
            v: vec![0.0; n],
            beta_t: (1.0, 1.0),
            steps: 0,
            adam,
            lr: adam.lr,
            loss_sum: 0.0,
            loss_steps: 0,
            coords: coords.to_vec(),
            values: values.to_vec(),
            in_dim,
            out_dim,
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
            batch_x: Vec::new(),
            batch_y: Vec::new(),
            workspaces: (0..threads).map(|_| Workspace::default()).collect(),
            qat: None,
        })
    }
}

impl CpuBackend {
    /// The same backend minimising `loss` instead of MSE.
    pub fn with_loss(mut self, loss: Loss) -> Self {
        self.loss = loss;
        self
    }

    /// The loss (MSE unless [`CpuBackend::with_loss`] chose another) of the network on
    /// `(coords, values)` and its gradient, flattened layer by layer (weights row-major, then
    /// biases): the quantity every step descends, exposed for tests and for checking other
    /// backends against this one.
    pub fn loss_and_gradient(
        &mut self,
        coords: &[f32],
        values: &[f32],
    ) -> Result<(f32, Vec<f32>), TrainError> {
        let rows = coords.len() / self.in_dim;
        if !coords.len().is_multiple_of(self.in_dim)
            || values.len() != rows * self.out_dim
            || rows == 0
        {
            return Err(TrainError("gradient: coordinates and values disagree".into()));
        }
        let (effective, grid) = effective(self.qat.as_ref(), &self.params)?;
        let ws = &mut self.workspaces[0];
        let net =
            Net { params: &effective, slots: &self.slots, act: self.act, loss: self.loss, grid };
        chunk_gradient(net, coords, values, values.len(), ws);
        Ok(((ws.loss / values.len() as f64) as f32, ws.grad.clone()))
    }
}

/// Forward pass of `rows` inputs through all layers; keeps inputs and derivatives when
/// `train`. Returns the network outputs in `ws.a[layers]`. With a `grid` (quantisation-aware
/// training), each layer's inputs are rounded to its grid step; the derivatives stay those
/// of the unrounded activations (straight-through). The loss is not used.
fn forward(net: Net<'_>, x: &[f32], ws: &mut Workspace, train: bool) {
    let Net { params, slots, act, grid, .. } = net;
    let rows = x.len() / slots[0].fan_in;
    let layers = slots.len();
    ws.a.resize_with(layers + 1, Vec::new);
    ws.d.resize_with(layers, Vec::new);
    ws.a[0].clear();
    ws.a[0].extend_from_slice(x);
    if let Some(grid) = grid {
        round_to_grid(&mut ws.a[0], grid[0]);
    }
    for (l, s) in slots.iter().enumerate() {
        let (input, rest) = ws.a.split_at_mut(l + 1);
        let z = &mut rest[0];
        z.resize(rows * s.fan_out, 0.0);
        matmul(&input[l], &params[s.w..s.b], z, rows, s.fan_in, s.fan_out, true);
        let bias = &params[s.b..s.b + s.fan_out];
        for row in z.chunks_exact_mut(s.fan_out) {
            row.iter_mut().zip(bias).for_each(|(z, b)| *z += b);
        }
        if l + 1 < layers {
            if train {
                let d = &mut ws.d[l];
                d.resize(rows * s.fan_out, 0.0);
                act.apply_with_derivative(z, d);
            } else {
                act.apply(z);
            }
            if let Some(grid) = grid {
                round_to_grid(z, grid[l + 1]);
            }
        }
    }
}

/// What a chunk's forward and backward pass read (the forward pass alone: all but the loss).
#[derive(Clone, Copy)]
struct Net<'a> {
    params: &'a [f32],
    slots: &'a [Slot],
    act: FastAct,
    loss: Loss,
    /// Each layer's input grid under quantisation-aware training.
    grid: Option<&'a [f32]>,
}

/// Forward and backward for one chunk; gradient of the mean loss over `total` batch values.
fn chunk_gradient(net: Net<'_>, x: &[f32], y: &[f32], total: usize, ws: &mut Workspace) {
    forward(net, x, ws, true);
    let Net { params, slots, loss, .. } = net;
    let layers = slots.len();
    let rows = x.len() / slots[0].fan_in;
    ws.grad.clear();
    ws.grad.resize(params.len(), 0.0);
    let (inv, scale) = (1.0 / total as f32, 2.0 / total as f32);
    let out = &ws.a[layers];
    ws.g.clear();
    ws.loss = 0.0;
    for (&o, &t) in out.iter().zip(y) {
        let (l, g) = loss.term(o, t, inv, scale);
        ws.loss += l;
        ws.g.push(g);
    }
    for l in (0..layers).rev() {
        let s = slots[l];
        let (gw, gb) = ws.grad[s.w..s.b + s.fan_out].split_at_mut(s.b - s.w);
        matmul_at_b_acc(&ws.g, &ws.a[l], gw, s.fan_out, rows, s.fan_in);
        for row in ws.g.chunks_exact(s.fan_out) {
            gb.iter_mut().zip(row).for_each(|(b, g)| *b += g);
        }
        if l > 0 {
            ws.dx.resize(rows * s.fan_in, 0.0);
            matmul(&ws.g, &params[s.w..s.b], &mut ws.dx, rows, s.fan_out, s.fan_in, false);
            ws.g.clear();
            ws.g.extend(ws.dx.iter().zip(&ws.d[l - 1]).map(|(g, d)| g * d));
        }
    }
}

/// The parameters and input grids a forward pass runs with.
type Forward<'a> = (Cow<'a, [f32]>, Option<&'a [f32]>);

/// What the forward pass uses: `params` and no input grids, or with quantisation-aware
/// training the parameters' round trip through the export and each layer's input grid.
fn effective<'a>(qat: Option<&'a Quantiser>, params: &'a [f32]) -> Result<Forward<'a>, TrainError> {
    Ok(match qat {
        Some(q) => (Cow::Owned(q.effective(params)?), Some(q.input_steps())),
        None => (Cow::Borrowed(params), None),
    })
}

/// Row ranges splitting `rows` into at most `parts` nearly equal chunks.
fn split(rows: usize, parts: usize) -> Vec<(usize, usize)> {
    let parts = parts.clamp(1, rows.max(1));
    (0..parts).map(|p| (rows * p / parts, rows * (p + 1) / parts)).filter(|(a, b)| b > a).collect()
}

impl Backend for CpuBackend {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn step(&mut self, batch: Batch) -> Result<(), TrainError> {
        let points = self.coords.len() / self.in_dim;
        let (x, y) = match batch {
            Batch::Full => (&self.coords[..], &self.values[..]),
            Batch::Random(size) => {
                if size == 0 {
                    return Err(TrainError("batch size must be > 0".into()));
                }
                self.batch_x.clear();
                self.batch_y.clear();
                for _ in 0..size {
                    let i = (self.rng.next_u64() % points as u64) as usize;
                    self.batch_x
                        .extend_from_slice(&self.coords[i * self.in_dim..(i + 1) * self.in_dim]);
                    self.batch_y
                        .extend_from_slice(&self.values[i * self.out_dim..(i + 1) * self.out_dim]);
                }
                (&self.batch_x[..], &self.batch_y[..])
            }
        };
        let rows = x.len() / self.in_dim;
        let ranges = split(rows, self.workspaces.len());
        let (effective, grid) = effective(self.qat.as_ref(), &self.params)?;
        let net =
            Net { params: &effective, slots: &self.slots, act: self.act, loss: self.loss, grid };
        let (in_dim, out_dim) = (self.in_dim, self.out_dim);
        let total = y.len();
        self.workspaces[..ranges.len()].par_iter_mut().zip(&ranges).for_each(|(ws, &(a, b))| {
            let (x, y) = (&x[a * in_dim..b * in_dim], &y[a * out_dim..b * out_dim]);
            chunk_gradient(net, x, y, total, ws);
        });
        let (first, others) = self.workspaces.split_at_mut(1);
        let grad = &mut first[0].grad;
        let mut loss = first[0].loss;
        for ws in &others[..ranges.len() - 1] {
            grad.iter_mut().zip(&ws.grad).for_each(|(g, o)| *g += o);
            loss += ws.loss;
        }
        // The whole gradient's norm clipped, then Adam with bias correction.
        let scale = match self.adam.clip {
            Some(max) => {
                let norm = grad.iter().map(|&g| f64::from(g) * f64::from(g)).sum::<f64>().sqrt();
                if norm > f64::from(max) { (f64::from(max) / norm) as f32 } else { 1.0 }
            }
            None => 1.0,
        };
        if scale != 1.0 {
            grad.iter_mut().for_each(|g| *g *= scale);
        }
        let Adam { beta1, beta2, eps, .. } = self.adam;
        let lr = self.lr;
        self.beta_t = (self.beta_t.0 * beta1, self.beta_t.1 * beta2);
        let (c1, c2) = (1.0 - self.beta_t.0, 1.0 - self.beta_t.1);
        let step = lr / c1;
        for (((p, m), v), &g) in
            self.params.iter_mut().zip(&mut self.m).zip(&mut self.v).zip(grad.iter())
        {
            *m = beta1 * *m + (1.0 - beta1) * g;
            *v = beta2 * *v + (1.0 - beta2) * g * g;
            *p -= step * *m / ((*v / c2).sqrt() + eps);
        }
        self.loss_sum += loss / total as f64;
        self.loss_steps += 1;
        self.steps += 1;
        Ok(())
    }

    fn set_lr_factor(&mut self, factor: f32) -> Result<(), TrainError> {
        self.lr = self.adam.lr * factor;
        Ok(())
    }

    fn take_loss(&mut self) -> Result<f64, TrainError> {
        let mean = self.loss_sum / self.loss_steps.max(1) as f64;
        (self.loss_sum, self.loss_steps) = (0.0, 0);
        Ok(mean)
    }

    fn predict(&mut self, coords: &[f32], out: &mut [f32]) -> Result<(), TrainError> {
        let rows = coords.len() / self.in_dim;
        if !coords.len().is_multiple_of(self.in_dim) || out.len() != rows * self.out_dim {
            return Err(TrainError("predict: coordinates and outputs disagree".into()));
        }
        let ranges = split(rows, self.workspaces.len());
        let (effective, grid) = effective(self.qat.as_ref(), &self.params)?;
        let net =
            Net { params: &effective, slots: &self.slots, act: self.act, loss: self.loss, grid };
        let (in_dim, out_dim, layers) = (self.in_dim, self.out_dim, self.slots.len());
        let mut outs: Vec<&mut [f32]> = Vec::new();
        let mut rest = out;
        for &(a, b) in &ranges {
            let (head, tail) = rest.split_at_mut((b - a) * out_dim);
            outs.push(head);
            rest = tail;
        }
        self.workspaces[..ranges.len()].par_iter_mut().zip(outs).zip(&ranges).for_each(
            |((ws, o), &(a, b))| {
                // Bounded chunks keep the activations in cache-sized pieces.
                for start in (a..b).step_by(4096) {
                    let end = (start + 4096).min(b);
                    let x = &coords[start * in_dim..end * in_dim];
                    forward(net, x, ws, false);
                    o[(start - a) * out_dim..(end - a) * out_dim].copy_from_slice(&ws.a[layers]);
                }
            },
        );
        Ok(())
    }

    fn set_qat(&mut self, format: Option<NumberFormat>) -> Result<(), TrainError> {
        self.qat = match format {
            Some(format) => Some(Quantiser::new(&self.parameters(), format)?),
            None => None,
        };
        Ok(())
    }

    fn parameters(&self) -> Mlp {
        let mut mlp = self.template.clone();
        mlp.set_flat_parameters(&self.params);
        mlp
    }

    fn state(&mut self) -> Result<TrainState, TrainError> {
        let sampler = serde_json::to_value(&self.rng)
            .map_err(|e| TrainError(format!("cannot record the sampler: {e}")))?;
        Ok(TrainState {
            step: self.steps,
            params: self.params.clone(),
            m: self.m.clone(),
            v: self.v.clone(),
            beta_t: [self.beta_t.0, self.beta_t.1],
            sampler,
        })
    }

    fn restore(&mut self, state: &TrainState) -> Result<(), TrainError> {
        state.check(self.params.len())?;
        self.rng = serde_json::from_value(state.sampler.clone())
            .map_err(|e| TrainError(format!("the checkpoint's sampler is not the CPU's: {e}")))?;
        self.params.clone_from(&state.params);
        self.m.clone_from(&state.m);
        self.v.clone_from(&state.v);
        self.beta_t = (state.beta_t[0], state.beta_t[1]);
        self.steps = state.step;
        (self.loss_sum, self.loss_steps) = (0.0, 0);
        Ok(())
    }
}
