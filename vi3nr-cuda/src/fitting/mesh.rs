//! Meshes in `vi3nr fit`: the SDF samples to train on, the first layer's input statistics,
//! and after the fit the surface extracted from the exported model and measured against the
//! mesh.
//!
//! The network is trained on normalised coordinates and distances (the mesh in [−1, 1]³,
//! [`Normalisation`]); the exported model's output affine map multiplies by the
//! normalisation's scale, so it answers distances in the mesh's own units for normalised
//! query points `u = (x − center)/scale` (the centre and scale are in metrics.json,
//! `mesh.normalisation`).

use std::path::Path;
use std::time::Instant;

use serde_json::{Value, json};
use vi3nr_core::init::InputStats;
use vi3nr_core::model::{Model, NumberFormat};

use crate::marching_cubes::{extract, sample_grid};
use crate::mesh_metrics::{MeshMetrics, compare};
use crate::mlp::Mlp;
use crate::render::render;
use crate::sdf::{Bvh, Mix, Samples, sample};
use crate::signal::{Layout, Mesh, Normalisation, Signal};

/// How a mesh is sampled and measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeshOptions {
    /// SDF samples to train on.
    pub samples: usize,
    /// Marching-cubes cells per axis for the extracted surface (recon.obj) and its metrics.
    pub resolution: usize,
    /// Points per surface for Chamfer and Hausdorff, and uniform points for IoU.
    pub metric_points: usize,
    /// Held-out near-surface points for the RMS SDF error.
    pub heldout: usize,
}

impl Default for MeshOptions {
    /// 500,000 samples, a 64³ grid, 50,000 metric points, 50,000 held-out points.
    fn default() -> Self {
        MeshOptions { samples: 500_000, resolution: 64, metric_points: 50_000, heldout: 50_000 }
    }
}

impl MeshOptions {
    /// Checks the values before any work: samples ≥ 1000, resolution 2…1024, points ≥ 100.
    pub fn check(&self) -> Result<(), String> {
        if !(1000..=50_000_000).contains(&self.samples) {
            return Err(format!("--samples must be in 1000…50,000,000, got {}", self.samples));
        }
        if !(2..=1024).contains(&self.resolution) {
            return Err(format!("--mesh-resolution must be in 2…1024, got {}", self.resolution));
        }
        Ok(())
    }
}

/// A mesh being fitted: the mesh, its normalisation and held-out samples.
pub struct MeshFit {
    mesh: Mesh,
    norm: Normalisation,
    heldout: Samples,
    options: MeshOptions,
    sampling_seconds: f64,
}

impl MeshFit {
    /// The training signal of `mesh` and what the report needs; samples from `seed`.
    pub fn prepare(mesh: Mesh, options: MeshOptions, seed: u64) -> (Signal, MeshFit) {
        let start = Instant::now();
        let (signal, _, _) = Signal::from_mesh(&mesh, options.samples, seed);
        let mut fit = MeshFit::reference(mesh, options, seed);
        fit.sampling_seconds = start.elapsed().as_secs_f64();
        let (sampling_seconds, mesh) = (fit.sampling_seconds, &fit.mesh);
        eprintln!(
            "{}: {} SDF samples and {} held-out in {sampling_seconds:.1} s{}",
            signal.layout.describe(),
            options.samples,
            options.heldout,
            match mesh.dropped {
                0 => String::new(),
                n => format!(" ({n} degenerate triangles dropped)"),
            }
        );
        (signal, fit)
    }

    /// What measuring a model against `mesh` needs (no training samples): the normalisation
    /// and the held-out near-surface samples from `seed`.
    pub fn reference(mesh: Mesh, options: MeshOptions, seed: u64) -> MeshFit {
        let start = Instant::now();
        let norm = mesh.normalisation();
        let unit = mesh.map(|v| norm.forward(v));
        let bvh = Bvh::new(&unit);
        let heldout = sample(&unit, &bvh, options.heldout, Mix::near_only(), seed ^ 0x4E1D0_u64);
        let sampling_seconds = start.elapsed().as_secs_f64();
        MeshFit { mesh, norm, heldout, options, sampling_seconds }
    }

    /// Mesh units per normalised unit: the exported model's output scale.
    pub fn scale(&self) -> f32 {
        self.norm.scale as f32
    }

    /// The first layer's input statistics: mean and variance of every sampled coordinate.
    pub fn input_stats(signal: &Signal) -> InputStats {
        let n = signal.coords.len().max(1) as f64;
        let mean = signal.coords.iter().map(|&c| f64::from(c)).sum::<f64>() / n;
        let var = signal.coords.iter().map(|&c| (f64::from(c) - mean).powi(2)).sum::<f64>() / n;
        InputStats { mean, var }
    }

    /// Extracts the surface of `model` (which answers mesh units) and measures it: RMS SDF
    /// error on the held-out points, Chamfer-L1, Hausdorff and IoU against the mesh, all in
    /// mesh units. Returns the surface, the metrics and their record for metrics.json.
    pub fn measure(&self, model: &Model<'_>) -> Result<(Mesh, MeshMetrics, Value), String> {
        let scale = self.norm.scale;
        let predicted = render(model, &self.heldout.points)?;
        let sq: f64 = predicted
            .iter()
            .zip(&self.heldout.distances)
            .map(|(&p, &d)| (f64::from(p) - scale * f64::from(d)).powi(2))
            .sum();
        let rms = (sq / predicted.len().max(1) as f64).sqrt();
        let start = Instant::now();
        let surface = extract_mesh(model, self.options.resolution, &self.norm)?;
        let extract_seconds = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let box_ = (self.norm.inverse([-1.0; 3]), self.norm.inverse([1.0; 3]));
        let m = compare(&self.mesh, &surface, self.options.metric_points, box_, 0);
        let record = json!({
            "triangles": self.mesh.triangles.len(),
            "dropped_degenerate": self.mesh.dropped,
            "normalisation": {"center": self.norm.center, "scale": scale},
            "samples": self.options.samples,
            "sampling_seconds": self.sampling_seconds,
            "rms_sdf_error": rms,
            "heldout_points": self.options.heldout,
            "resolution": self.options.resolution,
            "extracted_triangles": surface.triangles.len(),
            "extract_seconds": extract_seconds,
            "chamfer_l1": m.to_json()["chamfer_l1"],
            "hausdorff": m.to_json()["hausdorff"],
            "iou": m.iou,
            "metric_points": self.options.metric_points,
            "metric_seconds": start.elapsed().as_secs_f64(),
        });
        Ok((surface, m, record))
    }

    /// [`MeshFit::measure`] of a trained network (on normalised coordinates and distances)
    /// exported as `fit` exports it: its output scaled to mesh units, at f32.
    pub fn measure_mlp(&self, mlp: &Mlp) -> Result<(MeshMetrics, Value), String> {
        let mut mlp = mlp.clone();
        mlp.affine = vec![[self.scale(), 0.0]];
        let bytes = mlp.to_vi3(NumberFormat::F32).map_err(|e| format!("export: {e}"))?;
        let model = Model::parse(bytes.bytes()).map_err(|e| e.to_string())?;
        let (_, metrics, record) = self.measure(&model)?;
        Ok((metrics, record))
    }

    /// [`MeshFit::measure`], the surface written to `out` (.obj or .ply): metrics.json's
    /// `mesh` record.
    pub fn report(&self, model: &Model<'_>, out: &Path) -> Result<Value, String> {
        crate::signal::mesh::output_format(out)?;
        let (surface, _, record) = self.measure(model)?;
        surface.write(out)?;
        Ok(record)
    }
}

/// The statistics of the first layer's inputs that VI3NR's plan is made for: a mesh's SDF
/// samples crowd its surface, so their own mean and variance ([`MeshFit::input_stats`]);
/// the grid coordinates of images and audio, uniform on [−1, 1]. `vi3nr fit` and
/// `vi3nr compare` both plan from here.
pub fn planned_input(signal: &Signal) -> InputStats {
    match signal.layout {
        Layout::Mesh { .. } => MeshFit::input_stats(signal),
        _ => InputStats::uniform(-1.0, 1.0),
    }
}

/// The zero level set of `model` (on normalised coordinates) by marching cubes on a
/// `resolution`³ grid over [−1, 1]³, evaluated with the vi3nr-core evaluator on all cores,
/// mapped to mesh units by `norm`.
pub fn extract_mesh(
    model: &Model<'_>,
    resolution: usize,
    norm: &Normalisation,
) -> Result<Mesh, String> {
    if model.in_dim != 3 || model.out_dim != 1 {
        return Err(format!(
            "--mesh needs a model of 3 inputs and 1 output (a signed distance), this one maps {} → {}",
            model.in_dim, model.out_dim
        ));
    }
    let values = sample_grid(resolution, &|p| render(model, p))?;
    Ok(extract(&values, resolution).map(|v| norm.inverse(v)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdf::shapes;

    /// A mesh's samples crowd its surface: the plan's input is theirs, not the cube's; an
    /// image's grid is planned as uniform on [−1, 1].
    #[test]
    fn planned_input_is_the_samples_own_for_a_mesh_only() {
        let (signal, _, _) = Signal::from_mesh(&shapes::sphere(0.5, 3), 20_000, 1);
        let planned = planned_input(&signal);
        assert_eq!(planned, MeshFit::input_stats(&signal));
        let uniform = InputStats::uniform(-1.0, 1.0);
        // Normalised, the sphere has radius 0.9: 80 % of the samples lie on or near it
        // (variance per coordinate 0.81/3 = 0.27), 20 % uniform in the cube (1/3): ≈ 0.28.
        assert!((planned.var - 0.283).abs() < 0.01, "{planned:?} vs {uniform:?}");
        assert!(planned.mean.abs() < 0.02, "{planned:?}");
        let image = Signal::bundled();
        assert_eq!(planned_input(&image), uniform);
    }
}
