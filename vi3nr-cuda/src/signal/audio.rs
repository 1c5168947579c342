//! Audio: WAV in (through `hound`: any channel count, 8/16/24/32-bit integer or 32-bit float),
//! 16-bit PCM WAV out.
//!
//! Frame k of N sits at t = −1 + 2k/(N−1); one value per channel, integers divided by
//! 2^(bits−1), floats as they are, clamped.

use std::io::{self, Cursor};
use std::path::Path;

use super::{ErrorKind, Layout, Signal, SignalError, clamp_unit};

/// Decodes a WAV file.
pub(super) fn decode(bytes: &[u8], path: &Path) -> Result<Signal, SignalError> {
    let wav_err = |e: hound::Error| {
        let kind = match e {
            hound::Error::Unsupported => ErrorKind::Unsupported,
            _ => ErrorKind::Corrupt,
        };
        let cause = match e {
            hound::Error::IoError(ref io) if io.kind() == io::ErrorKind::UnexpectedEof => {
                "truncated data".to_string()
            }
            hound::Error::IoError(ref io) if io.to_string().contains("enough bytes") => {
                "truncated data".to_string()
            }
            ref other => other.to_string(),
        };
        SignalError::new(path, kind, format!("cannot decode WAV: {cause}"))
    };
    let mut reader = hound::WavReader::new(Cursor::new(bytes)).map_err(wav_err)?;
    let spec = reader.spec();
    let frames = reader.duration();
    if spec.sample_rate == 0 {
        return Err(SignalError::new(path, ErrorKind::Corrupt, "WAV sample rate is 0 Hz"));
    }
    if frames == 0 {
        return Err(SignalError::new(path, ErrorKind::Empty, "WAV file has no audio frames"));
    }
    // The header's length is not trusted for the allocation: a file cannot
    // hold more samples than it has bytes.
    let count = reader.len() as usize;
    let mut values = Vec::with_capacity(count.min(bytes.len()));
    match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Int, bits @ 1..=32) => {
            let scale = 1.0 / f64::from(1u32 << (bits - 1));
            for sample in reader.samples::<i32>() {
                values.push((f64::from(sample.map_err(wav_err)?) * scale) as f32);
            }
        }
        (hound::SampleFormat::Float, 32) => {
            for (k, sample) in reader.samples::<f32>().enumerate() {
                let v = sample.map_err(wav_err)?;
                if v.is_nan() {
                    return Err(SignalError::new(
                        path,
                        ErrorKind::Corrupt,
                        format!("WAV sample {k} is NaN"),
                    ));
                }
                values.push(v.clamp(-1.0, 1.0));
            }
        }
        (format, bits) => {
            let format = match format {
                hound::SampleFormat::Int => "integer",
                hound::SampleFormat::Float => "float",
            };
            return Err(SignalError::new(
                path,
                ErrorKind::Unsupported,
                format!("unsupported WAV sample format: {bits}-bit {format}"),
            ));
        }
    }
    if values.len() != count {
        return Err(SignalError::new(
            path,
            ErrorKind::Corrupt,
            "cannot decode WAV: truncated data",
        ));
    }
    let layout = Layout::Audio { sample_rate: spec.sample_rate, channels: spec.channels, frames };
    Ok(Signal::from_values(layout, values))
}

/// Encodes interleaved values as 16-bit PCM WAV in memory.
pub(super) fn encode(
    sample_rate: u32,
    channels: u16,
    values: &[f32],
    path: &Path,
) -> Result<Vec<u8>, SignalError> {
    let spec = hound::WavSpec {
        channels,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    encode_pcm16(spec, values)
        .map_err(|e| SignalError::new(path, ErrorKind::Io, format!("cannot encode WAV: {e}")))
}

fn encode_pcm16(spec: hound::WavSpec, values: &[f32]) -> Result<Vec<u8>, hound::Error> {
    let mut out = Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut out, spec)?;
    for &v in values {
        writer.write_sample((clamp_unit(v) * 32767.0).round() as i16)?;
    }
    writer.finalize()?;
    Ok(out.into_inner())
}
