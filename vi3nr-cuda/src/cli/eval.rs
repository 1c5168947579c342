//! `vi3nr eval`: render a signal from a model with the vi3nr-core evaluator, or extract the
//! zero level set of a signed-distance model as a mesh (`--mesh`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use vi3nr_core::model::{Model, NumberFormat};
use vi3nr_cuda::export::AlignedBytes;
use vi3nr_cuda::fitting::{MeshFit, MeshOptions, extract_mesh};
use vi3nr_cuda::mlp::Mlp;
use vi3nr_cuda::render::{psnr, render};
use vi3nr_cuda::signal::{self, Layout, Mesh, Normalisation, Signal};

/// `vi3nr eval` flags.
#[derive(Args)]
pub struct EvalArgs {
    /// The model file.
    model: PathBuf,
    /// The original signal: sets the output's shape and prints the PSNR against it. With
    /// --mesh: the fitted mesh, which maps the surface back to its units and is measured
    /// against it (Chamfer-L1, Hausdorff, IoU, RMS SDF error).
    #[arg(long)]
    reference: Option<PathBuf>,
    /// Extract the zero level set of a 3 → 1 (signed distance) model by marching cubes over
    /// [−1, 1]³ and write it here (.obj or .ply); in the reference mesh's units with
    /// --reference, else in the model's normalised coordinates.
    #[arg(long, conflicts_with_all = ["size", "samples", "out"])]
    mesh: Option<PathBuf>,
    /// Marching-cubes cells per axis with --mesh.
    #[arg(long, default_value_t = 128)]
    resolution: usize,
    /// Image size WxH (2-D models), without --reference.
    #[arg(long, conflicts_with = "reference")]
    size: Option<String>,
    /// Audio samples (1-D models), without --reference.
    #[arg(long, conflicts_with_all = ["reference", "size"])]
    samples: Option<u32>,
    /// Sample rate of the rendered audio with --samples.
    #[arg(long, default_value_t = 44_100)]
    sample_rate: u32,
    /// Re-quantise to this number format before evaluating (f32, f16, q15, i8).
    #[arg(long)]
    precision: Option<NumberFormat>,
    /// Output file (.png or .wav); required without --mesh.
    #[arg(long, required_unless_present = "mesh")]
    out: Option<PathBuf>,
}

/// The layout to render: the reference's, `--size` or `--samples`.
fn layout(args: &EvalArgs, reference: Option<&Signal>, out_dim: usize) -> Result<Layout, String> {
    match (reference, &args.size, args.samples) {
        (Some(r), _, _) => Ok(r.layout),
        (None, Some(size), _) => {
            let bad = || format!("--size: expected WxH with W, H > 0, got {size:?}");
            let (w, h) = size.split_once(['x', 'X']).ok_or_else(bad)?;
            let (w, h): (u32, u32) = (w.parse().map_err(|_| bad())?, h.parse().map_err(|_| bad())?);
            if w == 0 || h == 0 {
                return Err(bad());
            }
            Ok(Layout::Image { width: w, height: h, channels: out_dim as u8 })
        }
        (None, None, Some(frames)) if frames > 0 => {
            Ok(Layout::Audio { sample_rate: args.sample_rate, channels: out_dim as u16, frames })
        }
        _ => Err("give --reference, --size WxH (images) or --samples N > 0 (audio)".into()),
    }
}

/// Renders the model (re-quantised with `--precision`) and prints the PSNR against the
/// reference, if given.
pub fn run(args: &EvalArgs) -> Result<ExitCode, String> {
    let bytes = std::fs::read(&args.model).map_err(|e| format!("{}: {e}", args.model.display()))?;
    let requantised;
    let bytes = AlignedBytes::copy_from(&bytes);
    let mut model =
        Model::parse(bytes.bytes()).map_err(|e| format!("{}: {e}", args.model.display()))?;
    if let Some(format) = args.precision.filter(|f| *f != model.format) {
        let mlp = Mlp::from_model(&model).map_err(|e| format!("--precision: {e}"))?;
        requantised =
            mlp.to_vi3(format).map_err(|e| format!("--precision {}: {e}", format.name()))?;
        model = Model::parse(requantised.bytes()).map_err(|e| e.to_string())?;
    }
    if let Some(path) = &args.mesh {
        return mesh(args, &model, path);
    }
    let out_path = args.out.as_ref().ok_or("give --out FILE (or --mesh FILE)")?;
    let reference = match &args.reference {
        Some(path) => Some(Signal::load(path).map_err(|e| e.to_string())?),
        None => None,
    };
    let layout = layout(args, reference.as_ref(), model.out_dim)?;
    if layout.in_dim() != model.in_dim || layout.out_dim() != model.out_dim {
        return Err(format!(
            "the model maps {} → {} values but {} needs {} → {}",
            model.in_dim,
            model.out_dim,
            layout.describe(),
            layout.in_dim(),
            layout.out_dim()
        ));
    }
    let rendered = render(&model, &layout.coords())?;
    signal::write_rendered(&layout, &rendered, out_path).map_err(|e| e.to_string())?;
    let out = out_path.display();
    let (what, format) = (layout.describe(), model.format.name());
    match (&reference, &args.reference) {
        (Some(r), Some(path)) => println!(
            "{out}: {what} at {format}, PSNR {:.2} dB against {}",
            psnr(&rendered, &r.values),
            path.display()
        ),
        _ => println!("{out}: {what} at {format}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `--mesh`: marching cubes of the model's zero level set, written to `path`; with
/// `--reference`, mapped to the reference mesh's units and measured against it.
fn mesh(args: &EvalArgs, model: &Model<'_>, path: &std::path::Path) -> Result<ExitCode, String> {
    signal::mesh::output_format(path)?;
    if !(2..=1024).contains(&args.resolution) {
        return Err(format!("--resolution must be in 2…1024, got {}", args.resolution));
    }
    if model.in_dim != 3 || model.out_dim != 1 {
        return Err(format!(
            "--mesh needs a model of 3 inputs and 1 output (a signed distance), {} maps {} → {}",
            args.model.display(),
            model.in_dim,
            model.out_dim
        ));
    }
    let options = MeshOptions { resolution: args.resolution, ..MeshOptions::default() };
    let Some(reference) = &args.reference else {
        let start = std::time::Instant::now();
        let surface = extract_mesh(model, args.resolution, &Normalisation::IDENTITY)?;
        let seconds = start.elapsed().as_secs_f64();
        surface.write(path)?;
        println!(
            "{}: {} triangles at {}³ in {seconds:.2} s (normalised coordinates)",
            path.display(),
            surface.triangles.len(),
            args.resolution
        );
        return Ok(ExitCode::SUCCESS);
    };
    let mesh = Mesh::load(reference).map_err(|e| e.to_string())?;
    let report = MeshFit::reference(mesh, options, 0).report(model, path)?;
    let num = |k: &str| report[k].as_f64().unwrap_or(f64::NAN);
    println!(
        "{}: {} triangles at {}³ in {:.2} s; against {}: Chamfer-L1 {:.5}, Hausdorff {:.5}, \
         IoU {:.4}, RMS SDF error {:.5} (mesh units)",
        path.display(),
        report["extracted_triangles"],
        args.resolution,
        num("extract_seconds"),
        reference.display(),
        num("chamfer_l1"),
        num("hausdorff"),
        num("iou"),
        num("rms_sdf_error"),
    );
    Ok(ExitCode::SUCCESS)
}
