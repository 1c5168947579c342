//! The CUDA backend: hand-written PTX kernels (`kernels/*.ptx`) driven through cudarc, or run
//! on the CPU for checking by the PTX interpreter of the [`ptx_emu`] crate.
//!
//! - [`kernels`]: the module table, one typed argument struct per kernel that builds its
//!   launch, activation codes, the sampler's hash;
//! - [`device`]: the [`Device`] trait the backend drives;
//! - [`driver`]: a GPU through cudarc (the only module calling the driver);
//! - [`emulated`]: the kernels on the interpreter ([`Emulated`]);
//! - [`backend`]: [`CudaBackend`], the trainer's `Backend` on any device.

pub mod backend;
pub mod device;
pub mod driver;
pub mod emulated;
pub mod kernels;

pub use backend::CudaBackend;
pub use device::Device;
pub use driver::{Driver, Unavailable};
pub use emulated::Emulated;

use crate::mlp::Mlp;
use crate::train::{Adam, TrainError};

/// The CUDA backend on GPU 0: `Err(Unavailable)` when there is no driver or no device (the
/// caller falls back or reports), `Ok(Err(..))` when the GPU fails to set up.
pub fn open(
    mlp: Mlp,
    coords: &[f32],
    values: &[f32],
    adam: Adam,
    seed: u64,
) -> Result<Result<CudaBackend<Driver>, TrainError>, Unavailable> {
    Ok(Driver::open(0)?.and_then(|dev| CudaBackend::new(dev, mlp, coords, values, adam, seed)))
}
