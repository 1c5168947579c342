//! Results over several seeds or network draws: mean ± standard deviation.

/// Mean and sample standard deviation (n − 1; 0 for one value) of the finite values; NaN for
/// none.
///
/// ```
/// let (mean, sd) = vi3nr_cuda::seeds::mean_sd(&[1.0, 2.0, 3.0, f64::NAN]);
/// assert_eq!((mean, sd), (2.0, 1.0));
/// ```
pub fn mean_sd(values: &[f64]) -> (f64, f64) {
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let ss: f64 = v.iter().map(|x| (x - mean).powi(2)).sum();
    (mean, if v.len() > 1 { (ss / (n - 1.0)).sqrt() } else { 0.0 })
}
