//! The kernels on the PTX interpreter (the [`ptx_emu`] crate): the same backend code as on a
//! GPU, executed on the CPU with bounds, race and barrier checks, for tests without a GPU.

use ptx_emu::{EmuError, Emulator, ParamValue};

use super::device::{Arg, DevBuf, Device, Launch};
use super::kernels::Module;
use crate::train::TrainError;

/// A device that interprets the kernels' PTX on the CPU.
#[derive(Default)]
pub struct Emulated {
    emu: Emulator,
    /// Instructions interpreted so far.
    pub instructions: u64,
    /// Launches executed so far (graph replays count each launch).
    pub launches: u64,
}

impl std::fmt::Debug for Emulated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulated").field("instructions", &self.instructions).finish()
    }
}

impl Emulated {
    /// An interpreter with every kernel module loaded.
    pub fn new() -> Result<Self, TrainError> {
        let mut emu = Emulator::new();
        for m in Module::ALL {
            emu.load(&m.source()).map_err(|e| TrainError(format!("{}: {e}", m.file())))?;
        }
        Ok(Emulated { emu, instructions: 0, launches: 0 })
    }
}

fn err(e: EmuError) -> TrainError {
    TrainError(format!("PTX interpreter: {e}"))
}

impl Device for Emulated {
    fn describe(&self) -> String {
        "PTX interpreter (CPU)".into()
    }

    fn alloc(&mut self, words: usize) -> Result<DevBuf, TrainError> {
        Ok(DevBuf { addr: self.emu.alloc(4 * words.max(1)), words })
    }

    fn free(&mut self, buf: DevBuf) {
        self.emu.free(buf.addr);
    }

    fn upload(&mut self, buf: DevBuf, offset: usize, data: &[u32]) -> Result<(), TrainError> {
        self.emu.write(buf.addr + 4 * offset as u64, bytemuck::cast_slice(data)).map_err(err)
    }

    fn download(&self, buf: DevBuf, offset: usize, out: &mut [u32]) -> Result<(), TrainError> {
        self.emu.read(buf.addr + 4 * offset as u64, bytemuck::cast_slice_mut(out)).map_err(err)
    }

    fn launch(&mut self, launch: &Launch) -> Result<(), TrainError> {
        let args: Vec<ParamValue> = launch
            .args
            .iter()
            .map(|a| match *a {
                Arg::U32(x) => ParamValue::U32(x),
                Arg::U64(x) => ParamValue::U64(x),
                Arg::F32(x) => ParamValue::F32(x),
            })
            .collect();
        let stats = self
            .emu
            .launch(launch.kernel, launch.grid, launch.block, 0, &args)
            .map_err(|e| TrainError(format!("PTX interpreter, {}: {e}", launch.kernel)))?;
        self.instructions += stats.instructions;
        self.launches += 1;
        Ok(())
    }

    fn replay(&mut self, _key: u64, launches: &[Launch]) -> Result<(), TrainError> {
        launches.iter().try_for_each(|l| self.launch(l))
    }

    fn forget_graphs(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_module_loads_in_the_interpreter() {
        for m in Module::ALL {
            Emulator::new().load(&m.source()).unwrap_or_else(|e| panic!("{}: {e}", m.file()));
        }
    }
}
