//! The activation codes of a layer entry: one table for the writer, the parser and the
//! trainer's kernels.

use super::LayerFault;
use crate::Act;
use crate::eval::fast::FastAct;

/// The activation code of a layer entry (FORMAT.md, "Layer entry"), shared by
/// [`write()`](super::write), [`Model::parse`](super::Model::parse) and the trainer's GPU
/// kernels. A layer entry stores the code and two f32 parameters ([`ActCode::of`]).
///
/// ```
/// use vi3nr_core::Act;
/// use vi3nr_core::model::ActCode;
/// assert_eq!(ActCode::of(Some(Act::Sine { omega: 30.0 })), (ActCode::Sine, 30.0, 0.0));
/// assert_eq!(ActCode::of(None), (ActCode::Identity, 0.0, 0.0));
/// assert_eq!(ActCode::from_u8(7), Some(ActCode::Wavelet));
/// assert_eq!(ActCode::Wavelet as u8, 7);
/// assert_eq!(ActCode::Sine.act(30.0, 0.0), Ok(Some(Act::Sine { omega: 30.0 })));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ActCode {
    /// No activation (the output layer).
    Identity = 0,
    /// `max(z, 0)`.
    Relu = 1,
    /// `tanh z`.
    Tanh = 2,
    /// `1/(1 + e^{−z})`.
    Sigmoid = 3,
    /// `sin(ω z)`; parameter 0 is ω.
    Sine = 4,
    /// `exp(−z²/(2a²))`; parameter 0 is a.
    Gaussian = 5,
    /// `sin z / z`.
    Sinc = 6,
    /// `cos(ω z)·exp(−(z/s)²)`; parameters ω and s.
    Wavelet = 7,
}

impl ActCode {
    /// All codes, in code order.
    pub const ALL: [ActCode; 8] = [
        ActCode::Identity,
        ActCode::Relu,
        ActCode::Tanh,
        ActCode::Sigmoid,
        ActCode::Sine,
        ActCode::Gaussian,
        ActCode::Sinc,
        ActCode::Wavelet,
    ];

    /// The code of a stored byte; `None` for an unknown one.
    pub fn from_u8(code: u8) -> Option<Self> {
        ActCode::ALL.into_iter().find(|c| *c as u8 == code)
    }

    /// How many of the two parameters the activation uses (the others are stored as 0).
    pub fn params(self) -> usize {
        match self {
            ActCode::Sine | ActCode::Gaussian => 1,
            ActCode::Wavelet => 2,
            _ => 0,
        }
    }

    /// The code and the two stored parameters of a layer's activation (`None`: the identity),
    /// as the file holds them: ω for sine and wavelet, a for the Gaussian, s for the wavelet,
    /// 0 when unused.
    pub fn of(act: Option<Act>) -> (ActCode, f32, f32) {
        match act {
            None => (ActCode::Identity, 0.0, 0.0),
            Some(Act::Relu) => (ActCode::Relu, 0.0, 0.0),
            Some(Act::Tanh) => (ActCode::Tanh, 0.0, 0.0),
            Some(Act::Sigmoid) => (ActCode::Sigmoid, 0.0, 0.0),
            Some(Act::Sine { omega }) => (ActCode::Sine, omega as f32, 0.0),
            Some(Act::Gaussian { a }) => (ActCode::Gaussian, a as f32, 0.0),
            Some(Act::Sinc) => (ActCode::Sinc, 0.0, 0.0),
            Some(Act::Wavelet { omega, s }) => (ActCode::Wavelet, omega as f32, s as f32),
        }
    }

    /// The activation of this code with stored parameters `p0`, `p1`, checked: used
    /// parameters finite and > 0 ([`LayerFault::ActivationParam`]), unused ones 0
    /// ([`LayerFault::UnusedParam`]).
    pub fn act(self, p0: f32, p1: f32) -> Result<Option<Act>, LayerFault> {
        let (w0, w1) = (f64::from(p0), f64::from(p1));
        let bad = |_| LayerFault::ActivationParam;
        let act = match self {
            ActCode::Identity => None,
            ActCode::Relu => Some(Act::Relu),
            ActCode::Tanh => Some(Act::Tanh),
            ActCode::Sigmoid => Some(Act::Sigmoid),
            ActCode::Sine => Some(Act::sine(w0).map_err(bad)?),
            ActCode::Gaussian => Some(Act::gaussian(w0).map_err(bad)?),
            ActCode::Sinc => Some(Act::Sinc),
            ActCode::Wavelet => Some(Act::wavelet(w0, w1).map_err(bad)?),
        };
        let used = self.params();
        if (used < 1 && p0 != 0.0) || (used < 2 && p1 != 0.0) {
            return Err(LayerFault::UnusedParam);
        }
        Ok(act)
    }
}

impl FastAct {
    /// The activation's [`ActCode`] and its two prepared f32 parameters as [`FastAct`] holds
    /// them (ω, and `k = −1/(2a²)` for the Gaussian or `k = −1/s²` for the wavelet; 0 when
    /// unused): the arguments of the trainer's activation kernels.
    pub fn code(self) -> (ActCode, f32, f32) {
        match self {
            FastAct::Identity => (ActCode::Identity, 0.0, 0.0),
            FastAct::Relu => (ActCode::Relu, 0.0, 0.0),
            FastAct::Tanh => (ActCode::Tanh, 0.0, 0.0),
            FastAct::Sigmoid => (ActCode::Sigmoid, 0.0, 0.0),
            FastAct::Sine(w) => (ActCode::Sine, w, 0.0),
            FastAct::Gaussian(k) => (ActCode::Gaussian, k, 0.0),
            FastAct::Sinc => (ActCode::Sinc, 0.0, 0.0),
            FastAct::Wavelet(w, k) => (ActCode::Wavelet, w, k),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_activation_round_trips_through_its_code() {
        for act in Act::ALL.into_iter().map(Some).chain([None]) {
            let (code, p0, p1) = ActCode::of(act);
            assert_eq!(ActCode::from_u8(code as u8), Some(code));
            let back = code.act(p0, p1).unwrap();
            assert_eq!(ActCode::of(back), (code, p0, p1), "{act:?}");
            assert_eq!(FastAct::new(act).code().0, code, "{act:?}");
        }
        assert_eq!(ActCode::from_u8(8), None);
        assert_eq!(ActCode::Relu.act(1.0, 0.0), Err(LayerFault::UnusedParam));
        assert_eq!(ActCode::Sine.act(-1.0, 0.0), Err(LayerFault::ActivationParam));
    }
}
