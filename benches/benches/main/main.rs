//! Criterion benchmarks of vi3nr: `cargo bench -p vi3nr-benches`.

mod eval;
mod sigma_p;

criterion::criterion_group!(benches, sigma_p::benches, eval::benches);
criterion::criterion_main!(benches);
