//! The `vi3nr` command line: [`cli`] holds one module per command; this file only dispatches.

// The doc comments of the argument structs are clap's help text (`sine[:ω]` is syntax there,
// not a link).
#![allow(rustdoc::broken_intra_doc_links)]

mod cli;

use std::process::ExitCode;

use clap::Parser;
use cli::{Cli, Command};

/// Restores the default SIGPIPE disposition, so `vi3nr inspect m.vi3 | head` ends quietly
/// like other Unix tools instead of panicking on a closed pipe.
#[cfg(unix)]
fn default_sigpipe() {
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is a valid
    // disposition for SIGPIPE and no handler code runs.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    #[cfg(unix)]
    default_sigpipe();
    let result = match Cli::parse().command {
        Command::Init(args) => cli::init::run(&args),
        Command::Toy(args) => cli::toy::run(&args),
        Command::Inspect(args) => cli::inspect::run(&args),
        Command::Fit(args) => cli::fit::run(&args),
        Command::FitMany(args) => cli::fit_many::run(&args),
        Command::Eval(args) => cli::eval::run(&args),
        Command::Compare(args) => cli::compare::run(&args),
        Command::Rd(args) => cli::rd::run(&args),
    };
    result.unwrap_or_else(|message| {
        eprintln!("error: {message}");
        ExitCode::from(2)
    })
}
