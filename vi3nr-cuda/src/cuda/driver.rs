//! The GPU through cudarc: the only module that calls the CUDA driver.
//!
//! cudarc loads libcuda at run time (feature `dynamic-loading`), and every driver call panics
//! when the library is missing, so [`Driver::open`] checks for it before the first call. One
//! context and one non-default stream (graphs are captured on it); cudarc's per-buffer event
//! tracking is switched off because the backend orders all work on that single stream.

use super::device::{Arg, DevBuf, Device, Launch};
use super::kernels::{Kernel, Module};
use crate::train::TrainError;
use cudarc::driver::{
    CudaContext, CudaFunction, CudaGraph, CudaSlice, CudaStream, DevicePtr, LaunchConfig,
    PushKernelArg, sys,
};
use cudarc::nvrtc::Ptx;
use std::collections::HashMap;
use std::sync::Arc;

/// Why there is no GPU to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unavailable {
    /// libcuda could not be loaded (no NVIDIA driver).
    NoDriver,
    /// The driver loaded but reported no usable device (with its error).
    NoDevice(String),
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unavailable::NoDriver => f.write_str("no CUDA driver (libcuda could not be loaded)"),
            Unavailable::NoDevice(e) => write!(f, "no CUDA device ({e})"),
        }
    }
}

/// Whether a CUDA driver library can be loaded, without touching any other driver call.
pub fn driver_present() -> bool {
    // SAFETY: only tries to dlopen libcuda; no driver function is called.
    unsafe { sys::is_culib_present() }
}

/// A GPU with the backend's kernels loaded.
pub struct Driver {
    /// The stream every launch and copy goes to (it holds the context).
    stream: Arc<CudaStream>,
    functions: HashMap<&'static str, CudaFunction>,
    buffers: HashMap<u64, CudaSlice<u32>>,
    graphs: HashMap<u64, CudaGraph>,
    name: String,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver").field("name", &self.name).finish_non_exhaustive()
    }
}

fn err(what: &str, e: impl std::fmt::Debug) -> TrainError {
    TrainError(format!("CUDA: {what}: {e:?}"))
}

impl Driver {
    /// Opens GPU `ordinal` and loads every kernel module.
    pub fn open(ordinal: usize) -> Result<Result<Self, TrainError>, Unavailable> {
        if !driver_present() {
            return Err(Unavailable::NoDriver);
        }
        let ctx = CudaContext::new(ordinal).map_err(|e| Unavailable::NoDevice(format!("{e:?}")))?;
        Ok(Self::with_context(ctx))
    }

    fn with_context(ctx: Arc<CudaContext>) -> Result<Self, TrainError> {
        // SAFETY: called before any allocation; all work goes to one stream, in order.
        unsafe { ctx.disable_event_tracking() };
        let stream = ctx.new_stream().map_err(|e| err("new stream", e))?;
        let mut functions = HashMap::new();
        for m in Module::ALL {
            let module = ctx
                .load_module(Ptx::from_src(m.source()))
                .map_err(|e| err(&format!("loading {}", m.file()), e))?;
            for k in m.kernels().map(Kernel::name) {
                let f = module.load_function(k).map_err(|e| err(&format!("kernel {k}"), e))?;
                functions.insert(k, f);
            }
        }
        let name = ctx.name().unwrap_or_else(|_| "CUDA device".into());
        let (major, minor) = ctx.compute_capability().unwrap_or((0, 0));
        Ok(Driver {
            stream,
            functions,
            buffers: HashMap::new(),
            graphs: HashMap::new(),
            name: format!("{name} (sm_{major}{minor})"),
        })
    }

    fn find(&self, buf: DevBuf) -> Result<&CudaSlice<u32>, TrainError> {
        self.buffers.get(&buf.addr).ok_or_else(|| TrainError("CUDA: unknown buffer".into()))
    }

    fn enqueue(&mut self, launch: &Launch) -> Result<(), TrainError> {
        let f = self
            .functions
            .get(launch.kernel)
            .ok_or_else(|| TrainError(format!("CUDA: no kernel {}", launch.kernel)))?;
        let cfg = LaunchConfig {
            grid_dim: (launch.grid[0], launch.grid[1], launch.grid[2]),
            block_dim: (launch.block[0], launch.block[1], launch.block[2]),
            shared_mem_bytes: 0,
        };
        let mut builder = self.stream.launch_builder(f);
        for a in &launch.args {
            match a {
                Arg::U32(x) => builder.arg(x),
                Arg::U64(x) => builder.arg(x),
                Arg::F32(x) => builder.arg(x),
            };
        }
        // SAFETY: every call site builds `args` in the order and with the types of the
        // kernel's `.param` list (see the kernel files' headers and backend.rs); addresses are
        // inside live allocations of this context, and the kernels bound-check their indices.
        unsafe { builder.launch(cfg) }.map_err(|e| err(launch.kernel, e))?;
        Ok(())
    }
}

impl Device for Driver {
    fn describe(&self) -> String {
        self.name.clone()
    }

    fn alloc(&mut self, words: usize) -> Result<DevBuf, TrainError> {
        let slice = self.stream.alloc_zeros::<u32>(words.max(1)).map_err(|e| err("alloc", e))?;
        let buf = DevBuf { addr: slice.device_ptr(&self.stream).0, words };
        self.buffers.insert(buf.addr, slice);
        Ok(buf)
    }

    fn free(&mut self, buf: DevBuf) {
        self.buffers.remove(&buf.addr);
    }

    fn upload(&mut self, buf: DevBuf, offset: usize, data: &[u32]) -> Result<(), TrainError> {
        let stream = self.stream.clone();
        let slice = self
            .buffers
            .get_mut(&buf.addr)
            .ok_or_else(|| TrainError("CUDA: unknown buffer".into()))?;
        let mut view = slice.slice_mut(offset..offset + data.len());
        stream.memcpy_htod(data, &mut view).map_err(|e| err("upload", e))
    }

    fn download(&self, buf: DevBuf, offset: usize, out: &mut [u32]) -> Result<(), TrainError> {
        let slice = self.find(buf)?;
        let view = slice.slice(offset..offset + out.len());
        self.stream.memcpy_dtoh(&view, out).map_err(|e| err("download", e))?;
        self.stream.synchronize().map_err(|e| err("synchronize", e))
    }

    fn launch(&mut self, launch: &Launch) -> Result<(), TrainError> {
        self.enqueue(launch)
    }

    fn replay(&mut self, key: u64, launches: &[Launch]) -> Result<(), TrainError> {
        if !self.graphs.contains_key(&key) {
            self.stream
                .begin_capture(sys::CUstreamCaptureMode::CU_STREAM_CAPTURE_MODE_THREAD_LOCAL)
                .map_err(|e| err("begin capture", e))?;
            let recorded = launches.iter().try_for_each(|l| self.enqueue(l));
            let graph = self
                .stream
                .end_capture(sys::CUgraphInstantiate_flags(0))
                .map_err(|e| err("end capture", e))?;
            recorded?;
            let graph = graph.ok_or_else(|| TrainError("CUDA: empty graph".into()))?;
            graph.upload().map_err(|e| err("graph upload", e))?;
            self.graphs.insert(key, graph);
        }
        self.graphs[&key].launch().map_err(|e| err("graph launch", e))
    }

    fn forget_graphs(&mut self) {
        self.graphs.clear();
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Finish queued work before the buffers go.
        let _ = self.stream.synchronize();
        self.graphs.clear();
        self.buffers.clear();
    }
}
