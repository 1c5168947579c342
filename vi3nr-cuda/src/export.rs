//! Writing what a fit produces: `.vi3` bytes ([`Mlp::to_vi3`], in [`AlignedBytes`]), PyTorch
//! safetensors, and files replaced atomically ([`atomic_write`], [`write_file`]).

use std::io::{self, Write};
use std::path::Path;

use vi3nr_core::model::{self, LayerSpec, ModelError, ModelSpec, NumberFormat};

use crate::mlp::Mlp;

/// Bytes in 4-byte-aligned storage, as [`Model::parse`](vi3nr_core::model::Model::parse) requires.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AlignedBytes {
    words: Vec<u32>,
    len: usize,
}

impl AlignedBytes {
    /// A zeroed buffer of `len` bytes.
    pub fn zeroed(len: usize) -> Self {
        AlignedBytes { words: vec![0; len.div_ceil(4)], len }
    }

    /// A 4-byte-aligned copy of `bytes`.
    pub fn copy_from(bytes: &[u8]) -> Self {
        let mut out = Self::zeroed(bytes.len());
        out.bytes_mut().copy_from_slice(bytes);
        out
    }

    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        &bytemuck::cast_slice(&self.words)[..self.len]
    }

    /// The bytes, mutably.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut bytemuck::cast_slice_mut(&mut self.words)[..self.len]
    }
}

impl Mlp {
    /// Encodes the network in `format`.
    pub fn to_vi3(&self, format: NumberFormat) -> Result<AlignedBytes, ModelError> {
        let last = self.weights.len() - 1;
        let layers: Vec<LayerSpec<'_>> = self
            .weights
            .iter()
            .zip(&self.biases)
            .enumerate()
            .map(|(i, (w, b))| LayerSpec {
                fan_in: self.widths[i],
                fan_out: self.widths[i + 1],
                act: (i != last).then_some(self.act),
                weights: w,
                bias: b,
            })
            .collect();
        let spec = ModelSpec {
            format,
            in_dim: self.coord_dim(),
            fourier: &self.fourier,
            affine: &self.affine,
            layers: &layers,
        };
        let mut bytes = AlignedBytes::zeroed(model::encoded_len(&spec)?);
        model::write(&spec, bytes.bytes_mut())?;
        Ok(bytes)
    }
}

/// The network as PyTorch `nn.Sequential` weights: linear layers at even indices
/// (`0.weight`, `0.bias`, `2.weight`, …), activations between them; metadata `format`,
/// `activation`, `widths`, and for Fourier-encoded inputs `fourier_shape` (m,dim) and
/// `fourier_frequencies` (row-major, cycles per unit).
pub fn safetensors_bytes(mlp: &Mlp) -> Result<Vec<u8>, String> {
    use safetensors::tensor::{Dtype, TensorView};
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (i, (w, b)) in mlp.weights.iter().zip(&mlp.biases).enumerate() {
        let (fi, fo) = (mlp.widths[i], mlp.widths[i + 1]);
        tensors.push((format!("{}.weight", 2 * i), vec![fo, fi], bytemuck::cast_slice(w).to_vec()));
        tensors.push((format!("{}.bias", 2 * i), vec![fo], bytemuck::cast_slice(b).to_vec()));
    }
    let views = tensors
        .iter()
        .map(|(name, shape, bytes)| {
            TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map(|v| (name.clone(), v))
                .map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, _>>()?;
    let widths: Vec<String> = mlp.widths.iter().map(|w| w.to_string()).collect();
    let mut metadata: std::collections::HashMap<String, String> = [
        ("format".to_string(), "vi3nr".to_string()),
        ("activation".to_string(), mlp.act.to_string()),
        ("widths".to_string(), widths.join(",")),
    ]
    .into_iter()
    .collect();
    if !mlp.fourier.is_empty() {
        // The encoding is not a module of the Sequential: its frequencies travel as metadata.
        let freqs: Vec<String> = mlp.fourier.iter().map(|f| f.to_string()).collect();
        metadata
            .insert("fourier_shape".into(), format!("{},{}", mlp.widths[0] / 2, mlp.coord_dim()));
        metadata.insert("fourier_frequencies".into(), freqs.join(","));
    }
    safetensors::tensor::serialize(views, Some(metadata)).map_err(|e| e.to_string())
}

/// [`atomic_write`] with the path in the error message: `cannot write PATH: why`.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    atomic_write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Writes `bytes` to `path` through a temporary file in the same directory,
/// synced and renamed into place: readers see the old file or the new one,
/// never a partial one, and a failure removes the temporary file.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "the path does not name a file")
    })?;
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(name);
    prefix.push(".");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    // Like `File::create`: the umask decides, not tempfile's private 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut file = builder.tempfile_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}
