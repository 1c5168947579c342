//! Mesh timings and the exact-SDF floor, for BENCHMARKS.md and the README.
//!
//! ```sh
//! cargo run --release -p vi3nr-cuda --example mesh_bench -- sampling        # 500k samples, 100k triangles
//! cargo run --release -p vi3nr-cuda --example mesh_bench -- extract         # marching cubes at 128³, 256³
//! cargo run --release -p vi3nr-cuda --example mesh_bench -- floor MESH 64   # exact SDF → marching cubes
//! cargo run --release -p vi3nr-cuda --example mesh_bench -- torus OUT.obj   # write the 0.6/0.25 torus
//! ```

use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;
use vi3nr_cuda::marching_cubes::{extract, sample_grid};
use vi3nr_cuda::mesh_metrics::compare;
use vi3nr_cuda::sdf::{Bvh, Mix, sample, shapes};
use vi3nr_cuda::signal::Mesh;

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let threads = rayon::current_num_threads();
    match args.first().map(String::as_str) {
        Some("sampling") => {
            // A torus of 250 × 200 quads: 100,000 triangles, already inside [−1, 1]³.
            let mesh = shapes::torus(0.6, 0.25, 250, 200);
            for _ in 0..3 {
                let start = Instant::now();
                let bvh = Bvh::new(&mesh);
                let built = start.elapsed().as_secs_f64();
                let s = sample(&mesh, &bvh, 500_000, Mix::default(), 0);
                let total = start.elapsed().as_secs_f64();
                let inside = s.distances.iter().filter(|&&d| d < 0.0).count();
                println!(
                    "{} triangles, {} samples on {threads} threads: BVH {built:.3} s, total {total:.2} s ({inside} inside)",
                    mesh.triangles.len(),
                    s.distances.len()
                );
            }
        }
        Some("extract") => {
            for n in [128usize, 256] {
                let start = Instant::now();
                let values = sample_grid(n, &|p: &[f32]| {
                    Ok(p.par_chunks(3)
                        .map(|x| {
                            shapes::torus_sdf(0.6, 0.25, [x[0], x[1], x[2]].map(f64::from)) as f32
                        })
                        .collect())
                })?;
                let grid = start.elapsed().as_secs_f64();
                let start = Instant::now();
                let mesh = extract(&values, n);
                println!(
                    "{n}³: analytic grid {grid:.2} s, marching cubes {:.2} s, {} triangles",
                    start.elapsed().as_secs_f64(),
                    mesh.triangles.len()
                );
            }
        }
        Some("floor") => {
            let path = args.get(1).ok_or("floor MESH RESOLUTION")?;
            let n: usize =
                args.get(2).and_then(|s| s.parse().ok()).ok_or("floor MESH RESOLUTION")?;
            let mesh = Mesh::load(Path::new(path)).map_err(|e| e.to_string())?;
            let norm = mesh.normalisation();
            let unit = mesh.map(|v| norm.forward(v));
            let bvh = Bvh::new(&unit);
            let start = Instant::now();
            let values = sample_grid(n, &|p: &[f32]| {
                Ok(p.par_chunks(3)
                    .map(|x| bvh.signed_distance([x[0], x[1], x[2]].map(f64::from)) as f32)
                    .collect())
            })?;
            let surface = extract(&values, n).map(|v| norm.inverse(v));
            let seconds = start.elapsed().as_secs_f64();
            let m = compare(
                &mesh,
                &surface,
                50_000,
                (norm.inverse([-1.0; 3]), norm.inverse([1.0; 3])),
                0,
            );
            println!(
                "{path}: exact SDF at {n}³ ({seconds:.1} s): Chamfer-L1 {:.5}, Hausdorff {:.5}, IoU {:.4} (mesh units; scale {:.4})",
                m.chamfer_l1, m.hausdorff, m.iou, norm.scale
            );
        }
        Some("torus") => {
            // The torus of `sdf::shapes` (R = 0.6, r = 0.25; 64 × 32 quads) as a mesh file, e.g.
            // the input of the firmware demo's SDF model (`firmware-demo/models/regenerate.sh`).
            let path = args.get(1).ok_or("torus OUT.obj|OUT.ply")?;
            let mesh = shapes::torus(0.6, 0.25, 64, 32);
            let bytes = if path.ends_with(".ply") { mesh.to_ply() } else { mesh.to_obj() };
            std::fs::write(path, bytes).map_err(|e| format!("{path}: {e}"))?;
            println!("{path}: {} triangles", mesh.triangles.len());
        }
        _ => {
            return Err(
                "usage: mesh_bench sampling | extract | floor MESH RESOLUTION | torus OUT.obj"
                    .into(),
            );
        }
    }
    Ok(())
}
