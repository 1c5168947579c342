//! Rendering a model with the vi3nr-core evaluator, and the quality metrics every command
//! reports (one MSE, one PSNR).

use rayon::prelude::*;
use vi3nr_core::model::{Model, ModelError, NumberFormat};

use crate::mlp::Mlp;

/// Evaluates `model` at every point of `points` (flattened coordinates) with the arithmetic
/// of its format; outputs flattened.
pub fn eval_points(model: &Model<'_>, points: &[f32]) -> Result<Vec<f32>, ModelError> {
    let mut float = vec![0.0f32; model.scratch_len()];
    let mut fixed = vec![0i32; model.scratch_len()];
    let mut out = vec![0.0f32; points.len() / model.in_dim * model.out_dim];
    for (x, y) in points.chunks_exact(model.in_dim).zip(out.chunks_exact_mut(model.out_dim)) {
        match model.format {
            NumberFormat::F32 | NumberFormat::F16 => model.eval_f32(x, y, &mut float)?,
            _ => model.eval_fixed(x, y, &mut fixed)?,
        }
    }
    Ok(out)
}

/// Evaluates `model` at every coordinate with the vi3nr-core evaluator, on all cores.
pub fn render(model: &Model<'_>, coords: &[f32]) -> Result<Vec<f32>, String> {
    let (i, o) = (model.in_dim, model.out_dim);
    let mut out = vec![0.0f32; coords.len() / i * o];
    out.par_chunks_mut(1024 * o).zip(coords.par_chunks(1024 * i)).try_for_each(|(y, x)| {
        eval_points(model, x).map(|v| y.copy_from_slice(&v)).map_err(|e| e.to_string())
    })?;
    Ok(out)
}

/// `n × n` coordinates on [−1, 1]², row-major, flattened.
pub fn grid(n: usize) -> Vec<f64> {
    let step = |i: usize| -1.0 + 2.0 * i as f64 / (n - 1).max(1) as f64;
    (0..n * n).flat_map(|k| [step(k % n), step(k / n)]).collect()
}

/// PSNR of each format's evaluator against the f32 evaluator over `points`, and (first entry,
/// `None` format) of the f32 evaluator against the exact f64 forward pass. Outputs are
/// normalised to [−1, 1] over the points first.
pub fn evaluator_psnr(
    mlp: &Mlp,
    points: &[f64],
) -> Result<Vec<(Option<NumberFormat>, f64)>, ModelError> {
    let mut mlp = mlp.clone();
    mlp.normalise_outputs(points);
    let exact: Vec<f64> =
        points.chunks_exact(mlp.coord_dim()).flat_map(|x| mlp.forward_f64(x)).collect();
    let points32: Vec<f32> = points.iter().map(|&x| x as f32).collect();
    let run = |format| -> Result<Vec<f64>, ModelError> {
        let bytes = mlp.to_vi3(format)?;
        let model = Model::parse(bytes.bytes())?;
        Ok(eval_points(&model, &points32)?.into_iter().map(f64::from).collect())
    };
    let f32_out = run(NumberFormat::F32)?;
    let mut rows = vec![(None, psnr(&f32_out, &exact))];
    for format in [NumberFormat::F16, NumberFormat::Q15, NumberFormat::I8] {
        rows.push((Some(format), psnr(&run(format)?, &f32_out)));
    }
    Ok(rows)
}

/// Mean squared error of two equally long slices (0 when empty).
///
/// # Panics
///
/// If the lengths differ.
pub fn mse<T: Copy + Into<f64>>(a: &[T], b: &[T]) -> f64 {
    assert_eq!(a.len(), b.len(), "mse: slices of different lengths");
    if a.is_empty() {
        return 0.0;
    }
    let sum: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| {
            let d = x.into() - y.into();
            d * d
        })
        .sum();
    sum / a.len() as f64
}

/// PSNR in dB for signals in [-1, 1] (peak-to-peak 2): 10·log10(4 / MSE);
/// +∞ for identical (or empty) slices.
///
/// # Panics
///
/// If the lengths differ.
pub fn psnr<T: Copy + Into<f64>>(a: &[T], b: &[T]) -> f64 {
    let e = mse(a, b);
    if e == 0.0 { f64::INFINITY } else { 10.0 * (4.0 / e).log10() }
}
