//! `vi3nr inspect`: check a model file and describe its header and layers.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use vi3nr_core::model::Model;
use vi3nr_cuda::export::AlignedBytes;

/// `vi3nr inspect` flags.
#[derive(Args)]
pub struct InspectArgs {
    /// The model file.
    #[arg(value_name = "MODEL")]
    model: PathBuf,
}

/// Reads, checks and describes a model file; every failure is `<path>: <message>`.
pub fn run(args: &InspectArgs) -> Result<ExitCode, String> {
    let path = args.model.display();
    let data = std::fs::read(&args.model).map_err(|e| format!("{path}: {e}"))?;
    let bytes = AlignedBytes::copy_from(&data);
    let model = Model::parse(bytes.bytes()).map_err(|e| format!("{path}: {e}"))?;
    let n_freq = model.n_freq();
    println!("{path}");
    println!("format      {}", model.format.name());
    println!("in_dim      {}", model.in_dim);
    if n_freq == 0 {
        println!("encoding    raw");
    } else {
        println!("encoding    Fourier, {n_freq} frequencies ({} features)", 2 * n_freq);
    }
    println!("out_dim     {}", model.out_dim);
    println!("layers      {}", model.layers.len());
    println!("  {:>5} {:>7} {:>7}  activation", "layer", "fan_in", "fan_out");
    for (i, layer) in model.layers.iter().enumerate() {
        let act = layer.act.map_or_else(|| "identity".to_string(), |a| a.to_string());
        println!("  {i:>5} {:>7} {:>7}  {act}", layer.fan_in, layer.fan_out);
    }
    println!("parameters  {}", model.parameter_count());
    println!("file bytes  {}", model.file_bytes);
    println!("CRC         {:#010x} (CRC ok)", model.crc);
    Ok(ExitCode::SUCCESS)
}
