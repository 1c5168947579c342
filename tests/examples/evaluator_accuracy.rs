//! Prints the evaluator accuracy table of BENCHMARKS.md:
//! `cargo run --release -p vi3nr-tests --example evaluator_accuracy`.

use vi3nr_core::Act;
use vi3nr_core::init::SigmaP;
use vi3nr_cuda::render::{evaluator_psnr, grid};
use vi3nr_cuda::schemes::InitScheme;

fn main() {
    println!("| network | activation | f32 vs exact f64 | f16 | q15 | i8 |");
    println!("|---|---|---:|---:|---:|---:|");
    for widths in [&[2, 32, 32, 32, 1][..], &[2, 256, 256, 256, 3]] {
        for act in [Act::Sine { omega: 30.0 }, Act::Gaussian { a: 0.05 }, Act::Sinc, Act::Relu] {
            let mut cells = Vec::new();
            for seed in 0..3 {
                let mlp = InitScheme::vi3nr(SigmaP::Auto(None)).init(widths, act, seed).unwrap();
                let rows = evaluator_psnr(&mlp, &grid(64)).unwrap();
                cells.push(rows.iter().map(|r| r.1).collect::<Vec<_>>());
            }
            let min = |k: usize| cells.iter().map(|c| c[k]).fold(f64::INFINITY, f64::min);
            let name: Vec<String> = widths.iter().map(|w| w.to_string()).collect();
            println!(
                "| {} | {act} | {:.1} | {:.1} | {:.1} | {:.1} |",
                name.join("-"),
                min(0),
                min(1),
                min(2),
                min(3)
            );
        }
    }
    println!(
        "\nPSNR in dB (outputs normalised to [−1, 1] over a 64×64 grid on [−1, 1]²; worst of 3 seeds)."
    );
}
