//! `vi3nr eval`: render a signal from a model with the vi3nr-core evaluator.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use vi3nr_core::model::{Model, NumberFormat};
use vi3nr_cuda::export::AlignedBytes;
use vi3nr_cuda::mlp::Mlp;
use vi3nr_cuda::render::{psnr, render};
use vi3nr_cuda::signal::{self, Layout, Signal};

/// `vi3nr eval` flags.
#[derive(Args)]
pub struct EvalArgs {
    /// The model file.
    model: PathBuf,
    /// The original signal: sets the output's shape and prints the PSNR against it.
    #[arg(long)]
    reference: Option<PathBuf>,
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
    /// Output file (.png or .wav).
    #[arg(long)]
    out: PathBuf,
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
    signal::write_rendered(&layout, &rendered, &args.out).map_err(|e| e.to_string())?;
    let out = args.out.display();
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
