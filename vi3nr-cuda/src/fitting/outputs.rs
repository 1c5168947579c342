//! What a finished (or stopped) fit writes: the model in every number format (the chosen one
//! to model.vi3), model.safetensors, the reconstruction, curves.png and metrics.json, each
//! through a temporary file renamed into place.

use std::path::Path;

use serde_json::{Value, json};
use vi3nr_core::model::{Model, NumberFormat};

use crate::curves::{Curves, write_curves_png};
pub(super) use crate::export::write_file as write;
use crate::export::{AlignedBytes, safetensors_bytes};
use crate::render::{psnr, render};
use crate::signal::{self, Layout, Signal};
use crate::train::FitOutcome;

/// The model exported in every format with its PSNR on the signal, rendered by the
/// vi3nr-core evaluator.
pub(super) struct Exported {
    /// `(format, PSNR, bytes, rendering)` per format, in [`NumberFormat::ALL`] order.
    pub formats: Vec<(NumberFormat, f64, AlignedBytes, Vec<f32>)>,
}

impl Exported {
    /// Exports and renders `outcome`'s model in every format; its outputs divided by `units`
    /// compare with the signal's values (a mesh's model answers in the mesh's units).
    pub fn new(outcome: &FitOutcome, signal: &Signal, units: f32) -> Result<Self, String> {
        let mut formats = Vec::new();
        for format in NumberFormat::ALL {
            let bytes = outcome
                .mlp
                .to_vi3(format)
                .map_err(|e| format!("export to {}: {e}", format.name()))?;
            let rendered =
                render(&Model::parse(bytes.bytes()).map_err(|e| e.to_string())?, &signal.coords)?;
            let p = match units {
                1.0 => psnr(&rendered, &signal.values),
                u => psnr(&rendered.iter().map(|v| v / u).collect::<Vec<_>>(), &signal.values),
            };
            formats.push((format, p, bytes, rendered));
        }
        Ok(Exported { formats })
    }

    /// PSNR, bytes and rendering in `format`.
    pub fn get(&self, format: NumberFormat) -> Result<(f64, &AlignedBytes, &[f32]), String> {
        let (_, p, b, r) =
            self.formats.iter().find(|(f, ..)| *f == format).ok_or("export format missing")?;
        Ok((*p, b, r))
    }

    /// `{"f32": dB, …}`.
    pub fn psnr_json(&self) -> Value {
        self.formats
            .iter()
            .map(|(f, p, ..)| (f.name().to_string(), json!(p)))
            .collect::<serde_json::Map<_, _>>()
            .into()
    }
}

/// Writes model.vi3 (in `precision`), model.safetensors, the reconstruction and curves.png.
pub(super) fn write_model_files(
    out: &Path,
    outcome: &FitOutcome,
    exported: &Exported,
    precision: NumberFormat,
    signal: &Signal,
    title: &str,
) -> Result<(), String> {
    let (_, bytes, rendered) = exported.get(precision)?;
    write(&out.join("model.vi3"), bytes.bytes())?;
    write(&out.join("model.safetensors"), &safetensors_bytes(&outcome.mlp)?)?;
    let recon = match signal.layout {
        Layout::Image { .. } => Some("recon.png"),
        Layout::Audio { .. } => Some("recon.wav"),
        // The surface, extracted by marching cubes, is written with the mesh's metrics.
        Layout::Mesh { .. } => None,
    };
    if let Some(recon) = recon {
        signal::write_rendered(&signal.layout, rendered, &out.join(recon))
            .map_err(|e| e.to_string())?;
    }
    let curves = Curves {
        steps: outcome.evaluations.iter().map(|e| e.step).collect(),
        loss: outcome.evaluations.iter().map(|e| e.loss).collect(),
        psnr: outcome.evaluations.iter().map(|e| e.psnr).collect(),
    };
    write_curves_png(&curves, title, &out.join("curves.png")).map_err(|e| e.to_string())
}
