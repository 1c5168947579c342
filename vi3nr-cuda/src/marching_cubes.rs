//! Marching cubes (Lorensen and Cline 1987): the zero level set of a function sampled on a
//! regular grid over [−1, 1]³ as a triangle mesh.
//!
//! The 256-case table is not typed in but derived once from a rule, which makes it consistent
//! by construction. Each face of a cell is walked counter-clockwise seen from outside; an edge
//! whose start is inside (value < 0) and end outside is an *exit*, the reverse an *entry*.
//! On each face every exit is joined to the next entry along the walk. On a face with four
//! crossings (the ambiguous case) this keeps the inside corners connected; the neighbouring
//! cell walks the shared face the other way round and makes the same pairs, so the surface has
//! no cracks. Every crossed edge is an exit on one of its faces and an entry on the other, so
//! the segments close into loops, each cut into a fan of triangles (oriented so that normals
//! point outside, towards positive values; a loop whose fan would add an edge along a face gets
//! a centre vertex instead, so the mesh stays a manifold). Vertices sit on the cell edges at the linear
//! interpolation of the two values and are shared between cells, so a closed level set gives
//! a closed, consistently oriented mesh.
//!
//! The grid is evaluated slab by slab (one z layer of points at a time, each on all cores) and
//! the cells are triangulated slab-parallel.

use std::collections::HashMap;
use std::sync::OnceLock;

use rayon::prelude::*;

use crate::signal::Mesh;

/// Corner `i` of a cell sits at offset `(i & 1, i >> 1 & 1, i >> 2 & 1)`.
const FACES: [[usize; 4]; 6] =
    [[0, 2, 3, 1], [4, 5, 7, 6], [0, 1, 5, 4], [2, 6, 7, 3], [0, 4, 6, 2], [1, 3, 7, 5]];

/// The 12 cell edges as (corner, corner) with the lower corner first.
const EDGES: [(usize, usize); 12] = [
    (0, 1),
    (2, 3),
    (4, 5),
    (6, 7),
    (0, 2),
    (1, 3),
    (4, 6),
    (5, 7),
    (0, 4),
    (1, 5),
    (2, 6),
    (3, 7),
];

fn edge_of(a: usize, b: usize) -> usize {
    let key = (a.min(b), a.max(b));
    EDGES.iter().position(|&e| e == key).expect("corners of a face share an edge")
}

/// One loop of crossed cell edges, in order, and how it is cut into triangles.
#[derive(Debug, Clone)]
struct Loop {
    /// Cell edges, counter-clockwise seen from outside the surface.
    edges: Vec<u8>,
    /// The loop position to fan from, or `None`: fan around a new vertex at the loop's mean.
    fan: Option<usize>,
}

/// The loops of each of the 256 inside/outside patterns.
fn table() -> &'static [Vec<Loop>; 256] {
    static TABLE: OnceLock<[Vec<Loop>; 256]> = OnceLock::new();
    TABLE.get_or_init(|| std::array::from_fn(case))
}

/// Whether cell edges `e` and `f` lie on one face of the cell.
fn share_face(e: usize, f: usize) -> bool {
    let (a, b) = EDGES[e];
    let (c, d) = EDGES[f];
    FACES.iter().any(|face| [a, b, c, d].iter().all(|x| face.contains(x)))
}

/// Loops of pattern `mask` (bit `i` set: corner `i` inside).
fn case(mask: usize) -> Vec<Loop> {
    let inside = |c: usize| mask >> c & 1 == 1;
    let mut next = [usize::MAX; 12];
    for face in FACES {
        // Crossings along the walk: (edge, is_exit).
        let crossings: Vec<(usize, bool)> = (0..4)
            .filter_map(|k| {
                let (a, b) = (face[k], face[(k + 1) % 4]);
                (inside(a) != inside(b)).then(|| (edge_of(a, b), inside(a)))
            })
            .collect();
        for (i, &(edge, exit)) in crossings.iter().enumerate() {
            if exit {
                let entry = (1..crossings.len())
                    .map(|d| crossings[(i + d) % crossings.len()])
                    .find(|c| !c.1)
                    .expect("a face has as many entries as exits");
                next[edge] = entry.0;
            }
        }
    }
    let mut seen = [false; 12];
    let mut loops = Vec::new();
    for start in 0..12 {
        if next[start] == usize::MAX || seen[start] {
            continue;
        }
        let mut lp = vec![start];
        seen[start] = true;
        let mut at = next[start];
        while at != start {
            seen[at] = true;
            lp.push(at);
            at = next[at];
        }
        // The walk runs clockwise seen from outside the surface: reverse it.
        lp.reverse();
        // A fan whose diagonals each cross the cell's interior (their ends on no common face)
        // adds edges no other cell has; where no start gives that, a centre vertex does.
        let len = lp.len();
        let fan = (0..len).find(|&s| (2..len - 1).all(|d| !share_face(lp[s], lp[(s + d) % len])));
        loops.push(Loop { edges: lp.iter().map(|&e| e as u8).collect(), fan });
    }
    loops
}

/// A function evaluated on a batch of points (`k × 3`, flattened) giving their `k` values.
pub type GridFn<'a> = dyn Fn(&[f32]) -> Result<Vec<f32>, String> + Sync + 'a;

/// One slab's triangles (as global edge keys) and its vertices (key, position).
type Slab = (Vec<[u64; 3]>, Vec<(u64, [f64; 3])>);

/// Samples `f` (a batch of points, `k × 3` flattened, to their `k` values) on the grid of
/// `(n + 1)³` points over [−1, 1]³ (x fastest), one z layer per call.
pub fn sample_grid(n: usize, f: &GridFn<'_>) -> Result<Vec<f32>, String> {
    let m = n + 1;
    let at = |i: usize| (-1.0 + 2.0 * i as f64 / n as f64) as f32;
    let mut values = Vec::with_capacity(m * m * m);
    for k in 0..m {
        let layer: Vec<f32> = (0..m * m).flat_map(|ij| [at(ij % m), at(ij / m), at(k)]).collect();
        let v = f(&layer)?;
        if v.len() != m * m {
            return Err(format!(
                "the grid function returned {} values for {} points",
                v.len(),
                m * m
            ));
        }
        values.extend(v);
    }
    Ok(values)
}

/// The zero level set of `values`, sampled on the `(n + 1)³` grid of [`sample_grid`], as a
/// mesh in [−1, 1]³. Values below 0 are inside; NaN counts as outside.
pub fn extract(values: &[f32], n: usize) -> Mesh {
    let m = n + 1;
    assert_eq!(values.len(), m * m * m, "extract: values do not fill the grid");
    let index = |i: usize, j: usize, k: usize| i + m * (j + m * k);
    let table = table();
    // Per slab: triangles as global edge keys, and each key's vertex.
    let slabs: Vec<Slab> = (0..n)
        .into_par_iter()
        .map(|k| {
            let mut tris = Vec::new();
            let mut verts = Vec::new();
            for j in 0..n {
                for i in 0..n {
                    let corner = |c: usize| index(i + (c & 1), j + (c >> 1 & 1), k + (c >> 2 & 1));
                    let mut mask = 0;
                    for c in 0..8 {
                        if values[corner(c)] < 0.0 {
                            mask |= 1 << c;
                        }
                    }
                    if mask == 0 || mask == 255 {
                        continue;
                    }
                    let key = |e: u8| -> u64 {
                        let (a, b) = EDGES[e as usize];
                        let axis = (b - a).trailing_zeros() as u64;
                        3 * corner(a) as u64 + axis
                    };
                    let cell = i + n * (j + n * k);
                    let vertex = |e: u8| -> [f64; 3] {
                        let (a, b) = EDGES[e as usize];
                        let (va, vb) = (f64::from(values[corner(a)]), f64::from(values[corner(b)]));
                        let s = if va == vb { 0.5 } else { (va / (va - vb)).clamp(0.0, 1.0) };
                        let p = |c: usize| {
                            [i + (c & 1), j + (c >> 1 & 1), k + (c >> 2 & 1)]
                                .map(|g| -1.0 + 2.0 * g as f64 / n as f64)
                        };
                        let (pa, pb) = (p(a), p(b));
                        std::array::from_fn(|d| pa[d] + s * (pb[d] - pa[d]))
                    };
                    for (l, lp) in table[mask].iter().enumerate() {
                        let keys: Vec<u64> = lp.edges.iter().map(|&e| key(e)).collect();
                        for &e in &lp.edges {
                            verts.push((key(e), vertex(e)));
                        }
                        let len = keys.len();
                        match lp.fan {
                            Some(s) => {
                                for d in 1..len - 1 {
                                    tris.push([
                                        keys[s],
                                        keys[(s + d) % len],
                                        keys[(s + d + 1) % len],
                                    ]);
                                }
                            }
                            None => {
                                // A private centre vertex: keys with the top bit set.
                                let centre = 1 << 63 | (4 * cell + l) as u64;
                                let mut c = [0.0; 3];
                                for &e in &lp.edges {
                                    let v = vertex(e);
                                    (0..3).for_each(|d| c[d] += v[d] / len as f64);
                                }
                                verts.push((centre, c));
                                for d in 0..len {
                                    tris.push([centre, keys[d], keys[(d + 1) % len]]);
                                }
                            }
                        }
                    }
                }
            }
            (tris, verts)
        })
        .collect();
    let mut ids: HashMap<u64, u32> = HashMap::new();
    let mut mesh = Mesh::default();
    for (_, verts) in &slabs {
        for &(key, v) in verts {
            ids.entry(key).or_insert_with(|| {
                mesh.vertices.push(v);
                mesh.vertices.len() as u32 - 1
            });
        }
    }
    for (tris, _) in &slabs {
        mesh.triangles.extend(tris.iter().map(|t| t.map(|key| ids[&key])));
    }
    mesh
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdf::shapes;
    use crate::signal::mesh::{cross, dot};

    /// Every directed edge appears once and its reverse once: closed and consistently oriented.
    fn closed(mesh: &Mesh) -> bool {
        let mut edges = HashMap::new();
        for t in &mesh.triangles {
            for k in 0..3 {
                *edges.entry((t[k], t[(k + 1) % 3])).or_insert(0) += 1;
            }
        }
        edges.iter().all(|(&(a, b), &c)| c == 1 && edges.get(&(b, a)) == Some(&1))
    }

    fn volume(mesh: &Mesh) -> f64 {
        (0..mesh.triangles.len())
            .map(|t| {
                let [a, b, c] = mesh.corners(t);
                dot(a, cross(b, c)) / 6.0
            })
            .sum()
    }

    fn grid_of(n: usize, f: impl Fn([f64; 3]) -> f64 + Sync) -> Vec<f32> {
        sample_grid(n, &|p: &[f32]| {
            Ok(p.chunks_exact(3).map(|x| f([x[0], x[1], x[2]].map(f64::from)) as f32).collect())
        })
        .unwrap()
    }

    #[test]
    fn every_case_is_closed_loops_of_the_crossed_edges() {
        for (mask, tris) in table().iter().enumerate() {
            let crossed =
                EDGES.iter().filter(|&&(a, b)| (mask >> a & 1) != (mask >> b & 1)).count();
            let used: std::collections::HashSet<u8> =
                tris.iter().flat_map(|l| l.edges.iter()).copied().collect();
            assert_eq!(used.len(), crossed, "case {mask}");
        }
        assert!(table()[0].is_empty() && table()[255].is_empty());
    }

    #[test]
    fn sphere_and_torus_come_out_closed_outward_and_on_the_surface() {
        let pi = std::f64::consts::PI;
        type Sdf = Box<dyn Fn([f64; 3]) -> f64 + Sync>;
        let cases: [(&str, Sdf, f64); 2] = [
            ("sphere", Box::new(|q| shapes::sphere_sdf(0.7, q)), 4.0 / 3.0 * pi * 0.343),
            ("torus", Box::new(|q| shapes::torus_sdf(0.6, 0.25, q)), 2.0 * pi * pi * 0.6 * 0.0625),
        ];
        for (name, sdf, want) in cases {
            let n = 48;
            let mesh = extract(&grid_of(n, &sdf), n);
            assert!(closed(&mesh), "{name}");
            let v = volume(&mesh);
            assert!((v / want - 1.0).abs() < 0.02, "{name}: volume {v}, want {want}");
            let h = 2.0 / n as f64;
            let worst = mesh.vertices.iter().map(|&p| sdf(p).abs()).fold(0.0, f64::max);
            assert!(worst < 0.05 * h, "{name}: a vertex {worst} off the surface");
        }
    }

    #[test]
    fn random_fields_give_closed_meshes() {
        let mut state = 0x9E37_79B9_u64;
        for n in [3, 5, 8] {
            let m = n + 1;
            let values: Vec<f32> = (0..m * m * m)
                .map(|idx| {
                    let (i, j, k) = (idx % m, idx / m % m, idx / (m * m));
                    state =
                        state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    let r = (state >> 33) as f32 / (1u64 << 31) as f32 - 0.5;
                    // The boundary is outside so that the level set closes.
                    if [i, j, k].iter().any(|&g| g == 0 || g == n) { 1.0 } else { r }
                })
                .collect();
            let mesh = extract(&values, n);
            assert!(closed(&mesh), "n = {n}");
            assert!(volume(&mesh) >= 0.0);
        }
    }
}
