//! `vi3nr rd`: quality per byte. An image fitted at several byte budgets (`--budget`'s
//! choice of network and format, the default recipe, quantisation-aware training), beside
//! JPEG and WebP at the largest quality that fits each budget; PSNR on 8-bit RGB, the usual
//! definition, for all of them. Writes `rd.json` and `rd.png`.

use std::path::Path;
use std::time::Instant;

use image::RgbImage;
use plotters::prelude::*;
use serde_json::{Value, json};

use crate::budget::Budget;
use crate::codecs::{Codec, psnr_u8};
use crate::export::write_file as write;
use crate::fitting::{self, FitConfig};

/// One point of the curve.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// `vi3nr-i8`, `vi3nr-q15`, `jpeg` or `webp`.
    pub codec: String,
    /// The budget in bytes.
    pub budget: usize,
    /// Bytes of the file.
    pub bytes: usize,
    /// Bits per pixel of the file.
    pub bpp: f64,
    /// PSNR of the decoded 8-bit image (dB).
    pub psnr: f64,
    /// Wall seconds to make the file.
    pub seconds: f64,
    /// What was chosen: the network and format, or the codec's quality.
    pub setting: Value,
}

impl Point {
    fn json(&self) -> Value {
        json!({"codec": self.codec, "budget": self.budget, "bytes": self.bytes, "bpp": self.bpp,
               "psnr": self.psnr, "seconds": self.seconds, "setting": self.setting})
    }
}

/// The sweep: `fit` is the fit's configuration (its `input`, `budget` and `out` are set per
/// budget), `out` the directory of rd.json, rd.png and one fit directory per budget.
pub fn run(
    input: &Path,
    budgets: &[Budget],
    fit: &FitConfig,
    out: &Path,
    report: &mut dyn FnMut(&Point),
) -> Result<Value, String> {
    let bytes =
        std::fs::read(input).map_err(|e| format!("{}: cannot read: {e}", input.display()))?;
    let original = image::load_from_memory(&bytes)
        .map_err(|e| format!("{}: not an image `vi3nr rd` can read: {e}", input.display()))?
        .to_rgb8();
    let pixels = original.width() as usize * original.height() as usize;
    let targets: Vec<usize> =
        budgets.iter().map(|b| b.bytes(pixels, true)).collect::<Result<_, _>>()?;
    std::fs::create_dir_all(out)
        .map_err(|e| format!("cannot create the output directory {}: {e}", out.display()))?;
    let bpp = |n: usize| 8.0 * n as f64 / pixels as f64;
    let mut points = Vec::new();
    for &budget in &targets {
        let start = Instant::now();
        let dir = out.join(format!("fit-{budget}"));
        let config = FitConfig {
            input: Some(input.to_path_buf()),
            budget: Some(Budget::Bytes(budget)),
            out: dir.clone(),
            ..fit.clone()
        };
        let summary = fitting::run(&config, &mut |_| {})?;
        if let Some(why) = &summary.diverged {
            return Err(format!("the fit at {budget} bytes {why}"));
        }
        let recon = read_rgb(&dir.join("recon.png"))?;
        let m = &summary.metrics;
        let file = m["model_bytes"].as_u64().unwrap_or(0) as usize;
        let point = Point {
            codec: format!("vi3nr-{}", m["config"]["precision"].as_str().unwrap_or("?")),
            budget,
            bytes: file,
            bpp: bpp(file),
            psnr: psnr_u8(original.as_raw(), recon.as_raw()),
            seconds: start.elapsed().as_secs_f64(),
            setting: json!({"widths": m["config"]["widths"], "budget": m["budget"]["chosen"], "steps": m["config"]["steps"], "dir": dir.display().to_string()}),
        };
        report(&point);
        points.push(point);
        for codec in Codec::ALL {
            let start = Instant::now();
            let Some(e) = codec.at_most(&original, budget)? else {
                eprintln!(
                    "{}: no file fits {budget} bytes (even at its lowest quality)",
                    codec.name()
                );
                continue;
            };
            let point = Point {
                codec: codec.name().into(),
                budget,
                bytes: e.bytes.len(),
                bpp: bpp(e.bytes.len()),
                psnr: psnr_u8(original.as_raw(), e.decoded.as_raw()),
                seconds: start.elapsed().as_secs_f64(),
                setting: json!({"quality": e.quality}),
            };
            report(&point);
            points.push(point);
        }
    }
    let result = json!({
        "input": input.display().to_string(),
        "size": [original.width(), original.height()],
        "points": points.iter().map(Point::json).collect::<Vec<_>>(),
    });
    let text = serde_json::to_string_pretty(&result).map_err(|e| e.to_string())?;
    write(&out.join("rd.json"), text.as_bytes())?;
    let title = format!(
        "{} ({}×{}): PSNR against bits per pixel",
        input.file_name().map_or("image".into(), |n| n.to_string_lossy()),
        original.width(),
        original.height()
    );
    write(&out.join("rd.png"), &plot(&points, &title)?)?;
    Ok(result)
}

fn read_rgb(path: &Path) -> Result<RgbImage, String> {
    Ok(image::open(path).map_err(|e| format!("{}: {e}", path.display()))?.to_rgb8())
}

/// PSNR against bpp, one line per codec (and number format), as PNG bytes.
fn plot(points: &[Point], title: &str) -> Result<Vec<u8>, String> {
    const SIZE: (u32, u32) = (960, 640);
    let err = |e: &dyn std::fmt::Display| format!("cannot draw: {e}");
    let mut names: Vec<&str> = points.iter().map(|p| p.codec.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let finite = || points.iter().filter(|p| p.psnr.is_finite());
    let (x0, x1) = finite().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.bpp), b.max(p.bpp)));
    let (y0, y1) = finite().fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.psnr), b.max(p.psnr)));
    if x0 > x1 {
        return Err("cannot draw rd.png: no finite point".into());
    }
    let draw = |root: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>| {
        let family = crate::curves::FAMILY;
        let mut chart = ChartBuilder::on(root)
            .caption(title, (family, 22))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(x0 * 0.9..x1 * 1.1, (y0 - 1.0).floor()..(y1 + 1.0).ceil())
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_desc("bits per pixel (whole file)")
            .y_desc("PSNR (dB, 8-bit RGB)")
            .label_style((family, 15))
            .draw()
            .map_err(|e| err(&e))?;
        let colours = [RED, BLUE, GREEN, MAGENTA, CYAN, BLACK];
        for (k, name) in names.iter().enumerate() {
            let colour = colours[k % colours.len()];
            let mut line: Vec<(f64, f64)> =
                finite().filter(|p| p.codec == *name).map(|p| (p.bpp, p.psnr)).collect();
            line.sort_by(|a, b| a.0.total_cmp(&b.0));
            chart
                .draw_series(LineSeries::new(line.clone(), colour.stroke_width(2)))
                .map_err(|e| err(&e))?
                .label(*name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour));
            chart
                .draw_series(line.iter().map(|&p| Circle::new(p, 4, colour.filled())))
                .map_err(|e| err(&e))?;
        }
        chart
            .configure_series_labels()
            .label_font((family, 15))
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(|e| err(&e))?;
        Ok(())
    };
    crate::curves::png(SIZE, draw).map_err(|e| format!("rd.png: {e}"))
}
