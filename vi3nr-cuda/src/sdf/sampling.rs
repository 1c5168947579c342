//! Training samples of a signed distance function: points on the surface (area-weighted),
//! near it (Gaussian offsets of two scales from surface points, as DeepSDF) and uniform in
//! the cube [−1, 1]³, each with its exact signed distance.
//!
//! Distances come from the [`Bvh`] (exact, to the nearest triangle), signs from the fast
//! generalised winding number, so a mesh with small holes or flipped triangles still gets the
//! right inside. The work is split into chunks of [`CHUNK`] samples, each with its own random
//! stream derived from the seed and the chunk's index, and spread over all cores: the samples
//! depend on the seed only, never on the number of threads.

use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use rayon::prelude::*;

use super::bvh::Bvh;
use crate::signal::Mesh;

/// Samples per independently seeded chunk.
pub const CHUNK: usize = 4096;

/// How the samples are spread.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mix {
    /// Fraction on the surface (distance 0).
    pub surface: f64,
    /// Fraction offset from the surface by N(0, `fine`²) per coordinate.
    pub near_fine: f64,
    /// Fraction offset by N(0, `coarse`²).
    pub near_coarse: f64,
    /// The fine offsets' standard deviation (normalised units).
    pub fine: f64,
    /// The coarse offsets' standard deviation.
    pub coarse: f64,
    // The rest is uniform in [−1, 1]³.
}

impl Default for Mix {
    /// 20 % on the surface, 30 % each near it at σ 0.01 and 0.05 (a cube of side 2), 20 %
    /// uniform.
    fn default() -> Self {
        Mix { surface: 0.2, near_fine: 0.3, near_coarse: 0.3, fine: 0.01, coarse: 0.05 }
    }
}

impl Mix {
    /// Only near-surface points (half each scale): the held-out set of the RMS SDF error.
    pub fn near_only() -> Mix {
        Mix { surface: 0.0, near_fine: 0.5, near_coarse: 0.5, ..Mix::default() }
    }
}

/// Points (`n × 3`) and their signed distances (`n`).
#[derive(Debug, Clone, PartialEq)]
pub struct Samples {
    /// Coordinates, row-major.
    pub points: Vec<f32>,
    /// Signed distances, negative inside.
    pub distances: Vec<f32>,
}

/// Draws surface points of `mesh`, area-weighted (uniform over the surface).
pub struct SurfaceSampler<'m> {
    mesh: &'m Mesh,
    cumulative: Vec<f64>,
}

impl<'m> SurfaceSampler<'m> {
    /// The sampler of `mesh` (at least one triangle of non-zero area).
    pub fn new(mesh: &'m Mesh) -> Self {
        let mut total = 0.0;
        let cumulative = (0..mesh.triangles.len())
            .map(|t| {
                let [a, b, c] = mesh.corners(t);
                let n = crate::signal::mesh::cross(
                    crate::signal::mesh::sub(b, a),
                    crate::signal::mesh::sub(c, a),
                );
                total += crate::signal::mesh::dot(n, n).sqrt();
                total
            })
            .collect();
        SurfaceSampler { mesh, cumulative }
    }

    /// One point uniform on the surface.
    pub fn sample(&self, rng: &mut impl RngCore) -> [f64; 3] {
        let total = *self.cumulative.last().unwrap_or(&0.0);
        let x = unit(rng) * total;
        let t = self.cumulative.partition_point(|&c| c <= x).min(self.cumulative.len() - 1);
        let [a, b, c] = self.mesh.corners(t);
        let (r1, r2) = (unit(rng).sqrt(), unit(rng));
        let (u, v, w) = (1.0 - r1, r1 * (1.0 - r2), r1 * r2);
        std::array::from_fn(|k| u * a[k] + v * b[k] + w * c[k])
    }
}

/// A uniform number in [0, 1).
fn unit(rng: &mut impl RngCore) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// A standard normal number (Box–Muller).
fn normal(rng: &mut impl RngCore) -> f64 {
    let u1 = 1.0 - unit(rng);
    let u2 = unit(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// `n` samples of the signed distance of `mesh` (already in normalised coordinates), spread
/// by `mix`, from `seed`; on all cores.
pub fn sample(mesh: &Mesh, bvh: &Bvh<'_>, n: usize, mix: Mix, seed: u64) -> Samples {
    let surface = SurfaceSampler::new(mesh);
    let counts = [
        (mix.surface * n as f64).round() as usize,
        (mix.near_fine * n as f64).round() as usize,
        (mix.near_coarse * n as f64).round() as usize,
    ];
    let kind = |i: usize| -> usize {
        let mut edge = 0;
        for (k, c) in counts.iter().enumerate() {
            edge += c;
            if i < edge {
                return k;
            }
        }
        3
    };
    let mut points = vec![0.0f32; 3 * n];
    let mut distances = vec![0.0f32; n];
    points.par_chunks_mut(3 * CHUNK).zip(distances.par_chunks_mut(CHUNK)).enumerate().for_each(
        |(c, (p, d))| {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(
                seed ^ (c as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            );
            for (j, (x, dist)) in p.chunks_exact_mut(3).zip(d.iter_mut()).enumerate() {
                let i = c * CHUNK + j;
                let (q, on_surface) = match kind(i) {
                    0 => (surface.sample(&mut rng), true),
                    k @ (1 | 2) => {
                        let s = if k == 1 { mix.fine } else { mix.coarse };
                        let o = surface.sample(&mut rng);
                        (
                            std::array::from_fn(|k| (o[k] + s * normal(&mut rng)).clamp(-1.0, 1.0)),
                            false,
                        )
                    }
                    _ => (std::array::from_fn(|_| 2.0 * unit(&mut rng) - 1.0), false),
                };
                *dist = if on_surface { 0.0 } else { bvh.signed_distance(q) as f32 };
                for k in 0..3 {
                    x[k] = q[k] as f32;
                }
            }
        },
    );
    Samples { points, distances }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdf::shapes;

    type Sdf = Box<dyn Fn([f64; 3]) -> f64>;

    #[test]
    fn sampled_distances_match_the_analytic_sdfs() {
        // Tolerance: how far the polygonal mesh lies from the analytic surface.
        let cases: [(&str, Mesh, Sdf, f64); 4] = [
            ("sphere", shapes::sphere(0.8, 4), Box::new(|q| shapes::sphere_sdf(0.8, q)), 1e-3),
            (
                "torus",
                shapes::torus(0.6, 0.25, 128, 64),
                Box::new(|q| shapes::torus_sdf(0.6, 0.25, q)),
                1e-3,
            ),
            ("chain", shapes::chain(128, 64), Box::new(shapes::chain_sdf), 1e-3),
            ("cube", shapes::cube(0.5), Box::new(|q| shapes::cube_sdf(0.5, q)), 1e-6),
        ];
        for (name, mesh, sdf, tol) in cases {
            let bvh = Bvh::new(&mesh);
            let s = sample(&mesh, &bvh, 6000, Mix::default(), 7);
            let mut worst = 0.0f64;
            let mut signs = 0;
            for (p, &d) in s.points.chunks_exact(3).zip(&s.distances) {
                let q = [p[0], p[1], p[2]].map(f64::from);
                let exact = sdf(q);
                worst = worst.max((f64::from(d) - exact).abs());
                if exact.abs() > tol && (exact < 0.0) != (d < 0.0) {
                    signs += 1;
                }
            }
            assert!(worst < tol + 1e-6, "{name}: worst error {worst}");
            assert_eq!(signs, 0, "{name}: {signs} wrong signs");
        }
    }

    #[test]
    fn samples_follow_the_mix_and_the_seed_only() {
        let mesh = shapes::sphere(0.8, 3);
        let bvh = Bvh::new(&mesh);
        let a = sample(&mesh, &bvh, 10_000, Mix::default(), 1);
        let b = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| sample(&mesh, &bvh, 10_000, Mix::default(), 1));
        assert_eq!(a, b);
        assert_ne!(a, sample(&mesh, &bvh, 10_000, Mix::default(), 2));
        let zero = a.distances.iter().filter(|&&d| d == 0.0).count();
        assert_eq!(zero, 2000);
        let near = a.distances.iter().filter(|&&d| d != 0.0 && d.abs() < 0.2).count();
        assert!(near > 5800, "{near}");
        assert!(a.points.iter().all(|c| (-1.0..=1.0).contains(c)));
    }
}
