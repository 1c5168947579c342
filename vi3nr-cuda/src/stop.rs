//! Stopping a run cleanly: a [`Stop`] handle the training loop and the σ_p search poll between
//! steps, set by SIGINT or SIGTERM ([`Stop::on_signals`]) or by a caller.
//!
//! The first signal asks the run to stop at the end of its current step: the fit writes what
//! it has (the last good model, metrics marked interrupted, a checkpoint) through the usual
//! temporary-file-and-rename path and the command exits with 128 + the signal number (130 for
//! SIGINT, 143 for SIGTERM). A second signal exits at once with that code; a file being
//! written at that instant stays behind as its hidden temporary (`.NAME.*.tmp`), never under
//! its final name.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A shared request to stop, with the reason: 0 while running, else a signal number (or any
/// nonzero code a caller chose).
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<AtomicUsize>);

impl Stop {
    /// A handle nobody has asked to stop yet.
    pub fn new() -> Self {
        Stop::default()
    }

    /// A handle set by SIGINT and SIGTERM; a second signal ends the process at once with
    /// exit code 128 + the signal number.
    #[cfg(unix)]
    pub fn on_signals() -> std::io::Result<Self> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        use signal_hook::flag;
        let stop = Stop::new();
        let asked = Arc::new(std::sync::atomic::AtomicBool::new(false));
        for sig in [SIGINT, SIGTERM] {
            // Registered first, so it sees the flag as it was before this signal set it.
            flag::register_conditional_shutdown(sig, 128 + sig, Arc::clone(&asked))?;
            flag::register(sig, Arc::clone(&asked))?;
            flag::register_usize(sig, Arc::clone(&stop.0), sig as usize)?;
        }
        Ok(stop)
    }

    /// A handle that signals cannot set (no signal handling on this platform).
    #[cfg(not(unix))]
    pub fn on_signals() -> std::io::Result<Self> {
        Ok(Stop::new())
    }

    /// Asks the run to stop, with a nonzero `code` (a signal number for signals).
    pub fn request(&self, code: usize) {
        self.0.store(code.max(1), Ordering::SeqCst);
    }

    /// The reason a stop was requested, if one was.
    pub fn requested(&self) -> Option<usize> {
        match self.0.load(Ordering::SeqCst) {
            0 => None,
            code => Some(code),
        }
    }

    /// The exit code of a command stopped for `code`: 128 + the signal number.
    pub fn exit_code(code: usize) -> u8 {
        u8::try_from(128 + code).unwrap_or(u8::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_seen_by_every_clone() {
        let stop = Stop::new();
        let seen = stop.clone();
        assert_eq!(seen.requested(), None);
        stop.request(15);
        assert_eq!(seen.requested(), Some(15));
        assert_eq!(Stop::exit_code(15), 143);
        assert_eq!(Stop::exit_code(2), 130);
    }
}
