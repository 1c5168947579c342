//! The generalised winding number (Jacobson, Kavan, Sorkine-Hornung 2013) with the
//! hierarchical far-field approximation of Barill et al. (Fast Winding Numbers for Soups and
//! Clouds, SIGGRAPH 2018).
//!
//! `w(q) = Σ_t Ω_t(q) / 4π`, the solid angles of the triangles seen from `q`, is 1 inside a
//! closed, outward-oriented surface and 0 outside, and degrades gracefully where the surface
//! has holes or flipped triangles: a point is inside when `w > ½`. A triangle's solid angle is
//! Van Oosterom and Strackee's formula
//! `tan(Ω/2) = a·(b×c) / (|a||b||c| + (a·b)|c| + (b·c)|a| + (c·a)|b|)` for the corners `a, b, c`
//! relative to `q`. A BVH node whose triangles lie within `radius` of their centroid `p` and
//! that `q` sees from farther than [`BETA`]·radius is not descended but expanded about `p`
//! (Taylor in the triangles' positions): with `d = p − q`, `N` the area-weighted normal sum
//! and `M = Σ a_t n_t (c_t − p)ᵀ` (`c_t` the centroids),
//! `4π w ≈ N·d/|d|³ + tr M/|d|³ − 3 dᵀM d/|d|⁵` — the dipole and its first correction, exact
//! for each flat triangle to this order; the error falls as `(radius/|d|)³`. Only the sign of `w − ½` is used, so the
//! approximation matters only where `w` is near ½ (at holes), where nodes are near and exact.

use super::bvh::Bvh;
use crate::signal::mesh::{cross, dot, sub};

/// Nodes seen from farther than `BETA` times their radius are approximated. Measured on a
/// 4096-triangle torus against the exact sum: worst error 1.5e-2 at 2 (Barill et al.'s choice
/// with a third-order term), 4.8e-3 at 3, 2.7e-3 at 4 (5.7e-2, 2.0e-2, 8.6e-3 without the
/// second-order term).
pub const BETA: f64 = 3.0;

/// The solid angle of triangle `[a, b, c]` seen from `q`, signed: positive when `q` is on the
/// side its normal `(b − a) × (c − a)` points away from.
pub fn solid_angle(q: [f64; 3], [a, b, c]: [[f64; 3]; 3]) -> f64 {
    let (a, b, c) = (sub(a, q), sub(b, q), sub(c, q));
    let (la, lb, lc) = (dot(a, a).sqrt(), dot(b, b).sqrt(), dot(c, c).sqrt());
    let det = dot(a, cross(b, c));
    let div = la * lb * lc + dot(a, b) * lc + dot(b, c) * la + dot(c, a) * lb;
    2.0 * det.atan2(div)
}

impl Bvh<'_> {
    /// The generalised winding number of the mesh at `q` (about 1 inside, 0 outside).
    pub fn winding_number(&self, q: [f64; 3]) -> f64 {
        self.winding_number_with(q, BETA, true)
    }

    /// [`Bvh::winding_number`] with another `beta`, with or without the second-order term.
    pub fn winding_number_with(&self, q: [f64; 3], beta: f64, second: bool) -> f64 {
        let mut total = 0.0;
        let mut stack: Vec<u32> = Vec::with_capacity(64);
        stack.push(0);
        while let Some(at) = stack.pop() {
            let node = &self.nodes[at as usize];
            let d = sub(node.center, q);
            let r2 = dot(d, d);
            if node.count == 0 && r2 > (beta * node.radius).powi(2) {
                let r3 = r2 * r2.sqrt();
                let m = &node.moment;
                let trace = m[0][0] + m[1][1] + m[2][2];
                let dmd: f64 =
                    (0..3).map(|i| (0..3).map(|j| d[i] * m[i][j] * d[j]).sum::<f64>()).sum();
                total += dot(node.normal, d) / r3;
                if second {
                    total += trace / r3 - 3.0 * dmd / (r3 * r2);
                }
                continue;
            }
            if node.count > 0 {
                let run = node.first as usize..(node.first + node.count) as usize;
                for &t in &self.order[run] {
                    total += solid_angle(q, self.mesh.corners(t as usize));
                }
                continue;
            }
            stack.push(node.first);
            stack.push(node.first + 1);
        }
        total / (4.0 * std::f64::consts::PI)
    }

    /// Whether `q` is inside the mesh (winding number above ½).
    pub fn inside(&self, q: [f64; 3]) -> bool {
        self.winding_number(q) > 0.5
    }

    /// The signed distance at `q`: negative inside.
    pub fn signed_distance(&self, q: [f64; 3]) -> f64 {
        let d = self.distance(q);
        if self.inside(q) { -d } else { d }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdf::shapes;

    #[test]
    fn winding_number_is_one_inside_zero_outside() {
        let mesh = shapes::sphere(0.8, 4);
        let bvh = Bvh::new(&mesh);
        for (q, want) in [
            ([0.0; 3], 1.0),
            ([0.3, -0.2, 0.4], 1.0),
            ([0.0, 0.0, 2.0], 0.0),
            ([1.5, 1.5, -1.5], 0.0),
        ] {
            // The centre of a sphere is the worst case: every node's error has the same sign.
            let w = bvh.winding_number(q);
            assert!((w - want).abs() < 0.05, "{q:?}: {w}");
        }
    }

    #[test]
    fn fast_winding_number_matches_the_exact_sum() {
        let mesh = shapes::torus(0.6, 0.25, 64, 32);
        let bvh = Bvh::new(&mesh);
        for i in 0..50 {
            let s = i as f64 / 50.0;
            let q = [1.4 * s - 0.7, 0.9 * (7.0 * s).sin(), 0.4 * (3.0 * s).cos()];
            let exact: f64 =
                (0..mesh.triangles.len()).map(|t| solid_angle(q, mesh.corners(t))).sum::<f64>()
                    / (4.0 * std::f64::consts::PI);
            let fast = bvh.winding_number(q);
            assert!((fast - exact).abs() < 1e-2, "{q:?}: fast {fast}, exact {exact}");
        }
    }

    #[test]
    fn a_hole_and_flipped_triangles_keep_the_sign() {
        let mut mesh = shapes::sphere(0.8, 4);
        let n = mesh.triangles.len();
        mesh.triangles.truncate(n - 3); // a hole
        for t in mesh.triangles.iter_mut().step_by(97) {
            t.swap(1, 2); // flipped triangles
        }
        let bvh = Bvh::new(&mesh);
        assert!(bvh.signed_distance([0.1, 0.0, 0.0]) < 0.0);
        assert!(bvh.signed_distance([0.0, 0.95, 0.0]) > 0.0);
    }
}
