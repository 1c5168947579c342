//! The CUDA backend: the trainer's [`Backend`] on any [`Device`] (a GPU, or the PTX
//! interpreter in tests).
//!
//! Everything lives on the device: the dataset, the flat parameter buffer (the CPU backend's
//! layout: each layer's weights row-major `fan_out × fan_in`, then its biases), gradients,
//! Adam moments, the step counter and a loss accumulator. A step is a fixed sequence of
//! launches — `adam_begin` (step counter), `gather` (random batches only), the forward pass,
//! `loss_grad` and `loss_reduce`, the backward pass, with `--clip-grad` the gradient's norm
//! (`grad_sumsq`, `loss_reduce`), and `adam_update` — with arguments that
//! do not change between steps, so the GPU captures it once in a CUDA graph and replays it.
//! The host copies back only the loss, when the trainer logs.
//!
//! Two ways through the layers:
//! - fused (every width at most [`FUSED_MAX_WIDTH`], the default there): `mlp_forward_fused`
//!   runs all layers of a 32-row tile with the activations in shared memory, writing out what
//!   the backward pass needs (each layer's f(z) and f'(z)); `mlp_backward_fused` carries the
//!   gradient down through all layers the same way; then the weight gradients as below;
//! - layer by layer: one `gemm_tiled` per layer forward (bias, activation and its derivative
//!   in the epilogue), then per layer from the top the weight gradient (`gemm_tiled` over batch
//!   chunks + `weight_grad_reduce`) and the gradient into the layer below (`gemm_tiled`, the
//!   activation derivative in the epilogue).

use super::device::{DevBuf, Device, Launch, download_f32, upload_f32};
use super::kernels::{
    AdamBegin, AdamUpdate, FUSED_MAX_WIDTH, Gather, GemmTiled, GradSumsq, LossGrad, LossReduce,
    MlpBackwardFused, MlpForwardFused, WeightGradReduce, act_code,
};
use crate::mlp::{Mlp, Slot};
use crate::train::{Adam, Backend, Batch, Loss, TrainError, TrainState};
use vi3nr_core::eval::fast::FastAct;
use vi3nr_core::model::NumberFormat;

/// Rows per weight-gradient chunk at least; partial sums are capped at this many floats.
const MIN_CHUNK: usize = 256;
const PARTIAL_CAP: usize = 1 << 22;
/// Rows per `predict` launch sequence when no batch capacity was set yet.
const PREDICT_ROWS: usize = 1 << 16;

/// Buffers that depend on the number of rows.
#[derive(Debug, Default)]
struct Work {
    rows: usize,
    batch_x: Option<DevBuf>,
    batch_y: Option<DevBuf>,
    /// Output of each layer (post-activation for hidden layers).
    acts: Vec<DevBuf>,
    /// f'(z) of each hidden layer.
    ders: Vec<DevBuf>,
    /// Gradient at each layer's pre-activations.
    grads: Vec<DevBuf>,
    /// Device tables of the `acts`, `ders` and `grads` addresses, for the fused kernels.
    tables: Option<[DevBuf; 3]>,
    partials: Option<DevBuf>,
    loss_partials: Option<DevBuf>,
}

/// The CUDA backend over a device `D`.
#[derive(Debug)]
pub struct CudaBackend<D: Device> {
    dev: D,
    template: Mlp,
    act: (u32, f32, f32),
    layers: Vec<Slot>,
    n_params: usize,
    params: DevBuf,
    grad: DevBuf,
    /// Per-block sums of squared gradient entries (`grad_sumsq`), for clipping.
    grad_partials: DevBuf,
    m: DevBuf,
    v: DevBuf,
    state: DevBuf,
    loss: DevBuf,
    loss_steps: u64,
    coords: DevBuf,
    values: DevBuf,
    points: usize,
    in_dim: usize,
    out_dim: usize,
    adam: Adam,
    loss_fn: Loss,
    /// The learning rate in `state[3]`, which `adam_update` reads.
    lr: f32,
    seed: u64,
    /// `(w_off, fan_in, fan_out)` per layer, for the fused kernels.
    layout: DevBuf,
    /// Whether steps and predictions use the fused kernels.
    fused: bool,
    work: Work,
}

impl<D: Device> CudaBackend<D> {
    /// A backend training `mlp` on `coords` (n × in_dim) → `values` (n × out_dim) on `dev`;
    /// `seed` drives minibatch sampling.
    pub fn new(
        mut dev: D,
        mlp: Mlp,
        coords: &[f32],
        values: &[f32],
        adam: Adam,
        seed: u64,
    ) -> Result<Self, TrainError> {
        let (in_dim, out_dim) = crate::train::data_dims(&mlp, coords, values)?;
        let points = coords.len() / in_dim;
        if u32::try_from(values.len()).is_err() {
            return Err(TrainError(format!("{points} points: too many for the CUDA backend")));
        }
        let (layers, flat) = (mlp.slots(), mlp.flat_parameters());
        let n = flat.len();
        let params = dev.alloc(n)?;
        upload_f32(&mut dev, params, 0, &flat)?;
        let (grad, m, v) = (dev.alloc(n)?, dev.alloc(n)?, dev.alloc(n)?);
        let grad_partials = dev.alloc(n.div_ceil(256))?;
        let state = dev.alloc(5)?;
        let one = 1.0f32.to_bits();
        dev.upload(state, 0, &[0, one, one, adam.lr.to_bits(), 0])?;
        let loss = dev.alloc(1)?;
        let coords_buf = dev.alloc(coords.len())?;
        upload_f32(&mut dev, coords_buf, 0, coords)?;
        let values_buf = dev.alloc(values.len())?;
        upload_f32(&mut dev, values_buf, 0, values)?;
        let table: Vec<u32> =
            layers.iter().flat_map(|l| [l.w, l.fan_in, l.fan_out].map(|v| v as u32)).collect();
        let layout = dev.alloc(table.len())?;
        dev.upload(layout, 0, &table)?;
        let fused = fusable(&layers);
        Ok(CudaBackend {
            act: act_code(FastAct::new(Some(mlp.act))),
            dev,
            template: mlp,
            layers,
            n_params: n,
            params,
            grad,
            grad_partials,
            m,
            v,
            state,
            loss,
            loss_steps: 0,
            coords: coords_buf,
            values: values_buf,
            points,
            in_dim,
            out_dim,
            adam,
            loss_fn: Loss::Mse,
            lr: adam.lr,
            seed,
            layout,
            fused,
            work: Work::default(),
        })
    }

    /// The same backend minimising `loss` (MSE by default), as
    /// [`CpuBackend::with_loss`](crate::train::CpuBackend::with_loss).
    pub fn with_loss(mut self, loss: Loss) -> Self {
        self.loss_fn = loss;
        self.dev.forget_graphs();
        self
    }

    /// The device.
    pub fn device(&self) -> &D {
        &self.dev
    }

    /// Whether the fused kernels run this network (every width at most
    /// [`FUSED_MAX_WIDTH`]; the layer-by-layer kernels otherwise).
    pub fn fused(&self) -> bool {
        self.fused
    }

    /// Chooses the layer-by-layer kernels (`false`) or, where the widths allow, the fused ones;
    /// returns the choice in effect.
    pub fn set_fused(&mut self, fused: bool) -> bool {
        let fused = fused && fusable(&self.layers);
        if self.fused != fused {
            self.fused = fused;
            self.dev.forget_graphs();
        }
        self.fused
    }

    /// Makes the row-dependent buffers hold at least `rows` rows.
    fn reserve(&mut self, rows: usize) -> Result<(), TrainError> {
        if rows <= self.work.rows {
            return Ok(());
        }
        let dev = &mut self.dev;
        let mut w = Work { rows, ..Work::default() };
        w.batch_x = Some(dev.alloc(rows * self.in_dim)?);
        w.batch_y = Some(dev.alloc(rows * self.out_dim)?);
        for (i, l) in self.layers.iter().enumerate() {
            w.acts.push(dev.alloc(rows * l.fan_out)?);
            w.grads.push(dev.alloc(rows * l.fan_out)?);
            if i + 1 < self.layers.len() {
                w.ders.push(dev.alloc(rows * l.fan_out)?);
            }
        }
        let mut tables = [DevBuf { addr: 0, words: 0 }; 3];
        for (table, bufs) in tables.iter_mut().zip([&w.acts, &w.ders, &w.grads]) {
            let words: Vec<u32> =
                bufs.iter().flat_map(|b| [b.addr as u32, (b.addr >> 32) as u32]).collect();
            *table = dev.alloc(words.len().max(2))?;
            dev.upload(*table, 0, &words)?;
        }
        w.tables = Some(tables);
        let partials =
            self.layers.iter().map(|l| chunks(rows, l).0 * l.fan_out * (l.fan_in + 1)).max();
        w.partials = Some(dev.alloc(partials.unwrap_or(1))?);
        w.loss_partials = Some(dev.alloc((rows * self.out_dim).div_ceil(256))?);
        dev.forget_graphs();
        let old = std::mem::replace(&mut self.work, w);
        let [t0, t1, t2] = old.tables.map_or([None; 3], |t| t.map(Some));
        let optional = [old.batch_x, old.batch_y, old.partials, old.loss_partials, t0, t1, t2];
        for b in old
            .acts
            .into_iter()
            .chain(old.ders)
            .chain(old.grads)
            .chain(optional.into_iter().flatten())
        {
            self.dev.free(b);
        }
        Ok(())
    }

    /// Forward launches over `rows` rows of `x`; `train` keeps derivatives.
    fn forward(&self, x: DevBuf, rows: usize, train: bool, out: &mut Vec<Launch>) {
        let (code, p0, p1) = self.act;
        let last = self.layers.len() - 1;
        if self.fused {
            let [acts, ders, _] = self.work.tables.unwrap();
            let launch = MlpForwardFused {
                params: self.params.ptr(),
                layout: self.layout.ptr(),
                l: self.layers.len() as u32,
                x: x.ptr(),
                rows: rows as u32,
                acts: acts.ptr(),
                ders: ders.ptr(),
                mode: if train { 2 } else { 1 },
                code,
                p0,
                p1,
            };
            out.push(launch.launch());
            return;
        }
        for (i, l) in self.layers.iter().enumerate() {
            let input = if i == 0 { x } else { self.work.acts[i - 1] };
            let mode = if i == last {
                0
            } else if train {
                2
            } else {
                1
            };
            let ders = if i == last { self.work.acts[i] } else { self.work.ders[i] };
            let (k, n) = (l.fan_in as u32, l.fan_out as u32);
            // Forward: A = X (sam = K, sak = 1), B = W (sbk = 1, sbn = K).
            let product = GemmTiled {
                a: input.ptr(),
                sam: k,
                sak: 1,
                b: self.params.ptr_at(l.w),
                sbk: 1,
                sbn: k,
                m: rows as u32,
                n,
                k,
                nb: n,
                ones: 0,
                kchunk: k,
                c: self.work.acts[i].ptr(),
                ldc: n,
                zstride: 0,
                bias: self.params.ptr_at(l.b),
                d: ders.ptr(),
                mode,
                code,
                p0,
                p1,
            };
            out.push(product.launch());
        }
    }

    /// The launches of one training step on `rows` rows.
    fn step_launches(&self, batch: Batch, rows: usize) -> Vec<Launch> {
        let Adam { beta1, beta2, eps, .. } = self.adam;
        let w = &self.work;
        let mut out = vec![AdamBegin { state: self.state.ptr(), beta1, beta2 }.launch()];
        let (x, y) = match batch {
            Batch::Full => (self.coords, self.values),
            Batch::Random(_) => {
                let (bx, by) = (w.batch_x.unwrap(), w.batch_y.unwrap());
                let gather = Gather {
                    coords: self.coords.ptr(),
                    values: self.values.ptr(),
                    bx: bx.ptr(),
                    by: by.ptr(),
                    state: self.state.ptr(),
                    seed: self.seed,
                    points: self.points as u32,
                    rows: rows as u32,
                    in_dim: self.in_dim as u32,
                    out_dim: self.out_dim as u32,
                };
                out.push(gather.launch());
                (bx, by)
            }
        };
        self.gradient(x, y, rows, &mut out);
        if self.adam.clip.is_some() {
            // The squared norm into state[4] (cleared by adam_begin), in a fixed order.
            let n = self.n_params as u32;
            let partial = self.grad_partials.ptr();
            out.push(GradSumsq { grad: self.grad.ptr(), partial, n }.launch());
            let acc = self.state.ptr_at(4);
            out.push(LossReduce { partial, m: n.div_ceil(256), inv_n: 1.0, acc }.launch());
        }
        let update = AdamUpdate {
            params: self.params.ptr(),
            grad: self.grad.ptr(),
            m: self.m.ptr(),
            v: self.v.ptr(),
            state: self.state.ptr(),
            n: self.n_params as u32,
            beta1,
            beta2,
            eps,
            max_norm: self.adam.clip.unwrap_or(0.0),
        };
        out.push(update.launch());
        out
    }

    /// The launches from `rows` inputs `x` and targets `y` to the loss (added to the device
    /// accumulator) and the gradient in `self.grad`: forward, loss, backward.
    fn gradient(&self, x: DevBuf, y: DevBuf, rows: usize, out: &mut Vec<Launch>) {
        let w = &self.work;
        let (code, p0, p1) = self.act;
        self.forward(x, rows, true, out);
        let last = self.layers.len() - 1;
        let n = rows * self.out_dim;
        let blocks = n.div_ceil(256);
        let loss_partials = w.loss_partials.unwrap();
        let (scale, delta) = match self.loss_fn {
            Loss::Mse => (2.0 / n as f32, 0.0),
            Loss::ClampedL1 { delta } => (1.0 / n as f32, delta),
        };
        let loss = LossGrad {
            y: w.acts[last].ptr(),
            t: y.ptr(),
            g: w.grads[last].ptr(),
            partial: loss_partials.ptr(),
            n: n as u32,
            scale,
            delta,
        };
        out.push(loss.launch());
        let reduce = LossReduce {
            partial: loss_partials.ptr(),
            m: blocks as u32,
            inv_n: 1.0 / n as f32,
            acc: self.loss.ptr(),
        };
        out.push(reduce.launch());
        if self.fused {
            let [_, ders, grads] = w.tables.unwrap();
            let backward = MlpBackwardFused {
                params: self.params.ptr(),
                layout: self.layout.ptr(),
                l: self.layers.len() as u32,
                rows: rows as u32,
                grads: grads.ptr(),
                ders: ders.ptr(),
            };
            out.push(backward.launch());
        }
        for (i, l) in self.layers.iter().enumerate().rev() {
            let input = if i == 0 { x } else { w.acts[i - 1] };
            let (splits, chunk) = chunks(rows, l);
            let partials = w.partials.unwrap();
            let (k, n) = (l.fan_in as u32, l.fan_out as u32);
            // Weight gradient: A = G^T (sam = 1, sak = N), B = [X | 1] (sbk = K, sbn = 1,
            // ones = 1), one partial sum per chunk of rows.
            let product = GemmTiled {
                a: w.grads[i].ptr(),
                sam: 1,
                sak: n,
                b: input.ptr(),
                sbk: k,
                sbn: 1,
                m: n,
                n: k + 1,
                k: rows as u32,
                nb: k,
                ones: 1,
                kchunk: chunk as u32,
                c: partials.ptr(),
                ldc: k + 1,
                zstride: n * (k + 1),
                bias: self.params.ptr(),
                d: self.params.ptr(),
                mode: 4,
                code,
                p0,
                p1,
            };
            out.push(product.launch());
            let reduce = WeightGradReduce {
                p: partials.ptr(),
                grad: self.grad.ptr_at(l.w),
                s: splits as u32,
                n,
                k,
            };
            out.push(reduce.launch());
            if i > 0 && !self.fused {
                // Gradient into the layer below: A = G (sam = N, sak = 1), B = W (sbk = K,
                // sbn = 1), times f'(z) of the layer below.
                let product = GemmTiled {
                    a: w.grads[i].ptr(),
                    sam: n,
                    sak: 1,
                    b: self.params.ptr_at(l.w),
                    sbk: k,
                    sbn: 1,
                    m: rows as u32,
                    n: k,
                    k: n,
                    nb: k,
                    ones: 0,
                    kchunk: n,
                    c: w.grads[i - 1].ptr(),
                    ldc: k,
                    zstride: 0,
                    bias: self.params.ptr(),
                    d: w.ders[i - 1].ptr(),
                    mode: 3,
                    code,
                    p0,
                    p1,
                };
                out.push(product.launch());
            }
        }
    }

    /// The MSE on `(coords, values)` and its gradient (flat, the CPU backend's layout), by
    /// the same kernels as a step, without updating: for checking against the CPU backend.
    pub fn loss_and_gradient(
        &mut self,
        coords: &[f32],
        values: &[f32],
    ) -> Result<(f32, Vec<f32>), TrainError> {
        let rows = coords.len() / self.in_dim;
        if rows == 0 || coords.len() != rows * self.in_dim || values.len() != rows * self.out_dim {
            return Err(TrainError("gradient: coordinates and values disagree".into()));
        }
        self.reserve(rows)?;
        let (bx, by) = (self.work.batch_x.unwrap(), self.work.batch_y.unwrap());
        upload_f32(&mut self.dev, bx, 0, coords)?;
        upload_f32(&mut self.dev, by, 0, values)?;
        self.dev.upload(self.loss, 0, &[0])?;
        let mut launches = Vec::new();
        self.gradient(bx, by, rows, &mut launches);
        launches.iter().try_for_each(|l| self.dev.launch(l))?;
        let mut loss = [0.0f32];
        download_f32(&self.dev, self.loss, 0, &mut loss)?;
        self.dev.upload(self.loss, 0, &[0])?;
        let mut grad = vec![0.0; self.n_params];
        download_f32(&self.dev, self.grad, 0, &mut grad)?;
        Ok((loss[0], grad))
    }
}

/// Whether the fused kernels take these layers (every width at most [`FUSED_MAX_WIDTH`]).
fn fusable(layers: &[Slot]) -> bool {
    layers.iter().all(|l| l.fan_in.max(l.fan_out) <= FUSED_MAX_WIDTH)
}

/// How `gemm_tiled` splits `rows` for layer `l`: (chunks, rows per chunk), chunks of
/// at least [`MIN_CHUNK`] rows (a multiple of 16), at most [`PARTIAL_CAP`] partial floats.
fn chunks(rows: usize, l: &Slot) -> (usize, usize) {
    let per = l.fan_out * (l.fan_in + 1);
    let most = (PARTIAL_CAP / per).max(1);
    let wanted = rows.div_ceil(MIN_CHUNK).clamp(1, most);
    let chunk = rows.div_ceil(wanted).next_multiple_of(16);
    (rows.div_ceil(chunk), chunk)
}

impl<D: Device> Backend for CudaBackend<D> {
    fn name(&self) -> &'static str {
        "cuda"
    }

    fn step(&mut self, batch: Batch) -> Result<(), TrainError> {
        let rows = match batch {
            Batch::Full => self.points,
            Batch::Random(0) => return Err(TrainError("batch size must be > 0".into())),
            Batch::Random(n) => n,
        };
        if u32::try_from(rows * self.out_dim.max(self.in_dim)).is_err() {
            return Err(TrainError(format!("batch of {rows}: too large for the CUDA backend")));
        }
        self.reserve(rows)?;
        let launches = self.step_launches(batch, rows);
        let key = match batch {
            Batch::Full => u64::MAX,
            Batch::Random(n) => n as u64,
        };
        self.dev.replay(key, &launches)?;
        self.loss_steps += 1;
        Ok(())
    }

    fn set_lr_factor(&mut self, factor: f32) -> Result<(), TrainError> {
        // The rate is device data, not a kernel argument, so the recorded graphs stay valid;
        // the copy is queued on the stream after the steps before it.
        let lr = self.adam.lr * factor;
        if lr.to_bits() != self.lr.to_bits() {
            self.dev.upload(self.state, 3, &[lr.to_bits()])?;
            self.lr = lr;
        }
        Ok(())
    }

    fn set_qat(&mut self, format: Option<NumberFormat>) -> Result<(), TrainError> {
        match format {
            None => Ok(()),
            Some(f) => Err(TrainError(format!(
                "quantisation-aware training ({}) runs on the CPU backend only: --device cpu, \
                 or --qat off to train on the GPU",
                f.name()
            ))),
        }
    }

    fn take_loss(&mut self) -> Result<f64, TrainError> {
        let mut sum = [0.0f32];
        download_f32(&self.dev, self.loss, 0, &mut sum)?;
        self.dev.upload(self.loss, 0, &[0])?;
        let steps = std::mem::take(&mut self.loss_steps).max(1);
        Ok(f64::from(sum[0]) / steps as f64)
    }

    fn predict(&mut self, coords: &[f32], out: &mut [f32]) -> Result<(), TrainError> {
        let rows = coords.len() / self.in_dim;
        if !coords.len().is_multiple_of(self.in_dim) || out.len() != rows * self.out_dim {
            return Err(TrainError("predict: coordinates and outputs disagree".into()));
        }
        if self.work.rows == 0 {
            self.reserve(rows.min(PREDICT_ROWS))?;
        }
        let cap = self.work.rows;
        let bx = self.work.batch_x.unwrap();
        let last = self.layers.len() - 1;
        for start in (0..rows).step_by(cap) {
            let n = (rows - start).min(cap);
            upload_f32(
                &mut self.dev,
                bx,
                0,
                &coords[start * self.in_dim..(start + n) * self.in_dim],
            )?;
            let mut launches = Vec::new();
            self.forward(bx, n, false, &mut launches);
            launches.iter().try_for_each(|l| self.dev.launch(l))?;
            let o = &mut out[start * self.out_dim..(start + n) * self.out_dim];
            download_f32(&self.dev, self.work.acts[last], 0, o)?;
        }
        Ok(())
    }

    fn parameters(&self) -> Mlp {
        let mut flat = vec![0.0f32; self.n_params];
        let mut mlp = self.template.clone();
        // A failed copy leaves NaN parameters, which the caller's evaluation reports.
        if download_f32(&self.dev, self.params, 0, &mut flat).is_err() {
            flat.fill(f32::NAN);
        }
        mlp.set_flat_parameters(&flat);
        mlp
    }

    fn state(&mut self) -> Result<TrainState, TrainError> {
        let n = self.n_params;
        let (mut params, mut m, mut v) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        download_f32(&self.dev, self.params, 0, &mut params)?;
        download_f32(&self.dev, self.m, 0, &mut m)?;
        download_f32(&self.dev, self.v, 0, &mut v)?;
        // [t, β₁ᵗ, β₂ᵗ, lr] (adam.ptx); the sampler is a function of the seed and t.
        let mut counters = [0u32; 3];
        self.dev.download(self.state, 0, &mut counters)?;
        Ok(TrainState {
            step: u64::from(counters[0]),
            params,
            m,
            v,
            beta_t: [f32::from_bits(counters[1]), f32::from_bits(counters[2])],
            sampler: serde_json::json!({"kind": "cuda", "seed": self.seed}),
        })
    }

    fn restore(&mut self, state: &TrainState) -> Result<(), TrainError> {
        state.check(self.n_params)?;
        if state.sampler != serde_json::json!({"kind": "cuda", "seed": self.seed}) {
            return Err(TrainError("the checkpoint's sampler is not this CUDA run's".into()));
        }
        let t = u32::try_from(state.step).map_err(|_| {
            TrainError(format!("step {}: too many for the CUDA backend", state.step))
        })?;
        upload_f32(&mut self.dev, self.params, 0, &state.params)?;
        upload_f32(&mut self.dev, self.m, 0, &state.m)?;
        upload_f32(&mut self.dev, self.v, 0, &state.v)?;
        let counters = [t, state.beta_t[0].to_bits(), state.beta_t[1].to_bits()];
        self.dev.upload(self.state, 0, &counters)?;
        self.dev.upload(self.loss, 0, &[0])?;
        self.loss_steps = 0;
        Ok(())
    }
}
