//! Writes every kernel module's complete PTX text (header and linked fragments included) to
//! the directory given as the only argument, for `scripts/ptxas-check.sh`.

use vi3nr_cuda::cuda::kernels::Module;

fn main() {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: ptx_modules DIR");
        std::process::exit(2);
    };
    let dir = std::path::PathBuf::from(dir);
    for m in Module::ALL {
        let path = dir.join(m.file());
        if let Err(e) = std::fs::write(&path, m.source()) {
            eprintln!("error: cannot write {}: {e}", path.display());
            std::process::exit(1);
        }
    }
}
