//! Checkpoints: everything a fit needs to continue exactly, in one safetensors file
//! ([`FILE`] in the output directory), written atomically like every other output.
//!
//! Tensors (f32, one dimension): `params`, `adam.m`, `adam.v` (the backend's [`TrainState`])
//! and `good` (the parameters of the last good evaluation, which an interrupted run exports).
//! Metadata (strings): `format` = `vi3nr-checkpoint`, `version`, `backend`, `signal_sha256`
//! (of the decoded signal: layout, coordinates and values), and JSON objects `request` (the
//! fit's flags, compared on resume), `state` (step, β₁ᵗ and β₂ᵗ as f32 bits, the sampler),
//! `progress` (evaluations, training seconds, the loss of steps since the last evaluation) and
//! `record` (what metrics.json reports of the initialisation and the σ_p search).

use std::collections::HashMap;

use safetensors::tensor::{Dtype, TensorView};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::signal::Signal;
use crate::train::{Evaluation, Progress, TrainState};

/// The checkpoint's file name in the output directory.
pub const FILE: &str = "checkpoint.safetensors";
/// Version of the layout above.
pub const VERSION: u32 = 1;

/// A fit's state between two steps.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// The backend's name (`cpu`, `cuda`): a run resumes on the same kind.
    pub backend: String,
    /// [`signal_sha256`] of the signal fitted.
    pub signal_sha256: String,
    /// The fit's flags as JSON; a resumed run must ask for the same.
    pub request: Value,
    /// The backend's optimiser state.
    pub state: TrainState,
    /// The run's progress (`good` holds the last good evaluation's parameters, flattened,
    /// through [`Checkpoint::good`]).
    pub progress: Progress,
    /// Parameters of the last good evaluation, flattened.
    pub good: Vec<f32>,
    /// What metrics.json reports of the initialisation and the search.
    pub record: Value,
}

/// SHA-256 (hex) of a decoded signal: its layout, coordinates and values.
pub fn signal_sha256(signal: &Signal) -> String {
    let mut hash = Sha256::new();
    hash.update(signal.layout.describe().as_bytes());
    hash.update(format!("{:?}", signal.layout).as_bytes());
    hash.update(bytemuck::cast_slice::<f32, u8>(&signal.coords));
    hash.update(bytemuck::cast_slice::<f32, u8>(&signal.values));
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn evaluation_json(e: &Evaluation) -> Value {
    json!({"step": e.step, "loss": e.loss, "psnr": e.psnr, "steps_per_second": e.steps_per_second})
}

fn evaluation_from(v: &Value) -> Option<Evaluation> {
    Some(Evaluation {
        step: v["step"].as_u64()?,
        loss: v["loss"].as_f64()?,
        psnr: v["psnr"].as_f64().unwrap_or(f64::NAN),
        steps_per_second: v["steps_per_second"].as_f64()?,
    })
}

impl Checkpoint {
    /// The checkpoint as safetensors bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, String> {
        let s = &self.state;
        let tensors =
            [("params", &s.params), ("adam.m", &s.m), ("adam.v", &s.v), ("good", &self.good)];
        let views = tensors
            .iter()
            .map(|(name, data)| {
                TensorView::new(Dtype::F32, vec![data.len()], bytemuck::cast_slice(data))
                    .map(|v| (name.to_string(), v))
                    .map_err(|e| e.to_string())
            })
            .collect::<Result<Vec<_>, _>>()?;
        let p = &self.progress;
        let metadata: HashMap<String, String> = [
            ("format", json!("vi3nr-checkpoint")),
            ("version", json!(VERSION)),
            ("backend", json!(self.backend)),
            ("signal_sha256", json!(self.signal_sha256)),
            ("request", self.request.clone()),
            (
                "state",
                json!({
                    "step": s.step,
                    "beta_t_bits": [s.beta_t[0].to_bits(), s.beta_t[1].to_bits()],
                    "sampler": s.sampler,
                }),
            ),
            (
                "progress",
                json!({
                    "step": p.step,
                    "evaluations": p.evaluations.iter().map(evaluation_json).collect::<Vec<_>>(),
                    "train_seconds": p.train_seconds,
                    "pending_loss": p.pending_loss.map(|(mean, steps)| json!([mean, steps])),
                }),
            ),
            ("record", self.record.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), if let Value::String(s) = v { s } else { v.to_string() }))
        .collect();
        safetensors::tensor::serialize(views, Some(metadata)).map_err(|e| e.to_string())
    }

    /// Reads a checkpoint written by [`Checkpoint::to_bytes`]; every failure says what is
    /// wrong with the file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Checkpoint, String> {
        let (_, header) = safetensors::SafeTensors::read_metadata(bytes)
            .map_err(|e| format!("not a safetensors file: {e}"))?;
        let tensors = safetensors::SafeTensors::deserialize(bytes)
            .map_err(|e| format!("not a safetensors file: {e}"))?;
        let meta = header.metadata().clone().unwrap_or_default();
        let text = |key: &str| meta.get(key).cloned().ok_or(format!("no {key:?} in its metadata"));
        let parsed = |key: &str| -> Result<Value, String> {
            serde_json::from_str(&text(key)?).map_err(|e| format!("{key:?} is not JSON: {e}"))
        };
        if text("format")? != "vi3nr-checkpoint" {
            return Err("not a vi3nr checkpoint".into());
        }
        let version = text("version")?;
        if version != VERSION.to_string() {
            return Err(format!("checkpoint version {version}, this vi3nr reads {VERSION}"));
        }
        let tensor = |name: &str| -> Result<Vec<f32>, String> {
            let t = tensors.tensor(name).map_err(|e| format!("tensor {name:?}: {e}"))?;
            if t.dtype() != Dtype::F32 || t.shape().len() != 1 {
                return Err(format!("tensor {name:?} is not a 1-D f32 tensor"));
            }
            Ok(t.data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect())
        };
        let state = parsed("state")?;
        let bad = |what: &str| format!("malformed {what} in its metadata");
        let bits = |k: usize| -> Result<f32, String> {
            let b = state["beta_t_bits"][k].as_u64().and_then(|b| u32::try_from(b).ok());
            b.map(f32::from_bits).ok_or_else(|| bad("state"))
        };
        let state = TrainState {
            step: state["step"].as_u64().ok_or_else(|| bad("state"))?,
            params: tensor("params")?,
            m: tensor("adam.m")?,
            v: tensor("adam.v")?,
            beta_t: [bits(0)?, bits(1)?],
            sampler: state["sampler"].clone(),
        };
        state.check(state.params.len()).map_err(|e| e.0)?;
        let progress = parsed("progress")?;
        let evaluations = progress["evaluations"]
            .as_array()
            .ok_or_else(|| bad("progress"))?
            .iter()
            .map(evaluation_from)
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| bad("progress"))?;
        let pending_loss = match &progress["pending_loss"] {
            Value::Null => None,
            v => Some((
                v[0].as_f64().unwrap_or(f64::NAN),
                v[1].as_u64().ok_or_else(|| bad("progress"))?,
            )),
        };
        let progress = Progress {
            step: progress["step"].as_u64().ok_or_else(|| bad("progress"))?,
            evaluations,
            train_seconds: progress["train_seconds"].as_f64().ok_or_else(|| bad("progress"))?,
            pending_loss,
            good: None,
        };
        if progress.step != state.step {
            return Err(format!(
                "its progress is at step {} but its optimiser at step {}",
                progress.step, state.step
            ));
        }
        let good = tensor("good")?;
        if good.len() != state.params.len() {
            return Err("its last good model and its parameters differ in size".into());
        }
        Ok(Checkpoint {
            backend: text("backend")?,
            signal_sha256: text("signal_sha256")?,
            request: parsed("request")?,
            state,
            progress,
            good,
            record: parsed("record")?,
        })
    }

    /// The first field of `request` that differs from the checkpoint's, as
    /// `name: checkpoint value, now value`.
    pub fn differs(&self, request: &Value) -> Option<String> {
        let (Value::Object(old), Value::Object(new)) = (&self.request, request) else {
            return (self.request != *request).then(|| "the fit's settings".to_string());
        };
        let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
        keys.sort();
        keys.dedup();
        keys.into_iter().find_map(|k| {
            let (a, b) = (old.get(k).unwrap_or(&Value::Null), new.get(k).unwrap_or(&Value::Null));
            (a != b).then(|| format!("{k}: {a} in the checkpoint, {b} now"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checkpoint {
        let e = Evaluation { step: 4, loss: 0.25, psnr: 12.5, steps_per_second: 100.0 };
        Checkpoint {
            backend: "cpu".into(),
            signal_sha256: "ab".repeat(32),
            request: json!({"steps": 10, "lr": 0.001}),
            state: TrainState {
                step: 6,
                params: vec![1.0, -2.5, 3.25],
                m: vec![0.1, 0.2, 0.3],
                v: vec![1e-8, 2e-8, 3e-8],
                beta_t: [0.9f32.powi(6), 0.999f32.powi(6)],
                sampler: json!({"s": [1, 2, 3, 4]}),
            },
            progress: Progress {
                step: 6,
                evaluations: vec![e],
                train_seconds: 0.5,
                pending_loss: Some((0.2, 2)),
                good: None,
            },
            good: vec![0.5, 0.5, 0.5],
            record: json!({"vi3nr": null}),
        }
    }

    #[test]
    fn round_trips_bit_for_bit() {
        let c = sample();
        let back = Checkpoint::from_bytes(&c.to_bytes().unwrap()).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.state.beta_t[0].to_bits(), c.state.beta_t[0].to_bits());
    }

    #[test]
    fn names_the_first_setting_that_differs() {
        let c = sample();
        assert_eq!(c.differs(&json!({"steps": 10, "lr": 0.001})), None);
        let d = c.differs(&json!({"steps": 20, "lr": 0.001})).unwrap();
        assert_eq!(d, "steps: 10 in the checkpoint, 20 now");
    }

    #[test]
    fn rejects_damaged_files_with_a_reason() {
        let bytes = sample().to_bytes().unwrap();
        for cut in [0, 7, bytes.len() / 2, bytes.len() - 1] {
            assert!(Checkpoint::from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let other = safetensors::tensor::serialize(
            Vec::<(String, TensorView<'_>)>::new(),
            Some(HashMap::from([("format".to_string(), "x".to_string())])),
        )
        .unwrap();
        assert_eq!(Checkpoint::from_bytes(&other).unwrap_err(), "not a vi3nr checkpoint");
    }
}
