//! Global and shared memory, with the shadow state behind the race and bounds checks.
//!
//! Allocation `id` lives at `(id + 1) << 32`, so an address past the end of one allocation is
//! in no allocation at all. Each 4-byte word has a [`Shadow`]: the last writer and up to two
//! readers in the current epoch (a launch for global memory, a barrier phase for shared
//! memory). A word written by one thread and read or written by another in one epoch is a race.

/// An access conflict: the other thread (launch-wide linear id), its PTX line, whether it wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Conflict {
    pub thread: u32,
    pub line: u32,
    pub wrote: bool,
    pub addr: u64,
}

/// Why an access failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    OutOfBounds,
    Uninitialized,
    Race(Conflict),
}

const NONE: u32 = u32::MAX;

/// Per-word access history within one epoch.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shadow {
    w_epoch: u32,
    w_thread: u32,
    w_line: u32,
    r_epoch: u32,
    r_thread: u32,
    r_line: u32,
    r2_thread: u32,
    r2_line: u32,
}

impl Default for Shadow {
    fn default() -> Self {
        Shadow {
            w_epoch: 0,
            w_thread: NONE,
            w_line: 0,
            r_epoch: 0,
            r_thread: NONE,
            r_line: 0,
            r2_thread: NONE,
            r2_line: 0,
        }
    }
}

impl Shadow {
    /// Records a read; a write by another thread in this epoch conflicts.
    #[inline]
    fn read(&mut self, epoch: u32, thread: u32, line: u32) -> Result<(), (u32, u32, bool)> {
        if self.w_epoch == epoch && self.w_thread != thread {
            return Err((self.w_thread, self.w_line, true));
        }
        if self.r_epoch != epoch {
            self.r_epoch = epoch;
            self.r_thread = thread;
            self.r_line = line;
            self.r2_thread = NONE;
        } else if self.r_thread != thread && self.r2_thread == NONE {
            self.r2_thread = thread;
            self.r2_line = line;
        }
        Ok(())
    }

    /// Records a write; any access by another thread in this epoch conflicts.
    #[inline]
    fn write(&mut self, epoch: u32, thread: u32, line: u32) -> Result<(), (u32, u32, bool)> {
        if self.w_epoch == epoch && self.w_thread != thread {
            return Err((self.w_thread, self.w_line, true));
        }
        if self.r_epoch == epoch {
            if self.r_thread != thread {
                return Err((self.r_thread, self.r_line, false));
            }
            if self.r2_thread != NONE {
                return Err((self.r2_thread, self.r2_line, false));
            }
        }
        self.w_epoch = epoch;
        self.w_thread = thread;
        self.w_line = line;
        Ok(())
    }
}

/// Applies a read or write to the shadows of the words covering `off..off + len`.
#[inline]
#[allow(clippy::too_many_arguments)]
fn track(
    shadow: &mut [Shadow],
    base: u64,
    off: usize,
    len: usize,
    write: bool,
    epoch: u32,
    thread: u32,
    line: u32,
) -> Result<(), Fault> {
    let first = off / 4;
    for (i, s) in shadow[first..=(off + len - 1) / 4].iter_mut().enumerate() {
        let r = if write { s.write(epoch, thread, line) } else { s.read(epoch, thread, line) };
        if let Err((thread, line, wrote)) = r {
            let addr = base + 4 * (first + i) as u64;
            return Err(Fault::Race(Conflict { thread, line, wrote, addr }));
        }
    }
    Ok(())
}

#[inline]
fn get(data: &[u8], off: usize, len: usize) -> u64 {
    let mut b = [0u8; 8];
    b[..len].copy_from_slice(&data[off..off + len]);
    u64::from_le_bytes(b)
}

#[inline]
fn put(data: &mut [u8], off: usize, len: usize, v: u64) {
    data[off..off + len].copy_from_slice(&v.to_le_bytes()[..len]);
}

struct Alloc {
    data: Vec<u8>,
    shadow: Vec<Shadow>,
}

/// Device (global) memory: separately addressed allocations.
#[derive(Default)]
pub(crate) struct Global {
    allocs: Vec<Option<Alloc>>,
    /// The current launch's epoch (0: none yet).
    pub epoch: u32,
}

impl Global {
    /// A zeroed allocation; its address.
    pub fn alloc(&mut self, bytes: usize) -> u64 {
        assert!(bytes <= u32::MAX as usize, "emulated allocations are limited to 4 GiB");
        let shadow = vec![Shadow::default(); bytes.div_ceil(4)];
        self.allocs.push(Some(Alloc { data: vec![0; bytes], shadow }));
        (self.allocs.len() as u64) << 32
    }

    /// Frees the allocation at `addr` (its start); false if there is none.
    pub fn free(&mut self, addr: u64) -> bool {
        match self.slot(addr, 0) {
            Some((id, 0)) => {
                self.allocs[id] = None;
                true
            }
            _ => false,
        }
    }

    /// The allocation and offset holding `addr..addr + len`.
    #[inline]
    fn slot(&self, addr: u64, len: usize) -> Option<(usize, usize)> {
        let id = ((addr >> 32) as usize).checked_sub(1)?;
        let off = (addr & 0xffff_ffff) as usize;
        let a = self.allocs.get(id)?.as_ref()?;
        (off + len <= a.data.len()).then_some((id, off))
    }

    /// The bytes at `addr..addr + len`, for the host.
    pub fn bytes(&self, addr: u64, len: usize) -> Option<&[u8]> {
        let (id, off) = self.slot(addr, len)?;
        Some(&self.allocs[id].as_ref()?.data[off..off + len])
    }

    /// The bytes at `addr..addr + len`, for the host.
    pub fn bytes_mut(&mut self, addr: u64, len: usize) -> Option<&mut [u8]> {
        let (id, off) = self.slot(addr, len)?;
        Some(&mut self.allocs[id].as_mut()?.data[off..off + len])
    }

    /// A kernel load of `len` (≤ 8) bytes by launch-wide thread `thread`.
    #[inline]
    pub fn load(&mut self, addr: u64, len: usize, thread: u32, line: u32) -> Result<u64, Fault> {
        let (id, off) = self.slot(addr, len).ok_or(Fault::OutOfBounds)?;
        let a = self.allocs[id].as_mut().unwrap();
        track(&mut a.shadow, addr - off as u64, off, len, false, self.epoch, thread, line)?;
        Ok(get(&a.data, off, len))
    }

    /// A kernel store.
    #[inline]
    pub fn store(
        &mut self,
        addr: u64,
        len: usize,
        v: u64,
        thread: u32,
        line: u32,
    ) -> Result<(), Fault> {
        let (id, off) = self.slot(addr, len).ok_or(Fault::OutOfBounds)?;
        let a = self.allocs[id].as_mut().unwrap();
        track(&mut a.shadow, addr - off as u64, off, len, true, self.epoch, thread, line)?;
        put(&mut a.data, off, len, v);
        Ok(())
    }

    /// An atomic read-modify-write (exempt from race tracking); returns the old value.
    pub fn atomic(
        &mut self,
        addr: u64,
        len: usize,
        f: impl FnOnce(u64) -> u64,
    ) -> Result<u64, Fault> {
        let (id, off) = self.slot(addr, len).ok_or(Fault::OutOfBounds)?;
        let a = self.allocs[id].as_mut().unwrap();
        let old = get(&a.data, off, len);
        put(&mut a.data, off, len, f(old));
        Ok(old)
    }
}

/// Byte states in shared memory.
const GAP: u8 = 0;
const UNSET: u8 = 1;
const SET: u8 = 2;

/// One block's shared memory: a window `0..len` of variables separated by guard gaps.
pub(crate) struct Shared {
    data: Vec<u8>,
    state: Vec<u8>,
    shadow: Vec<Shadow>,
    /// The current barrier phase (≥ 1).
    pub phase: u32,
}

impl Shared {
    /// Shared memory laid out by `template` (`UNSET` inside variables, `GAP` between them).
    pub fn new(template: &[u8]) -> Shared {
        let n = template.len();
        Shared {
            data: vec![0; n],
            state: template.to_vec(),
            shadow: vec![Shadow::default(); n.div_ceil(4)],
            phase: 1,
        }
    }

    /// Resets for a new block.
    pub fn reset(&mut self, template: &[u8]) {
        self.state.copy_from_slice(template);
        self.shadow.fill(Shadow::default());
        self.phase = 1;
    }

    /// A variable's byte range `[lo, lo + len)` inside the window, as `usize`.
    #[inline]
    fn range(&self, addr: u64, len: usize) -> Result<usize, Fault> {
        let off = usize::try_from(addr).map_err(|_| Fault::OutOfBounds)?;
        match self.state.get(off..off.saturating_add(len)) {
            Some(s) if s.iter().all(|&b| b != GAP) => Ok(off),
            _ => Err(Fault::OutOfBounds),
        }
    }

    /// A load by block-local thread `thread`.
    #[inline]
    pub fn load(&mut self, addr: u64, len: usize, thread: u32, line: u32) -> Result<u64, Fault> {
        let off = self.range(addr, len)?;
        if self.state[off..off + len].iter().any(|&b| b != SET) {
            return Err(Fault::Uninitialized);
        }
        track(&mut self.shadow, 0, off, len, false, self.phase, thread, line)?;
        Ok(get(&self.data, off, len))
    }

    /// A store.
    #[inline]
    pub fn store(
        &mut self,
        addr: u64,
        len: usize,
        v: u64,
        thread: u32,
        line: u32,
    ) -> Result<(), Fault> {
        let off = self.range(addr, len)?;
        track(&mut self.shadow, 0, off, len, true, self.phase, thread, line)?;
        self.state[off..off + len].fill(SET);
        put(&mut self.data, off, len, v);
        Ok(())
    }

    /// An atomic read-modify-write (exempt from race tracking; never-written bytes read as 0).
    pub fn atomic(
        &mut self,
        addr: u64,
        len: usize,
        f: impl FnOnce(u64) -> u64,
    ) -> Result<u64, Fault> {
        let off = self.range(addr, len)?;
        let old = get(&self.data, off, len);
        self.state[off..off + len].fill(SET);
        put(&mut self.data, off, len, f(old));
        Ok(old)
    }
}

/// Marks `lo..lo + len` of a shared template as inside a variable.
pub(crate) fn mark(template: &mut Vec<u8>, lo: usize, len: usize) {
    if template.len() < lo + len {
        template.resize(lo + len, GAP);
    }
    template[lo..lo + len].fill(UNSET);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocations_are_separate_and_bounded() {
        let mut g = Global::default();
        let a = g.alloc(10);
        let b = g.alloc(4);
        assert_ne!(a >> 32, b >> 32);
        assert!(g.bytes(a + 6, 4).is_some());
        assert!(g.bytes(a + 7, 4).is_none());
        assert!(g.bytes(0, 1).is_none());
        assert!(g.free(a));
        assert!(g.bytes(a, 1).is_none());
        assert!(!g.free(a));
    }

    #[test]
    fn shadow_finds_conflicts_within_an_epoch_only() {
        let mut s = Shadow::default();
        s.write(1, 7, 10).unwrap();
        s.read(1, 7, 11).unwrap();
        assert_eq!(s.read(1, 8, 12), Err((7, 10, true)));
        s.read(2, 8, 12).unwrap();
        s.read(2, 9, 13).unwrap();
        assert_eq!(s.write(2, 8, 14), Err((9, 13, false)));
        assert_eq!(s.write(3, 8, 14), Ok(()));
    }
}
