//! What the CUDA backend needs of a device: allocate, copy, launch a kernel by name, and
//! record a sequence of launches for replay. Two implementations: [`super::driver::Driver`]
//! (a GPU through cudarc) and [`super::emulated::Emulated`] (the PTX interpreter).

use crate::train::TrainError;

/// A device allocation of `words` 4-byte values (f32 or u32) at a device address; a
/// sub-range starting at `addr + 4·offset` is passed to kernels as [`DevBuf::at`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DevBuf {
    /// Device address of the first word.
    pub addr: u64,
    /// Length in 4-byte words.
    pub words: usize,
}

impl DevBuf {
    /// The address of word `offset`, as a kernel argument.
    pub fn at(self, offset: usize) -> Arg {
        Arg::U64(self.addr + 4 * offset as u64)
    }

    /// The buffer's address as a kernel argument.
    pub fn arg(self) -> Arg {
        self.at(0)
    }

    /// The address of word `offset`, as a pointer field of a kernel's argument struct.
    pub fn ptr_at(self, offset: usize) -> DevPtr {
        DevPtr(self.addr + 4 * offset as u64)
    }

    /// The buffer's address, as a pointer field of a kernel's argument struct.
    pub fn ptr(self) -> DevPtr {
        self.ptr_at(0)
    }
}

/// A device address passed to a kernel (`.param .u64`): a buffer's first word or one inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DevPtr(pub u64);

/// One kernel argument, in the order of the kernel's `.param` list.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Arg {
    /// `.param .u32`.
    U32(u32),
    /// `.param .u64` (device addresses too).
    U64(u64),
    /// `.param .f32`.
    F32(f32),
}

/// A launch: kernel name, grid and block shapes, arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct Launch {
    /// The kernel's `.entry` name.
    pub kernel: &'static str,
    /// Blocks per grid.
    pub grid: [u32; 3],
    /// Threads per block.
    pub block: [u32; 3],
    /// Arguments.
    pub args: Vec<Arg>,
}

/// A device as the CUDA backend drives it. Work may be queued; `download` waits for it.
pub trait Device {
    /// A description for logs (model name).
    fn describe(&self) -> String;
    /// A zeroed allocation of `words` 4-byte values.
    fn alloc(&mut self, words: usize) -> Result<DevBuf, TrainError>;
    /// Releases an allocation.
    fn free(&mut self, buf: DevBuf);
    /// Copies `data` into `buf` from word `offset`.
    fn upload(&mut self, buf: DevBuf, offset: usize, data: &[u32]) -> Result<(), TrainError>;
    /// Copies words of `buf` from `offset` into `out`, after all queued work.
    fn download(&self, buf: DevBuf, offset: usize, out: &mut [u32]) -> Result<(), TrainError>;
    /// Queues a kernel launch.
    fn launch(&mut self, launch: &Launch) -> Result<(), TrainError>;
    /// Queues a recorded sequence of launches: the CUDA driver captures them once into a
    /// graph and replays that graph each later call with the same `key`.
    fn replay(&mut self, key: u64, launches: &[Launch]) -> Result<(), TrainError>;
    /// Drops recorded graphs (buffers were reallocated).
    fn forget_graphs(&mut self);
}

/// Uploads f32 values.
pub fn upload_f32(
    dev: &mut dyn Device,
    buf: DevBuf,
    offset: usize,
    data: &[f32],
) -> Result<(), TrainError> {
    dev.upload(buf, offset, bytemuck::cast_slice(data))
}

/// Downloads f32 values.
pub fn download_f32(
    dev: &dyn Device,
    buf: DevBuf,
    offset: usize,
    out: &mut [f32],
) -> Result<(), TrainError> {
    dev.download(buf, offset, bytemuck::cast_slice_mut(out))
}
