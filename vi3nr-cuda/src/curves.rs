//! Training reports: loss and PSNR curves drawn as a PNG.
//!
//! Text is drawn with an embedded font (a Latin/Greek subset of DejaVu Sans,
//! see `assets/LICENSE.md`), so no system fonts are needed.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use image::{ExtendedColorType, ImageEncoder};
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;

use crate::export::atomic_write;

/// The embedded font.
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans-subset.ttf");

/// The family name the embedded font is registered under.
pub(crate) const FAMILY: &str = "sans-serif";

/// Image size in pixels.
const SIZE: (u32, u32) = (960, 720);

/// Training curves: step, loss and PSNR at each evaluation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Curves {
    /// Training step of each evaluation.
    pub steps: Vec<u64>,
    /// Loss at each evaluation.
    pub loss: Vec<f64>,
    /// PSNR in dB at each evaluation.
    pub psnr: Vec<f64>,
}

impl Curves {
    /// Appends one evaluation.
    pub fn push(&mut self, step: u64, loss: f64, psnr: f64) {
        self.steps.push(step);
        self.loss.push(loss);
        self.psnr.push(psnr);
    }

    /// Number of evaluations.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether there are no evaluations.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// Registers the embedded font once.
fn register_font() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(FAMILY, FontStyle::Normal, FONT)
                .map_err(|_| "the embedded font is invalid".to_string())
        })
        .clone()
}

/// Draws loss (log scale, top panel) and PSNR (bottom panel) against step as
/// a PNG, written atomically. Non-finite values, and losses ≤ 0, are left out
/// of the curves.
pub fn write_curves_png(curves: &Curves, title: &str, path: &Path) -> Result<(), ReportError> {
    let n = curves.steps.len();
    if curves.loss.len() != n || curves.psnr.len() != n {
        return Err(ReportError::new(
            path,
            format!(
                "curves of different lengths: {} steps, {} losses, {} PSNRs",
                n,
                curves.loss.len(),
                curves.psnr.len()
            ),
        ));
    }
    if n == 0 {
        return Err(ReportError::new(path, "no evaluations to plot"));
    }
    let png =
        png(SIZE, |root| render(root, curves, title)).map_err(|e| ReportError::new(path, e))?;
    atomic_write(path, &png).map_err(|e| ReportError::new(path, format!("cannot write: {e}")))
}

/// A figure of `size` pixels drawn by `draw` on white, as PNG bytes (the font registered
/// first): what curves.png and `vi3nr rd`'s rd.png share.
pub(crate) fn png<F>(size: (u32, u32), draw: F) -> Result<Vec<u8>, String>
where
    F: FnOnce(&DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>) -> Result<(), String>,
{
    register_font()?;
    let mut rgb = vec![255u8; size.0 as usize * size.1 as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| format!("cannot draw: {e}"))?;
        draw(&root)?;
        root.present().map_err(|e| format!("cannot draw: {e}"))?;
    }
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(&rgb, size.0, size.1, ExtendedColorType::Rgb8)
        .map_err(|e| format!("cannot encode PNG: {e}"))?;
    Ok(png)
}

/// Draws the figure on `root`.
fn render(
    root: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    curves: &Curves,
    title: &str,
) -> Result<(), String> {
    let draw_err = |e: &dyn fmt::Display| format!("cannot draw: {e}");
    let root = root.titled(title, (FAMILY, 26)).map_err(|e| draw_err(&e))?;
    let (top, bottom) = root.split_vertically(SIZE.1 as i32 * 47 / 100);

    let lo = curves.steps.iter().copied().min().unwrap_or(0);
    let hi = curves.steps.iter().copied().max().unwrap_or(0).max(lo + 1);
    let steps = lo..hi;

    let loss: Vec<(u64, f64)> = points(curves, &curves.loss, |v| v.is_finite() && v > 0.0);
    let psnr: Vec<(u64, f64)> = points(curves, &curves.psnr, f64::is_finite);

    let loss_y = log_range(&loss).log_scale();
    let fmt_loss = |v: &f64| format!("{v:.0e}");
    panel(&top, "loss", steps.clone(), loss_y, "loss (log scale)", &fmt_loss, &loss, BLUE)
        .map_err(|e| draw_err(&e))?;
    let fmt_psnr = |v: &f64| format!("{v:.1}");
    panel(&bottom, "PSNR", steps, linear_range(&psnr), "PSNR (dB)", &fmt_psnr, &psnr, RED)
        .map_err(|e| draw_err(&e))?;
    Ok(())
}

/// One chart of the report on `area`: `points` against the steps, y on `y`.
#[allow(clippy::too_many_arguments)]
fn panel<DB, Y>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    caption: &str,
    steps: Range<u64>,
    y: Y,
    y_desc: &str,
    y_format: &dyn Fn(&f64) -> String,
    points: &[(u64, f64)],
    color: RGBColor,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    DB: DrawingBackend,
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(area)
        .caption(caption, (FAMILY, 20))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(80)
        .build_cartesian_2d(steps, y)?;
    chart
        .configure_mesh()
        .x_desc("step")
        .y_desc(y_desc)
        .y_label_formatter(y_format)
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 16))
        .draw()?;
    draw_series(&mut chart, points, color)
}

/// The (step, value) pairs whose value passes `keep`.
fn points(curves: &Curves, values: &[f64], keep: impl Fn(f64) -> bool) -> Vec<(u64, f64)> {
    curves.steps.iter().zip(values).filter(|&(_, &v)| keep(v)).map(|(&s, &v)| (s, v)).collect()
}

/// A line through the points, with markers when they are few.
fn draw_series<DB, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    points: &[(u64, f64)],
    color: RGBColor,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>
where
    DB: DrawingBackend,
    X: Ranged<ValueType = u64>,
    Y: Ranged<ValueType = f64>,
{
    chart.draw_series(LineSeries::new(points.iter().copied(), color.stroke_width(2)))?;
    if points.len() <= 60 {
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))?;
    }
    Ok(())
}

/// A y range for positive values on a log scale, padded; 1e-4..1 when empty.
fn log_range(points: &[(u64, f64)]) -> Range<f64> {
    let (lo, hi) = bounds(points).unwrap_or((1e-4, 1.0));
    if hi / lo < 10.0 {
        let mid = (lo * hi).sqrt();
        mid / 3.5..mid * 3.5
    } else {
        lo / 1.5..hi * 1.5
    }
}

/// A y range for values on a linear scale, padded; 0..1 when empty.
fn linear_range(points: &[(u64, f64)]) -> Range<f64> {
    let (lo, hi) = bounds(points).unwrap_or((0.0, 1.0));
    let pad = ((hi - lo) * 0.05).max(0.5);
    lo - pad..hi + pad
}

/// Smallest and largest value, if any.
fn bounds(points: &[(u64, f64)]) -> Option<(f64, f64)> {
    points.iter().map(|&(_, v)| (v, v)).reduce(|(a, b), (c, d)| (a.min(c), b.max(d)))
}

/// A failure to draw or write a report, with the path.
#[derive(Debug)]
pub struct ReportError {
    path: PathBuf,
    message: String,
}

impl ReportError {
    /// An error about `path`.
    fn new(path: &Path, message: impl Into<String>) -> ReportError {
        ReportError { path: path.to_path_buf(), message: message.into() }
    }

    /// The file the error is about.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for ReportError {}
