//! A bounding-volume hierarchy over a mesh's triangles, for the closest point on the surface.
//!
//! Built top down: each node's triangles are split at the median centroid along the longest
//! axis of their centroids' box, down to leaves of at most [`LEAF`] triangles (O(n log n)).
//! A query descends nearer child first and skips every node whose box is farther than the best
//! distance so far, so it is exact, and visits O(log n) nodes on well-shaped meshes. The
//! point–triangle distance is Ericson's region test (Real-Time Collision Detection, §5.1.5),
//! in f64.
//!
//! Each node also keeps what the fast winding number needs ([`super::winding`]): the
//! area-weighted normal sum of its triangles, their area-weighted centroid, a radius that
//! encloses them and the second-order moment of the far-field expansion.

use crate::signal::Mesh;
use crate::signal::mesh::{cross, dot, sub};

/// Most triangles in a leaf.
pub const LEAF: usize = 4;

/// One node: a box and either two children or a run of triangles.
#[derive(Debug, Clone)]
pub(super) struct Node {
    /// Box corners.
    pub lo: [f64; 3],
    pub hi: [f64; 3],
    /// Leaf: first index into `order`; inner: index of the left child (the right follows it).
    pub first: u32,
    /// Leaf: number of triangles; inner: 0.
    pub count: u32,
    /// Σ over the node's triangles of area × unit normal (half the cross products).
    pub normal: [f64; 3],
    /// Area-weighted centroid.
    pub center: [f64; 3],
    /// Distance from `center` within which every corner lies.
    pub radius: f64,
    /// Σ over the node's triangles of area × `n_i (c − center)_j` (`c` the triangle's
    /// centroid): the second-order moment of the far-field expansion.
    pub moment: [[f64; 3]; 3],
}

/// The hierarchy over one mesh (which it borrows).
#[derive(Debug, Clone)]
pub struct Bvh<'m> {
    pub(super) mesh: &'m Mesh,
    pub(super) nodes: Vec<Node>,
    /// Triangle indices, leaves' runs contiguous.
    pub(super) order: Vec<u32>,
}

/// The closest point of a surface to a query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Closest {
    /// Euclidean distance.
    pub distance: f64,
    /// The closest point.
    pub point: [f64; 3],
    /// The triangle it lies on.
    pub triangle: u32,
}

impl<'m> Bvh<'m> {
    /// Builds the hierarchy of `mesh` (which has at least one triangle).
    pub fn new(mesh: &'m Mesh) -> Bvh<'m> {
        let n = mesh.triangles.len();
        let centroids: Vec<[f64; 3]> = (0..n)
            .map(|t| {
                let [a, b, c] = mesh.corners(t);
                std::array::from_fn(|k| (a[k] + b[k] + c[k]) / 3.0)
            })
            .collect();
        let mut bvh = Bvh {
            mesh,
            nodes: Vec::with_capacity(2 * n / LEAF + 1),
            order: (0..n as u32).collect(),
        };
        bvh.nodes.push(bvh.node(0, n));
        bvh.split(0, 0, n, &centroids);
        bvh
    }

    /// A leaf node over `order[first..first + count]`, its box and moments filled in.
    fn node(&self, first: usize, count: usize) -> Node {
        let mut node = Node {
            lo: [f64::INFINITY; 3],
            hi: [f64::NEG_INFINITY; 3],
            first: first as u32,
            count: count as u32,
            normal: [0.0; 3],
            center: [0.0; 3],
            radius: 0.0,
            moment: [[0.0; 3]; 3],
        };
        let mut area = 0.0;
        let mut weighted = [0.0; 3];
        for &t in &self.order[first..first + count] {
            let [a, b, c] = self.mesh.corners(t as usize);
            for v in [a, b, c] {
                node.lo = std::array::from_fn(|k| node.lo[k].min(v[k]));
                node.hi = std::array::from_fn(|k| node.hi[k].max(v[k]));
            }
            let n = cross(sub(b, a), sub(c, a));
            let t_area = 0.5 * dot(n, n).sqrt();
            for k in 0..3 {
                node.normal[k] += 0.5 * n[k];
                weighted[k] += t_area * (a[k] + b[k] + c[k]) / 3.0;
            }
            area += t_area;
        }
        node.center = if area > 0.0 {
            weighted.map(|w| w / area)
        } else {
            std::array::from_fn(|k| 0.5 * (node.lo[k] + node.hi[k]))
        };
        for &t in &self.order[first..first + count] {
            let [a, b, c] = self.mesh.corners(t as usize);
            for v in [a, b, c] {
                let d = sub(v, node.center);
                node.radius = node.radius.max(dot(d, d).sqrt());
            }
            // Half the cross product: area × unit normal.
            let n = cross(sub(b, a), sub(c, a)).map(|x| 0.5 * x);
            let offset: [f64; 3] =
                std::array::from_fn(|k| (a[k] + b[k] + c[k]) / 3.0 - node.center[k]);
            for (row, ni) in node.moment.iter_mut().zip(n) {
                for (m, oj) in row.iter_mut().zip(offset) {
                    *m += ni * oj;
                }
            }
        }
        node
    }

    /// Splits node `at` (over `first..first + count`) recursively.
    fn split(&mut self, at: usize, first: usize, count: usize, centroids: &[[f64; 3]]) {
        if count <= LEAF {
            return;
        }
        let mut lo = [f64::INFINITY; 3];
        let mut hi = [f64::NEG_INFINITY; 3];
        for &t in &self.order[first..first + count] {
            for k in 0..3 {
                lo[k] = lo[k].min(centroids[t as usize][k]);
                hi[k] = hi[k].max(centroids[t as usize][k]);
            }
        }
        let axis = (0..3).max_by(|&a, &b| (hi[a] - lo[a]).total_cmp(&(hi[b] - lo[b]))).unwrap_or(0);
        let half = count / 2;
        self.order[first..first + count].select_nth_unstable_by(half, |&a, &b| {
            centroids[a as usize][axis].total_cmp(&centroids[b as usize][axis])
        });
        let left = self.nodes.len();
        let (l, r) = (self.node(first, half), self.node(first + half, count - half));
        self.nodes.push(l);
        self.nodes.push(r);
        self.nodes[at].first = left as u32;
        self.nodes[at].count = 0;
        self.split(left, first, half, centroids);
        self.split(left + 1, first + half, count - half, centroids);
    }

    /// The closest point of the mesh's surface to `q`.
    pub fn closest(&self, q: [f64; 3]) -> Closest {
        let mut best = Closest { distance: f64::INFINITY, point: q, triangle: 0 };
        let mut best2 = f64::INFINITY;
        let mut stack: Vec<(u32, f64)> = Vec::with_capacity(64);
        stack.push((0, box_distance2(&self.nodes[0], q)));
        while let Some((at, d2)) = stack.pop() {
            if d2 >= best2 {
                continue;
            }
            let node = &self.nodes[at as usize];
            if node.count > 0 {
                let run = node.first as usize..(node.first + node.count) as usize;
                for &t in &self.order[run] {
                    let p = closest_on_triangle(q, self.mesh.corners(t as usize));
                    let d = sub(p, q);
                    let e2 = dot(d, d);
                    if e2 < best2 {
                        best2 = e2;
                        best = Closest { distance: e2.sqrt(), point: p, triangle: t };
                    }
                }
                continue;
            }
            let (l, r) = (node.first, node.first + 1);
            let dl = box_distance2(&self.nodes[l as usize], q);
            let dr = box_distance2(&self.nodes[r as usize], q);
            // The nearer child is popped first.
            if dl < dr {
                stack.push((r, dr));
                stack.push((l, dl));
            } else {
                stack.push((l, dl));
                stack.push((r, dr));
            }
        }
        best
    }

    /// The distance from `q` to the surface.
    pub fn distance(&self, q: [f64; 3]) -> f64 {
        self.closest(q).distance
    }
}

/// Squared distance from `q` to a node's box (0 inside).
fn box_distance2(node: &Node, q: [f64; 3]) -> f64 {
    (0..3)
        .map(|k| {
            let d = (node.lo[k] - q[k]).max(q[k] - node.hi[k]).max(0.0);
            d * d
        })
        .sum()
}

/// The point of triangle `[a, b, c]` closest to `p` (Ericson's Voronoi-region test).
pub fn closest_on_triangle(p: [f64; 3], [a, b, c]: [[f64; 3]; 3]) -> [f64; 3] {
    let lerp = |x: [f64; 3], y: [f64; 3], t: f64| -> [f64; 3] {
        std::array::from_fn(|k| x[k] + t * (y[k] - x[k]))
    };
    let ab = sub(b, a);
    let ac = sub(c, a);
    let ap = sub(p, a);
    let d1 = dot(ab, ap);
    let d2 = dot(ac, ap);
    if d1 <= 0.0 && d2 <= 0.0 {
        return a;
    }
    let bp = sub(p, b);
    let d3 = dot(ab, bp);
    let d4 = dot(ac, bp);
    if d3 >= 0.0 && d4 <= d3 {
        return b;
    }
    let vc = d1 * d4 - d3 * d2;
    if vc <= 0.0 && d1 >= 0.0 && d3 <= 0.0 {
        return lerp(a, b, d1 / (d1 - d3));
    }
    let cp = sub(p, c);
    let d5 = dot(ab, cp);
    let d6 = dot(ac, cp);
    if d6 >= 0.0 && d5 <= d6 {
        return c;
    }
    let vb = d5 * d2 - d1 * d6;
    if vb <= 0.0 && d2 >= 0.0 && d6 <= 0.0 {
        return lerp(a, c, d2 / (d2 - d6));
    }
    let va = d3 * d6 - d5 * d4;
    if va <= 0.0 && (d4 - d3) >= 0.0 && (d5 - d6) >= 0.0 {
        return lerp(b, c, (d4 - d3) / ((d4 - d3) + (d5 - d6)));
    }
    let denom = 1.0 / (va + vb + vc);
    let (v, w) = (vb * denom, vc * denom);
    std::array::from_fn(|k| a[k] + ab[k] * v + ac[k] * w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdf::shapes;

    #[test]
    fn closest_on_triangle_in_every_region() {
        let t = [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];
        let cases = [
            ([0.2, 0.2, 1.0], [0.2, 0.2, 0.0]),
            ([-1.0, -1.0, 0.5], [0.0, 0.0, 0.0]),
            ([2.0, -0.5, 0.0], [1.0, 0.0, 0.0]),
            ([0.5, -3.0, 0.0], [0.5, 0.0, 0.0]),
            ([-2.0, 0.5, 0.0], [0.0, 0.5, 0.0]),
            ([1.0, 1.0, 0.0], [0.5, 0.5, 0.0]),
            ([0.0, 5.0, 0.0], [0.0, 1.0, 0.0]),
        ];
        for (p, want) in cases {
            let got = closest_on_triangle(p, t);
            assert!((0..3).all(|k| (got[k] - want[k]).abs() < 1e-12), "{p:?}: {got:?}");
        }
    }

    #[test]
    fn bvh_distance_equals_brute_force() {
        let mesh = shapes::torus(0.6, 0.25, 48, 24);
        let bvh = Bvh::new(&mesh);
        let mut state = 0x1234_5678_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 * 2.4 - 1.2
        };
        for _ in 0..300 {
            let q = [next(), next(), next()];
            let brute = (0..mesh.triangles.len())
                .map(|t| {
                    let d = sub(closest_on_triangle(q, mesh.corners(t)), q);
                    dot(d, d).sqrt()
                })
                .fold(f64::INFINITY, f64::min);
            let got = bvh.distance(q);
            assert!((got - brute).abs() < 1e-12, "{q:?}: {got} vs {brute}");
        }
    }
}
