//! One typed argument struct per kernel, fields named and ordered as in the kernel's `.ptx`
//! header comment; [`GemmTiled::launch`] and its siblings build the [`Launch`]: the kernel name
//! from [`Kernel::name`], the grid and block from the header's launch shape, the arguments in
//! the `.param` order.

use super::Kernel;
use crate::cuda::device::{Arg, DevPtr, Launch};

/// Threads per block of every kernel but `adam_begin`.
const BLOCK: u32 = 256;

/// A launch of `kernel` on a one-dimensional block of `threads`.
fn launch(kernel: Kernel, grid: [u32; 3], threads: u32, args: Vec<Arg>) -> Launch {
    Launch { kernel: kernel.name(), grid, block: [threads, 1, 1], args }
}

/// `ceil(n / per)` blocks along x.
fn blocks(n: u32, per: u32) -> [u32; 3] {
    [n.div_ceil(per), 1, 1]
}

fn ptr(p: DevPtr) -> Arg {
    Arg::U64(p.0)
}

/// `gemm_tiled` (`gemm.ptx`): `C = epilogue(A · Bop)` over a 64 × 64 tile per block and a
/// `kchunk`-row slice of K per grid z.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GemmTiled {
    /// A, read at `A[m·sam + k·sak]`.
    pub a: DevPtr,
    /// A's stride along M.
    pub sam: u32,
    /// A's stride along K.
    pub sak: u32,
    /// B, read at `B[k·sbk + n·sbn]` for `n < nb`.
    pub b: DevPtr,
    /// B's stride along K.
    pub sbk: u32,
    /// B's stride along N.
    pub sbn: u32,
    /// Rows of the product.
    pub m: u32,
    /// Columns of the product.
    pub n: u32,
    /// The reduction length.
    pub k: u32,
    /// Columns of B read from memory.
    pub nb: u32,
    /// 1: column `nb` of Bop is ones (the bias column of a weight gradient).
    pub ones: u32,
    /// Rows of K per grid z (0 counts as 1).
    pub kchunk: u32,
    /// The output, at `C[m·ldc + n]` (plus `z·zstride` in mode 4).
    pub c: DevPtr,
    /// C's row stride.
    pub ldc: u32,
    /// C's stride between K chunks (mode 4).
    pub zstride: u32,
    /// Per-column bias (modes 0–2).
    pub bias: DevPtr,
    /// f'(z) out (mode 2) or in (mode 3).
    pub d: DevPtr,
    /// The epilogue, 0–4 (see `gemm.ptx`).
    pub mode: u32,
    /// Activation code (`activation.ptx`).
    pub code: u32,
    /// First activation parameter.
    pub p0: f32,
    /// Second activation parameter.
    pub p1: f32,
}

impl GemmTiled {
    /// The launch: grid `(ceil(M/64), ceil(N/64), ceil(K/kchunk))`, block 256.
    pub fn launch(&self) -> Launch {
        let kchunk = self.kchunk.max(1);
        let grid = [self.m.div_ceil(64), self.n.div_ceil(64), self.k.div_ceil(kchunk).max(1)];
        let u = Arg::U32;
        let args = vec![
            ptr(self.a),
            u(self.sam),
            u(self.sak),
            ptr(self.b),
            u(self.sbk),
            u(self.sbn),
            u(self.m),
            u(self.n),
            u(self.k),
            u(self.nb),
            u(self.ones),
            u(kchunk),
            ptr(self.c),
            u(self.ldc),
            u(self.zstride),
            ptr(self.bias),
            ptr(self.d),
            u(self.mode),
            u(self.code),
            Arg::F32(self.p0),
            Arg::F32(self.p1),
        ];
        launch(Kernel::GemmTiled, grid, BLOCK, args)
    }
}

/// `weight_grad_reduce` (`weight_grad.ptx`): a layer's weight and bias gradients from the `S`
/// per-chunk partial sums of `gemm_tiled` mode 4.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeightGradReduce {
    /// The partial sums, `S × N·(K+1)`.
    pub p: DevPtr,
    /// The layer's gradient: `N·K` weights, then `N` biases.
    pub grad: DevPtr,
    /// Number of chunks.
    pub s: u32,
    /// Fan-out.
    pub n: u32,
    /// Fan-in.
    pub k: u32,
}

impl WeightGradReduce {
    /// The launch: grid `ceil(N·(K+1)/256)`, block 256.
    pub fn launch(&self) -> Launch {
        let args =
            vec![ptr(self.p), ptr(self.grad), Arg::U32(self.s), Arg::U32(self.n), Arg::U32(self.k)];
        launch(Kernel::WeightGradReduce, blocks(self.n * (self.k + 1), BLOCK), BLOCK, args)
    }
}

/// `loss_grad` (`loss.ptx`): the loss's gradient `G` and per-block sums of its terms: the
/// squared error (`delta` ≤ 0) or DeepSDF's clamped L1 (`delta` > 0), as
/// [`Loss::term`](crate::train::Loss::term).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossGrad {
    /// Predictions.
    pub y: DevPtr,
    /// Targets.
    pub t: DevPtr,
    /// The gradient out.
    pub g: DevPtr,
    /// One partial sum per block out.
    pub partial: DevPtr,
    /// Number of values.
    pub n: u32,
    /// The gradient's scale (2 / n for the mean squared error, 1 / n for the clamped L1).
    pub scale: f32,
    /// The clamped L1's δ; 0: the squared error.
    pub delta: f32,
}

impl LossGrad {
    /// The launch: grid `ceil(n/256)`, block 256.
    pub fn launch(&self) -> Launch {
        let args = vec![
            ptr(self.y),
            ptr(self.t),
            ptr(self.g),
            ptr(self.partial),
            Arg::U32(self.n),
            Arg::F32(self.scale),
            Arg::F32(self.delta),
        ];
        launch(Kernel::LossGrad, blocks(self.n, BLOCK), BLOCK, args)
    }
}

/// `loss_reduce` (`loss.ptx`): `acc[0] += inv_n · Σ partial[0..m)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossReduce {
    /// The partial sums of `loss_grad`.
    pub partial: DevPtr,
    /// Their number.
    pub m: u32,
    /// 1 / the number of values.
    pub inv_n: f32,
    /// The running loss.
    pub acc: DevPtr,
}

impl LossReduce {
    /// The launch: one block of 256.
    pub fn launch(&self) -> Launch {
        let args = vec![ptr(self.partial), Arg::U32(self.m), Arg::F32(self.inv_n), ptr(self.acc)];
        launch(Kernel::LossReduce, [1, 1, 1], BLOCK, args)
    }
}

/// `adam_begin` (`adam.ptx`): advances the step counter and the powers of the betas, and
/// clears the squared gradient norm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamBegin {
    /// `[t, beta1^t, beta2^t, lr, |g|²]`.
    pub state: DevPtr,
    /// Adam's beta1.
    pub beta1: f32,
    /// Adam's beta2.
    pub beta2: f32,
}

impl AdamBegin {
    /// The launch: one thread.
    pub fn launch(&self) -> Launch {
        let args = vec![ptr(self.state), Arg::F32(self.beta1), Arg::F32(self.beta2)];
        launch(Kernel::AdamBegin, [1, 1, 1], 1, args)
    }
}

/// `adam_update` (`adam.ptx`): PyTorch's Adam with bias correction on `n` parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamUpdate {
    /// The parameters, updated.
    pub params: DevPtr,
    /// Their gradient.
    pub grad: DevPtr,
    /// First moments.
    pub m: DevPtr,
    /// Second moments.
    pub v: DevPtr,
    /// `[t, beta1^t, beta2^t, lr, |g|²]` (the counters set by `adam_begin`, the learning rate
    /// by the host before the step, the squared norm by `loss_reduce` when clipping).
    pub state: DevPtr,
    /// Number of parameters.
    pub n: u32,
    /// Adam's beta1.
    pub beta1: f32,
    /// Adam's beta2.
    pub beta2: f32,
    /// Adam's epsilon.
    pub eps: f32,
    /// The whole gradient's largest L2 norm (`state[4]` holds its square, from
    /// [`GradSumsq`] and [`LossReduce`]); 0: no clipping.
    pub max_norm: f32,
}

impl AdamUpdate {
    /// The launch: grid `ceil(n/256)`, block 256.
    pub fn launch(&self) -> Launch {
        let args = vec![
            ptr(self.params),
            ptr(self.grad),
            ptr(self.m),
            ptr(self.v),
            ptr(self.state),
            Arg::U32(self.n),
            Arg::F32(self.beta1),
            Arg::F32(self.beta2),
            Arg::F32(self.eps),
            Arg::F32(self.max_norm),
        ];
        launch(Kernel::AdamUpdate, blocks(self.n, BLOCK), BLOCK, args)
    }
}

/// `grad_sumsq` (`adam.ptx`): per block of 256 gradient entries, the sum of their squares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GradSumsq {
    /// The gradient.
    pub grad: DevPtr,
    /// One sum per block out.
    pub partial: DevPtr,
    /// Number of entries.
    pub n: u32,
}

impl GradSumsq {
    /// The launch: grid `ceil(n/256)`, block 256.
    pub fn launch(&self) -> Launch {
        let args = vec![ptr(self.grad), ptr(self.partial), Arg::U32(self.n)];
        launch(Kernel::GradSumsq, blocks(self.n, BLOCK), BLOCK, args)
    }
}

/// `gather` (`sample.ptx`): a random minibatch of `rows` rows drawn by
/// [`sample_index`](super::sample_index).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gather {
    /// The dataset's coordinates, `points × in_dim`.
    pub coords: DevPtr,
    /// The dataset's values, `points × out_dim`.
    pub values: DevPtr,
    /// The batch's coordinates out.
    pub bx: DevPtr,
    /// The batch's values out.
    pub by: DevPtr,
    /// The step counter (`state[0]`, set by `adam_begin`).
    pub state: DevPtr,
    /// The sampling seed.
    pub seed: u64,
    /// Points in the dataset.
    pub points: u32,
    /// Rows of the batch.
    pub rows: u32,
    /// Coordinates per point.
    pub in_dim: u32,
    /// Values per point.
    pub out_dim: u32,
}

impl Gather {
    /// The launch: grid `ceil(rows/256)`, block 256.
    pub fn launch(&self) -> Launch {
        let args = vec![
            ptr(self.coords),
            ptr(self.values),
            ptr(self.bx),
            ptr(self.by),
            ptr(self.state),
            Arg::U64(self.seed),
            Arg::U32(self.points),
            Arg::U32(self.rows),
            Arg::U32(self.in_dim),
            Arg::U32(self.out_dim),
        ];
        launch(Kernel::Gather, blocks(self.rows, BLOCK), BLOCK, args)
    }
}

/// `mlp_forward_fused` (`mlp_fused.ptx`): every layer of a narrow network on a 32-row tile
/// per block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MlpForwardFused {
    /// The flat parameters.
    pub params: DevPtr,
    /// `(w_off, fan_in, fan_out)` per layer.
    pub layout: DevPtr,
    /// L, the number of layers.
    pub l: u32,
    /// The input, `rows × fan_in(0)`.
    pub x: DevPtr,
    /// Rows.
    pub rows: u32,
    /// Table of each layer's output buffer.
    pub acts: DevPtr,
    /// Table of each hidden layer's f'(z) buffer.
    pub ders: DevPtr,
    /// 1: inference (only the output); 2: training (every layer's f(z) and f'(z)).
    pub mode: u32,
    /// Activation code (`activation.ptx`).
    pub code: u32,
    /// First activation parameter.
    pub p0: f32,
    /// Second activation parameter.
    pub p1: f32,
}

impl MlpForwardFused {
    /// The launch: grid `ceil(rows/32)`, block 256.
    pub fn launch(&self) -> Launch {
        let args = vec![
            ptr(self.params),
            ptr(self.layout),
            Arg::U32(self.l),
            ptr(self.x),
            Arg::U32(self.rows),
            ptr(self.acts),
            ptr(self.ders),
            Arg::U32(self.mode),
            Arg::U32(self.code),
            Arg::F32(self.p0),
            Arg::F32(self.p1),
        ];
        launch(Kernel::MlpForwardFused, blocks(self.rows, 32), BLOCK, args)
    }
}

/// `mlp_backward_fused` (`mlp_fused.ptx`): the gradient at every layer's pre-activations from
/// the output's, carried down through shared memory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MlpBackwardFused {
    /// The flat parameters.
    pub params: DevPtr,
    /// `(w_off, fan_in, fan_out)` per layer.
    pub layout: DevPtr,
    /// L, the number of layers.
    pub l: u32,
    /// Rows.
    pub rows: u32,
    /// Table of each layer's gradient buffer (the last one holds dLoss/dz at the output).
    pub grads: DevPtr,
    /// Table of each hidden layer's f'(z) buffer.
    pub ders: DevPtr,
}

impl MlpBackwardFused {
    /// The launch: grid `ceil(rows/32)`, block 256.
    pub fn launch(&self) -> Launch {
        let args = vec![
            ptr(self.params),
            ptr(self.layout),
            Arg::U32(self.l),
            Arg::U32(self.rows),
            ptr(self.grads),
            ptr(self.ders),
        ];
        launch(Kernel::MlpBackwardFused, blocks(self.rows, 32), BLOCK, args)
    }
}
