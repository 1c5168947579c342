//! How close one mesh is to another, in the reference's units.
//!
//! - **Chamfer-L1**: `n` points sampled uniformly (area-weighted) on each surface, the exact
//!   distance of each to the other surface (through a [`Bvh`]); the mean of each direction,
//!   and the two means averaged: `(mean_{a∈A} d(a, B) + mean_{b∈B} d(b, A)) / 2`.
//! - **Hausdorff**: the largest of those sampled distances, both directions.
//! - **Volumetric IoU**: `n` points uniform in a box, each inside or outside each mesh by its
//!   generalised winding number; |A ∩ B| / |A ∪ B|.
//!
//! A candidate with no triangles (a model whose level set missed the grid) has infinite
//! Chamfer and Hausdorff distances and IoU 0.

use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use rayon::prelude::*;

use crate::sdf::Bvh;
use crate::sdf::sampling::SurfaceSampler;
use crate::signal::Mesh;

/// The distances and overlap of two meshes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeshMetrics {
    /// Chamfer-L1: the mean of the two directions' mean distances.
    pub chamfer_l1: f64,
    /// The largest sampled distance in either direction.
    pub hausdorff: f64,
    /// Volumetric intersection over union.
    pub iou: f64,
}

impl MeshMetrics {
    /// As JSON (infinite distances as `null`).
    pub fn to_json(&self) -> serde_json::Value {
        let finite = |x: f64| x.is_finite().then_some(x);
        serde_json::json!({
            "chamfer_l1": finite(self.chamfer_l1),
            "hausdorff": finite(self.hausdorff),
            "iou": self.iou,
        })
    }
}

/// Distances from `n` points sampled on `from` to the surface `to`.
fn directed(from: &Mesh, to: &Bvh<'_>, n: usize, seed: u64) -> Vec<f64> {
    let sampler = SurfaceSampler::new(from);
    (0..n.div_ceil(1024))
        .into_par_iter()
        .flat_map_iter(|c| {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(
                seed ^ (c as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407),
            );
            let count = 1024.min(n - 1024 * c);
            (0..count).map(|_| to.distance(sampler.sample(&mut rng))).collect::<Vec<_>>()
        })
        .collect()
}

/// Chamfer-L1 and Hausdorff from `n` points on each surface, and IoU from `n` points uniform
/// in the box `[lo, hi]`; `seed` fixes the points.
pub fn compare(
    reference: &Mesh,
    candidate: &Mesh,
    n: usize,
    (lo, hi): ([f64; 3], [f64; 3]),
    seed: u64,
) -> MeshMetrics {
    if candidate.triangles.is_empty() {
        return MeshMetrics { chamfer_l1: f64::INFINITY, hausdorff: f64::INFINITY, iou: 0.0 };
    }
    let (ra, ca) = (Bvh::new(reference), Bvh::new(candidate));
    let to_candidate = directed(reference, &ca, n, seed);
    let to_reference = directed(candidate, &ra, n, seed ^ 1);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let max = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
    let (both, either) = (0..n.div_ceil(1024))
        .into_par_iter()
        .map(|c| {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(
                seed ^ 0x5EED ^ (c as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            );
            let mut counts = (0usize, 0usize);
            for _ in 0..1024.min(n - 1024 * c) {
                let q: [f64; 3] = std::array::from_fn(|k| {
                    let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                    lo[k] + u * (hi[k] - lo[k])
                });
                let (a, b) = (ra.inside(q), ca.inside(q));
                counts.0 += usize::from(a && b);
                counts.1 += usize::from(a || b);
            }
            counts
        })
        .reduce(|| (0, 0), |x, y| (x.0 + y.0, x.1 + y.1));
    MeshMetrics {
        chamfer_l1: 0.5 * (mean(&to_candidate) + mean(&to_reference)),
        hausdorff: max(&to_candidate).max(max(&to_reference)),
        iou: if either == 0 { 0.0 } else { both as f64 / either as f64 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdf::shapes;

    #[test]
    fn concentric_spheres_have_the_analytic_distances_and_overlap() {
        let (r1, r2) = (0.8, 0.7);
        let a = shapes::sphere(r1, 5);
        let b = shapes::sphere(r2, 5);
        let box_ = ([-1.0; 3], [1.0; 3]);
        let m = compare(&a, &b, 20_000, box_, 3);
        assert!((m.chamfer_l1 - 0.1).abs() < 2e-3, "{m:?}");
        assert!((m.hausdorff - 0.1).abs() < 2e-3, "{m:?}");
        // IoU = (r2/r1)³, within the Monte Carlo error of 20,000 points (~0.01).
        let iou = (r2 / r1).powi(3);
        assert!((m.iou - iou).abs() < 0.02, "{m:?} vs {iou}");
        let same = compare(&a, &a, 5000, box_, 4);
        assert!(same.chamfer_l1 < 1e-12 && same.iou == 1.0, "{same:?}");
        let none = compare(&a, &Mesh::default(), 10, box_, 0);
        assert!(none.chamfer_l1.is_infinite() && none.iou == 0.0);
        assert!(none.to_json()["chamfer_l1"].is_null());
    }
}
