//! What can go wrong: parse errors with the PTX line, and the kernel bugs the interpreter
//! catches, each naming kernel, block, thread and PTX line.

use std::fmt;

use super::inst::Space;

/// Where a thread was: kernel, block (`%ctaid`), thread (`%tid`) and PTX line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    /// The kernel's name.
    pub kernel: String,
    /// The block index.
    pub block: [u32; 3],
    /// The thread index within the block.
    pub thread: [u32; 3],
    /// The PTX source line (1-based).
    pub line: u32,
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [bx, by, bz] = self.block;
        let [tx, ty, tz] = self.thread;
        write!(
            f,
            "kernel `{}` block ({bx}, {by}, {bz}) thread ({tx}, {ty}, {tz}) at PTX line {}",
            self.kernel, self.line
        )
    }
}

/// A memory access kind, for race reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A load.
    Read,
    /// A store.
    Write,
}

/// An error from loading PTX, from host memory calls, or a bug found while running a kernel.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum EmuError {
    /// The PTX does not parse, or uses something outside the supported subset.
    Parse {
        /// 1-based line.
        line: u32,
        /// The line's text.
        text: String,
        /// What is wrong.
        msg: String,
    },
    /// No loaded module defines this `.entry`.
    UnknownKernel(String),
    /// Bad launch: dimensions, arguments, shared-memory size.
    Launch {
        /// The kernel.
        kernel: String,
        /// What is wrong.
        msg: String,
    },
    /// A host `read`/`write`/`free` outside any live allocation.
    HostAccess {
        /// The address.
        addr: u64,
        /// Bytes accessed.
        len: usize,
    },
    /// A kernel access outside every allocation (global) or every shared variable (shared).
    OutOfBounds {
        /// The accessing thread.
        site: Site,
        /// Global or shared.
        space: Space,
        /// The first byte.
        addr: u64,
        /// The access width in bytes.
        bytes: u32,
    },
    /// An access not aligned to its width.
    Misaligned {
        /// The accessing thread.
        site: Site,
        /// Global or shared.
        space: Space,
        /// The first byte.
        addr: u64,
        /// The access width in bytes.
        bytes: u32,
    },
    /// A read of shared memory that no thread of the block has written.
    UninitializedShared {
        /// The reading thread.
        site: Site,
        /// The first byte.
        addr: u64,
    },
    /// Two threads touched one word without a barrier (shared) or within one launch (global),
    /// at least one of them writing.
    Race {
        /// Global or shared.
        space: Space,
        /// The word's address.
        addr: u64,
        /// The earlier access.
        first: Box<(Site, Access)>,
        /// The access that conflicts with it.
        second: Box<(Site, Access)>,
    },
    /// Threads of one block wait at different barrier instructions.
    DivergentBarrier {
        /// A thread at one barrier.
        first: Site,
        /// A thread at another.
        second: Site,
    },
    /// Some threads of a block exited while others wait at a barrier.
    ExitedAtBarrier {
        /// A thread that exited (the line of its `ret`/`exit`).
        exited: Site,
        /// A thread waiting at the barrier.
        waiting: Site,
    },
    /// Calls nested deeper than the interpreter allows (runaway recursion).
    CallDepth(Site),
    /// The launch ran more instructions than [`super::Emulator::set_instruction_limit`] allows.
    InstructionLimit {
        /// The kernel.
        kernel: String,
        /// The limit.
        limit: u64,
    },
    /// An instruction the interpreter decodes but cannot execute with these operands.
    Unsupported {
        /// The thread.
        site: Site,
        /// Why.
        msg: String,
    },
}

impl fmt::Display for Space {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Space::Global => "global",
            Space::Shared => "shared",
        })
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Access::Read => "read",
            Access::Write => "write",
        })
    }
}

impl fmt::Display for EmuError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmuError::Parse { line, text, msg } => {
                write!(f, "PTX line {line}: {msg}: `{}`", text.trim())
            }
            EmuError::UnknownKernel(k) => write!(f, "no loaded module defines kernel `{k}`"),
            EmuError::Launch { kernel, msg } => write!(f, "launch of `{kernel}`: {msg}"),
            EmuError::HostAccess { addr, len } => {
                write!(f, "host access of {len} bytes at {addr:#x} is outside every allocation")
            }
            EmuError::OutOfBounds { site, space, addr, bytes } => {
                write!(f, "{site}: out-of-bounds {space} access of {bytes} bytes at {addr:#x}")
            }
            EmuError::Misaligned { site, space, addr, bytes } => {
                write!(f, "{site}: misaligned {space} access of {bytes} bytes at {addr:#x}")
            }
            EmuError::UninitializedShared { site, addr } => {
                write!(f, "{site}: read of never-written shared memory at {addr:#x}")
            }
            EmuError::Race { space, addr, first, second } => write!(
                f,
                "{space}-memory race on the word at {addr:#x}: {} by {}, then {} by {}",
                first.1, first.0, second.1, second.0
            ),
            EmuError::DivergentBarrier { first, second } => {
                write!(f, "divergent barrier: {first} and {second} wait at different barriers")
            }
            EmuError::ExitedAtBarrier { exited, waiting } => {
                write!(f, "{waiting} waits at a barrier that {exited} will never reach (it exited)")
            }
            EmuError::CallDepth(site) => write!(f, "{site}: calls nested too deep"),
            EmuError::InstructionLimit { kernel, limit } => {
                write!(f, "kernel `{kernel}` ran more than {limit} instructions")
            }
            EmuError::Unsupported { site, msg } => write!(f, "{site}: {msg}"),
        }
    }
}

impl std::error::Error for EmuError {}
