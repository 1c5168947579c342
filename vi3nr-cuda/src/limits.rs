//! Limits checked before any work starts: the model format's (every width, the number of
//! weight matrices, Fourier features) and the memory a fit will need against what the machine
//! has, so an impossible run fails in a moment with one line instead of after training.

use vi3nr_core::model::{MAX_LAYERS, MAX_WIDTH};

/// Checks that a network of `widths` (input first) fits the `.vi3` format.
pub fn check_network(widths: &[usize]) -> Result<(), String> {
    let matrices = widths.len().saturating_sub(1);
    if matrices == 0 {
        return Err("a network needs at least one weight matrix".into());
    }
    if matrices > MAX_LAYERS {
        return Err(format!(
            "the network has {matrices} weight matrices; the model format holds at most \
             {MAX_LAYERS} ({} too many): use at most {} hidden layers",
            matrices - MAX_LAYERS,
            MAX_LAYERS - 1
        ));
    }
    let last = widths.len() - 1;
    for (i, &w) in widths.iter().enumerate() {
        let what = match i {
            0 => "the network's input (2 × Fourier frequencies with --fourier)".to_string(),
            i if i == last => "the output".to_string(),
            i => format!("hidden layer {i}"),
        };
        if w == 0 {
            return Err(format!("{what} has width 0"));
        }
        if w > MAX_WIDTH {
            return Err(format!(
                "{what} has width {w}, above the model format's limit of {MAX_WIDTH} (by {})",
                w - MAX_WIDTH
            ));
        }
    }
    Ok(())
}

/// Every check before a fit of `widths` on `points` points of `coord_dim` coordinates with
/// `batch` rows per step and `trials` networks at once: the format's limits, then the memory
/// of the CPU backend on all threads against what the system has (skipped where it cannot
/// say).
pub fn check_fit(
    widths: &[usize],
    coord_dim: usize,
    points: usize,
    batch: usize,
    trials: usize,
) -> Result<(), String> {
    check_network(widths)?;
    let workers = rayon::current_num_threads();
    let footprint = Footprint::estimate(widths, coord_dim, points, batch, workers, trials);
    match available_memory() {
        Some(available) => footprint.check(available, "cpu"),
        None => Ok(()),
    }
}

/// What a fit will hold in memory at once, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Footprint {
    /// Parameters, gradients (one per worker), Adam's moments and model snapshots.
    pub parameters: u64,
    /// Each layer's outputs and derivatives for one step's batch, and gradient buffers.
    pub activations: u64,
    /// The signal, its network inputs, the backend's copy and the prediction buffer.
    pub data: u64,
}

impl Footprint {
    /// A fit of a network of `widths` on `points` points of `coord_dim` coordinates, with
    /// `batch` rows per step spread over `workers` threads; `trials` networks train at once
    /// (the σ_p search races several; 1 otherwise).
    pub fn estimate(
        widths: &[usize],
        coord_dim: usize,
        points: usize,
        batch: usize,
        workers: usize,
        trials: usize,
    ) -> Footprint {
        let f = 4u64; // bytes per f32
        let params: u64 = widths.windows(2).map(|w| (w[0] as u64 + 1) * w[1] as u64).sum();
        let (w_in, w_out) = (widths[0] as u64, *widths.last().unwrap_or(&1) as u64);
        let sum_widths: u64 = widths.iter().map(|&w| w as u64).sum();
        let widest = widths.iter().copied().max().unwrap_or(1) as u64;
        let rows = batch as u64;
        let trials = trials.max(1) as u64;
        // params, m, v, two snapshots, and a gradient per worker.
        let parameters = f * params * (5 + workers as u64) * trials;
        // inputs and outputs of every layer, the hidden derivatives, two gradient rows.
        let activations = f * rows * (2 * sum_widths + 2 * widest) * trials;
        let n = points as u64;
        // coordinates, network inputs and values, the backend's copy, the prediction.
        let data = f * n * (coord_dim as u64 + w_in + w_out) * (1 + trials) + f * n * w_out;
        Footprint { parameters, activations, data }
    }

    /// The whole footprint.
    pub fn total(&self) -> u64 {
        self.parameters + self.activations + self.data
    }

    /// Fails with one line when the footprint is above `available` bytes.
    pub fn check(&self, available: u64, backend: &str) -> Result<(), String> {
        let need = self.total();
        if need <= available {
            return Ok(());
        }
        Err(format!(
            "the fit needs about {} of memory on the {backend} backend (parameters and Adam \
             state {}, batch activations {}, data {}) but {} is available: {} over",
            gib(need),
            gib(self.parameters),
            gib(self.activations),
            gib(self.data),
            gib(available),
            gib(need - available)
        ))
    }
}

/// `bytes` as GiB with two decimals.
fn gib(bytes: u64) -> String {
    format!("{:.2} GiB", bytes as f64 / f64::from(1u32 << 30))
}

/// Memory the system can give a new allocation without swapping (`MemAvailable` in
/// /proc/meminfo), when the platform says.
pub fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_limits_name_what_and_by_how_much() {
        assert!(check_network(&[2, 128, 128, 3]).is_ok());
        let e = check_network(&[2, 5000, 5000, 3]).unwrap_err();
        assert!(e.contains("hidden layer 1 has width 5000") && e.contains("by 904"), "{e}");
        let deep: Vec<usize> = std::iter::repeat_n(8, MAX_LAYERS + 2).collect();
        let e = check_network(&deep).unwrap_err();
        assert!(e.contains(&format!("{} weight matrices", MAX_LAYERS + 1)), "{e}");
        assert!(e.contains("(1 too many)"), "{e}");
    }

    #[test]
    fn the_footprint_grows_with_the_network_and_fails_past_what_is_available() {
        let small = Footprint::estimate(&[2, 64, 64, 3], 2, 10_000, 10_000, 2, 1);
        let huge = Footprint::estimate(&[2, 100_000, 100_000, 3], 2, 10_000, 10_000, 2, 1);
        // 10¹⁰ weights × 4 bytes × (5 + 2 workers) ≈ 280 GB.
        assert!(huge.parameters > 250 << 30, "{huge:?}");
        assert!(small.total() < 64 << 20, "{small:?}");
        assert!(small.check(1 << 30, "cpu").is_ok());
        let e = huge.check(16 << 30, "cpu").unwrap_err();
        assert!(e.contains("16.00 GiB is available") && e.contains("over"), "{e}");
        assert!(available_memory().is_none_or(|m| m > 0));
    }
}
