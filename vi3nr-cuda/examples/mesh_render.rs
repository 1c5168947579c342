//! Renders meshes side by side as a PNG (plotters): an orthographic view from a fixed
//! direction, triangles painted back to front, shaded by the angle of their normal to a light;
//! the panels in the order of the arguments, unlabelled.
//!
//! ```sh
//! cargo run --release -p vi3nr-cuda --example mesh_render -- OUT.png A.obj [B.ply …]
//! ```

use std::path::Path;

use plotters::prelude::*;
use vi3nr_cuda::signal::Mesh;

/// Pixels per panel.
const SIZE: u32 = 480;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (out, inputs) = args.split_first().ok_or("usage: mesh_render OUT.png MESH…")?;
    let meshes: Vec<Mesh> =
        inputs.iter().map(|p| Mesh::load(Path::new(p))).collect::<Result<_, _>>()?;
    let (w, h) = (SIZE * meshes.len() as u32, SIZE);
    let mut rgb = vec![0u8; 3 * (w * h) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        root.fill(&WHITE)?;
        let panels = root.split_evenly((1, meshes.len()));
        // View: rotate about z by 35°, then tilt about x by −60°; the light comes from the viewer's
        // upper left.
        let (a, b) = (35f64.to_radians(), (-60f64).to_radians());
        let view = |v: [f64; 3]| {
            let (x, y) = (v[0] * a.cos() - v[1] * a.sin(), v[0] * a.sin() + v[1] * a.cos());
            [x, y * b.cos() - v[2] * b.sin(), y * b.sin() + v[2] * b.cos()]
        };
        let light = {
            let l: [f64; 3] = [-0.4, 0.5, 0.77];
            let n = (l[0] * l[0] + l[1] * l[1] + l[2] * l[2]).sqrt();
            l.map(|c| c / n)
        };
        for (mesh, panel) in meshes.iter().zip(&panels) {
            let verts: Vec<[f64; 3]> = mesh.vertices.iter().map(|&v| view(v)).collect();
            let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
            for v in &verts {
                for k in 0..2 {
                    lo[k] = lo[k].min(v[k]);
                    hi[k] = hi[k].max(v[k]);
                }
            }
            let span = (hi[0] - lo[0]).max(hi[1] - lo[1]).max(1e-12);
            let margin = 0.06 * f64::from(SIZE);
            let scale = (f64::from(SIZE) - 2.0 * margin) / span;
            let centre = [(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0];
            let px = |v: [f64; 3]| {
                (
                    (f64::from(SIZE) / 2.0 + (v[0] - centre[0]) * scale) as i32,
                    (f64::from(SIZE) / 2.0 - (v[1] - centre[1]) * scale) as i32,
                )
            };
            let mut order: Vec<(f64, usize)> = mesh
                .triangles
                .iter()
                .enumerate()
                .map(|(t, tri)| (tri.iter().map(|&i| verts[i as usize][2]).sum::<f64>(), t))
                .collect();
            order.sort_by(|x, y| x.0.total_cmp(&y.0));
            for (_, t) in order {
                let [p, q, r] = mesh.triangles[t].map(|i| verts[i as usize]);
                let (u, w) = (
                    [q[0] - p[0], q[1] - p[1], q[2] - p[2]],
                    [r[0] - p[0], r[1] - p[1], r[2] - p[2]],
                );
                let n = [
                    u[1] * w[2] - u[2] * w[1],
                    u[2] * w[0] - u[0] * w[2],
                    u[0] * w[1] - u[1] * w[0],
                ];
                let len = (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt();
                if len == 0.0 {
                    continue;
                }
                // Two-sided: a surface seen from behind is shaded like its front.
                let shade = ((n[0] * light[0] + n[1] * light[1] + n[2] * light[2]) / len).abs();
                let g = (40.0 + 200.0 * shade) as u8;
                let colour = RGBColor(g, (f64::from(g) * 0.92) as u8, (f64::from(g) * 0.8) as u8);
                panel.draw(&Polygon::new(vec![px(p), px(q), px(r)], colour.filled()))?;
            }
        }
        root.present()?;
    }
    let mut png = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut png),
        &rgb,
        w,
        h,
        image::ExtendedColorType::Rgb8,
    )?;
    vi3nr_cuda::export::atomic_write(Path::new(out), &png)?;
    Ok(())
}
