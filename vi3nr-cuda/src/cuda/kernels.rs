//! The PTX kernels (`vi3nr-cuda/kernels/*.ptx`), registered once: each [`Module`] is one
//! `.ptx` file behind a common header, with `activation.ptx` linked in where the kernels call
//! `act_fd`; each [`Kernel`] names one `.entry` and its module. The files' opening comments give
//! each kernel's arguments and launch shape, which the argument structs ([`GemmTiled`],
//! [`AdamUpdate`], ...) follow: each builds its [`Launch`](super::device::Launch).

mod args;

pub use args::{
    AdamBegin, AdamUpdate, Gather, GemmTiled, GradSumsq, LossGrad, LossReduce, MlpBackwardFused,
    MlpForwardFused, WeightGradReduce,
};

use vi3nr_core::eval::fast::FastAct;

/// Widest layer (fan-in and fan-out) the fused kernels take (`mlp_fused.ptx`).
pub const FUSED_MAX_WIDTH: usize = 64;

/// PTX version and target every module is assembled for (sm_80 and newer JIT-compile it).
const HEADER: &str = ".version 7.0\n.target sm_80\n.address_size 64\n";
const ACTIVATION: &str = include_str!("../../kernels/activation.ptx");

/// One kernel: an `.entry` of one [`Module`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// `gemm_tiled` ([`GemmTiled`]).
    GemmTiled,
    /// `weight_grad_reduce` ([`WeightGradReduce`]).
    WeightGradReduce,
    /// `loss_grad` ([`LossGrad`]).
    LossGrad,
    /// `loss_reduce` ([`LossReduce`]).
    LossReduce,
    /// `adam_begin` ([`AdamBegin`]).
    AdamBegin,
    /// `adam_update` ([`AdamUpdate`]).
    AdamUpdate,
    /// `grad_sumsq` ([`GradSumsq`]).
    GradSumsq,
    /// `gather` ([`Gather`]).
    Gather,
    /// `mlp_forward_fused` ([`MlpForwardFused`]).
    MlpForwardFused,
    /// `mlp_backward_fused` ([`MlpBackwardFused`]).
    MlpBackwardFused,
}

impl Kernel {
    /// Every kernel.
    pub const ALL: [Kernel; 10] = [
        Kernel::GemmTiled,
        Kernel::WeightGradReduce,
        Kernel::LossGrad,
        Kernel::LossReduce,
        Kernel::AdamBegin,
        Kernel::AdamUpdate,
        Kernel::GradSumsq,
        Kernel::Gather,
        Kernel::MlpForwardFused,
        Kernel::MlpBackwardFused,
    ];

    /// The `.entry` name.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::GemmTiled => "gemm_tiled",
            Kernel::WeightGradReduce => "weight_grad_reduce",
            Kernel::LossGrad => "loss_grad",
            Kernel::LossReduce => "loss_reduce",
            Kernel::AdamBegin => "adam_begin",
            Kernel::AdamUpdate => "adam_update",
            Kernel::GradSumsq => "grad_sumsq",
            Kernel::Gather => "gather",
            Kernel::MlpForwardFused => "mlp_forward_fused",
            Kernel::MlpBackwardFused => "mlp_backward_fused",
        }
    }

    /// The module that defines it.
    pub fn module(self) -> Module {
        match self {
            Kernel::GemmTiled => Module::Gemm,
            Kernel::WeightGradReduce => Module::WeightGrad,
            Kernel::LossGrad | Kernel::LossReduce => Module::Loss,
            Kernel::AdamBegin | Kernel::AdamUpdate | Kernel::GradSumsq => Module::Adam,
            Kernel::Gather => Module::Sample,
            Kernel::MlpForwardFused | Kernel::MlpBackwardFused => Module::MlpFused,
        }
    }
}

/// One PTX module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Module {
    /// `gemm_tiled`: every product of the layer-by-layer path.
    Gemm,
    /// `weight_grad_reduce`.
    WeightGrad,
    /// `loss_grad`, `loss_reduce`.
    Loss,
    /// `adam_begin`, `adam_update`, `grad_sumsq`.
    Adam,
    /// `gather`.
    Sample,
    /// `mlp_forward_fused`, `mlp_backward_fused`: every layer of a narrow network at once.
    MlpFused,
}

impl Module {
    /// Every module.
    pub const ALL: [Module; 6] = [
        Module::Gemm,
        Module::WeightGrad,
        Module::Loss,
        Module::Adam,
        Module::Sample,
        Module::MlpFused,
    ];

    /// The module's file name in `kernels/`.
    pub fn file(self) -> &'static str {
        match self {
            Module::Gemm => "gemm.ptx",
            Module::WeightGrad => "weight_grad.ptx",
            Module::Loss => "loss.ptx",
            Module::Adam => "adam.ptx",
            Module::Sample => "sample.ptx",
            Module::MlpFused => "mlp_fused.ptx",
        }
    }

    /// The kernels it defines (those of [`Kernel::ALL`] whose [`Kernel::module`] it is).
    pub fn kernels(self) -> impl Iterator<Item = Kernel> {
        Kernel::ALL.into_iter().filter(move |k| k.module() == self)
    }

    fn body(self) -> &'static str {
        match self {
            Module::Gemm => include_str!("../../kernels/gemm.ptx"),
            Module::WeightGrad => include_str!("../../kernels/weight_grad.ptx"),
            Module::Loss => include_str!("../../kernels/loss.ptx"),
            Module::Adam => include_str!("../../kernels/adam.ptx"),
            Module::Sample => include_str!("../../kernels/sample.ptx"),
            Module::MlpFused => include_str!("../../kernels/mlp_fused.ptx"),
        }
    }

    /// The complete PTX text, as loaded on the device and assembled by the CI check.
    pub fn source(self) -> String {
        let mut s = String::from(HEADER);
        if matches!(self, Module::Gemm | Module::MlpFused) {
            s.push_str(ACTIVATION);
        }
        s.push_str(self.body());
        s
    }
}

/// An activation as the kernels' `(code, p0, p1)` arguments: the model format's
/// [`ActCode`](vi3nr_core::model::ActCode) with the evaluator's prepared parameters (see
/// `activation.ptx`).
pub fn act_code(act: FastAct) -> (u32, f32, f32) {
    let (code, p0, p1) = act.code();
    (code as u32, p0, p1)
}

/// The batch row `i` of step `t` draws sample `sample_index(seed, t, i, points)`: the host copy
/// of `sample.ptx`'s hash, for tests and for reproducing a device run.
pub fn sample_index(seed: u64, t: u32, i: u32, points: u32) -> u32 {
    let mut z = ((u64::from(t) << 32) | u64::from(i))
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(seed);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (((z >> 32) * u64::from(points)) >> 32) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kernel_is_defined_in_its_module() {
        for m in Module::ALL {
            let src = m.source();
            assert!(src.starts_with(".version"), "{m:?}");
            for k in m.kernels().map(Kernel::name) {
                assert!(src.contains(&format!(".entry {k}(")), "{k} missing from {}", m.file());
            }
        }
        assert!(Module::ALL.iter().all(|m| m.kernels().next().is_some()));
    }

    #[test]
    fn sample_indices_are_in_range_and_spread() {
        let points = 1000;
        let mut hits = vec![0u32; points as usize];
        for i in 0..100_000 {
            let j = sample_index(7, 1 + i / 1000, i % 1000, points);
            hits[j as usize] += 1;
        }
        // 100 expected per bin; a uniform draw stays within ±50 % everywhere (p ≈ 1e-6).
        let (lo, hi) = (hits.iter().min().unwrap(), hits.iter().max().unwrap());
        assert!(*lo > 50 && *hi < 150, "bins range {lo}..{hi}");
    }
}
