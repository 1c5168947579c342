//! Meshes the code generates, with their analytic signed distances: the test shapes, and the
//! stand-in for a large scanned mesh in the sampling benchmark.
//!
//! Every mesh is closed and oriented outward (counter-clockwise seen from outside).

use std::collections::HashMap;

use crate::signal::Mesh;

/// An icosphere of radius `r` about the origin: an icosahedron subdivided `levels` times
/// (20·4^levels triangles), every vertex on the sphere.
pub fn sphere(r: f64, levels: u32) -> Mesh {
    let g = (1.0 + 5f64.sqrt()) / 2.0;
    let mut vertices: Vec<[f64; 3]> = [
        [-1.0, g, 0.0],
        [1.0, g, 0.0],
        [-1.0, -g, 0.0],
        [1.0, -g, 0.0],
        [0.0, -1.0, g],
        [0.0, 1.0, g],
        [0.0, -1.0, -g],
        [0.0, 1.0, -g],
        [g, 0.0, -1.0],
        [g, 0.0, 1.0],
        [-g, 0.0, -1.0],
        [-g, 0.0, 1.0],
    ]
    .map(|v| unit(v, r))
    .to_vec();
    let mut triangles: Vec<[u32; 3]> = vec![
        [0, 11, 5],
        [0, 5, 1],
        [0, 1, 7],
        [0, 7, 10],
        [0, 10, 11],
        [1, 5, 9],
        [5, 11, 4],
        [11, 10, 2],
        [10, 7, 6],
        [7, 1, 8],
        [3, 9, 4],
        [3, 4, 2],
        [3, 2, 6],
        [3, 6, 8],
        [3, 8, 9],
        [4, 9, 5],
        [2, 4, 11],
        [6, 2, 10],
        [8, 6, 7],
        [9, 8, 1],
    ];
    for _ in 0..levels {
        let mut mid: HashMap<(u32, u32), u32> = HashMap::new();
        let mut split = |a: u32, b: u32, vertices: &mut Vec<[f64; 3]>| -> u32 {
            *mid.entry((a.min(b), a.max(b))).or_insert_with(|| {
                let (p, q) = (vertices[a as usize], vertices[b as usize]);
                vertices.push(unit(std::array::from_fn(|k| p[k] + q[k]), r));
                vertices.len() as u32 - 1
            })
        };
        let mut next = Vec::with_capacity(4 * triangles.len());
        for [a, b, c] in triangles {
            let ab = split(a, b, &mut vertices);
            let bc = split(b, c, &mut vertices);
            let ca = split(c, a, &mut vertices);
            next.extend([[a, ab, ca], [b, bc, ab], [c, ca, bc], [ab, bc, ca]]);
        }
        triangles = next;
    }
    Mesh { vertices, triangles, dropped: 0 }
}

fn unit(v: [f64; 3], r: f64) -> [f64; 3] {
    let n = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    v.map(|c| r * c / n)
}

/// The exact signed distance to the sphere of radius `r` about the origin.
pub fn sphere_sdf(r: f64, q: [f64; 3]) -> f64 {
    (q[0] * q[0] + q[1] * q[1] + q[2] * q[2]).sqrt() - r
}

/// A torus about the z axis: ring radius `big`, tube radius `small`, `n` segments around the
/// ring and `m` around the tube (2·n·m triangles).
pub fn torus(big: f64, small: f64, n: u32, m: u32) -> Mesh {
    let tau = std::f64::consts::TAU;
    let mut vertices = Vec::with_capacity((n * m) as usize);
    for i in 0..n {
        let u = tau * f64::from(i) / f64::from(n);
        for j in 0..m {
            let v = tau * f64::from(j) / f64::from(m);
            let rho = big + small * v.cos();
            vertices.push([rho * u.cos(), rho * u.sin(), small * v.sin()]);
        }
    }
    let at = |i: u32, j: u32| (i % n) * m + (j % m);
    let mut triangles = Vec::with_capacity(2 * (n * m) as usize);
    for i in 0..n {
        for j in 0..m {
            let (a, b, c, d) = (at(i, j), at(i + 1, j), at(i + 1, j + 1), at(i, j + 1));
            triangles.push([a, b, c]);
            triangles.push([a, c, d]);
        }
    }
    Mesh { vertices, triangles, dropped: 0 }
}

/// The exact signed distance to the torus of [`torus`].
pub fn torus_sdf(big: f64, small: f64, q: [f64; 3]) -> f64 {
    let rho = (q[0] * q[0] + q[1] * q[1]).sqrt() - big;
    (rho * rho + q[2] * q[2]).sqrt() - small
}

/// Two linked tori (chain links: ring radius 0.5, tube 0.15; the second in the xz plane
/// centred on (0.5, 0, 0)) — a non-convex shape with two holes, as one mesh.
pub fn chain(n: u32, m: u32) -> Mesh {
    let a = torus(0.5, 0.15, n, m);
    let b = torus(0.5, 0.15, n, m).map(|v| [v[0] + 0.5, v[2], -v[1]]);
    let base = a.vertices.len() as u32;
    let mut mesh = a;
    mesh.vertices.extend(b.vertices);
    mesh.triangles.extend(b.triangles.iter().map(|t| t.map(|i| i + base)));
    mesh
}

/// The exact signed distance to [`chain`]: the minimum of the two tori's (exact, as they are
/// disjoint).
pub fn chain_sdf(q: [f64; 3]) -> f64 {
    let second = [q[0] - 0.5, -q[2], q[1]];
    torus_sdf(0.5, 0.15, q).min(torus_sdf(0.5, 0.15, second))
}

/// The cube [−h, h]³ as 12 triangles.
pub fn cube(h: f64) -> Mesh {
    let vertices = (0..8)
        .map(|i| {
            [(i & 1) as f64, ((i >> 1) & 1) as f64, ((i >> 2) & 1) as f64]
                .map(|c| h * (2.0 * c - 1.0))
        })
        .collect();
    let quads =
        [[0, 2, 3, 1], [4, 5, 7, 6], [0, 1, 5, 4], [2, 6, 7, 3], [0, 4, 6, 2], [1, 3, 7, 5]];
    let triangles = quads.iter().flat_map(|&[a, b, c, d]| [[a, b, c], [a, c, d]]).collect();
    Mesh { vertices, triangles, dropped: 0 }
}

/// The exact signed distance to the cube [−h, h]³.
pub fn cube_sdf(h: f64, q: [f64; 3]) -> f64 {
    let d = q.map(|c| c.abs() - h);
    let outside = d.map(|c| c.max(0.0));
    (outside[0] * outside[0] + outside[1] * outside[1] + outside[2] * outside[2]).sqrt()
        + d[0].max(d[1]).max(d[2]).min(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::mesh::{cross, dot, sub};

    /// Σ over triangles of the signed volume of (origin, triangle): the enclosed volume when the
    /// mesh is closed and oriented outward.
    fn volume(mesh: &Mesh) -> f64 {
        (0..mesh.triangles.len())
            .map(|t| {
                let [a, b, c] = mesh.corners(t);
                dot(a, cross(b, c)) / 6.0
            })
            .sum()
    }

    #[test]
    fn shapes_are_closed_and_outward() {
        let pi = std::f64::consts::PI;
        let cases = [
            (sphere(0.8, 4), 4.0 / 3.0 * pi * 0.8f64.powi(3), 0.01),
            (torus(0.6, 0.25, 96, 48), 2.0 * pi * pi * 0.6 * 0.25 * 0.25, 0.01),
            (cube(0.5), 1.0, 1e-12),
        ];
        for (mesh, want, tol) in cases {
            let v = volume(&mesh);
            assert!((v / want - 1.0).abs() < tol, "volume {v}, want {want}");
            // Every edge is shared by exactly two triangles, in opposite directions.
            let mut edges = std::collections::HashMap::new();
            for t in &mesh.triangles {
                for k in 0..3 {
                    *edges.entry((t[k], t[(k + 1) % 3])).or_insert(0) += 1;
                }
            }
            assert!(edges.iter().all(|(&(a, b), &n)| n == 1 && edges.get(&(b, a)) == Some(&1)));
            let _ = sub;
        }
    }
}
