//! Writes a seed corpus of valid model files for the `parse` target:
//! `cargo +nightly run --example seeds -- corpus/parse` (the folder is created).

use vi3nr_core::Act;
use vi3nr_core::model::{self, LayerSpec, ModelSpec, NumberFormat};

/// Deterministic weights in [−0.5, 0.5).
fn values(n: usize, salt: usize) -> Vec<f32> {
    (0..n).map(|i| ((i * 7919 + salt * 104_729) % 997) as f32 / 997.0 - 0.5).collect()
}

/// in_dim, n_freq, widths (the encoded input first), activations.
type Shape<'a> = (usize, usize, &'a [usize], &'a [Option<Act>]);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: seeds DIR")?;
    std::fs::create_dir_all(&dir)?;
    let sine = Some(Act::Sine { omega: 30.0 });
    let wavelet = Some(Act::Wavelet { omega: 1.0, s: 1.0 });
    let shapes: [Shape<'_>; 4] = [
        (2, 0, &[2, 8, 8, 1], &[sine, sine, None]),
        (3, 0, &[3, 16, 5], &[Some(Act::Relu), None]),
        (2, 3, &[6, 8, 8, 1], &[Some(Act::Gaussian { a: 0.5 }), wavelet, None]),
        (1, 2, &[4, 4, 3], &[Some(Act::Sinc), Some(Act::Tanh)]),
    ];
    for format in NumberFormat::ALL {
        for (k, &(in_dim, n_freq, widths, acts)) in shapes.iter().enumerate() {
            let data: Vec<(Vec<f32>, Vec<f32>)> = widths
                .windows(2)
                .enumerate()
                .map(|(i, w)| (values(w[0] * w[1], 2 * i), values(w[1], 2 * i + 1)))
                .collect();
            let layers: Vec<LayerSpec<'_>> = widths
                .windows(2)
                .zip(acts)
                .zip(&data)
                .map(|((w, &act), (weights, bias))| LayerSpec {
                    fan_in: w[0],
                    fan_out: w[1],
                    act,
                    weights,
                    bias,
                })
                .collect();
            let fourier = values(n_freq * in_dim, 99);
            let affine = vec![[1.5, -0.25]; *widths.last().unwrap()];
            let spec =
                ModelSpec { format, in_dim, fourier: &fourier, affine: &affine, layers: &layers };
            let mut words = vec![0u32; model::encoded_len(&spec)?.div_ceil(4)];
            let n = model::write(&spec, bytemuck::cast_slice_mut(&mut words))?;
            let path = format!("{dir}/seed-{}-{k}.vi3", format.name());
            std::fs::write(&path, &bytemuck::cast_slice::<u32, u8>(&words)[..n])?;
        }
    }
    Ok(())
}
