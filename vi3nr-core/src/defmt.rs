//! `defmt::Format` for the public error and result types (feature `defmt`).

use crate::init::{Limit, Solution, Status};
use crate::{Error, Moments};

impl defmt::Format for Error {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self {
            Error::NotPositive(what) => defmt::write!(f, "{=str} must be finite and > 0", what),
            Error::NotFinite(what) => defmt::write!(f, "{=str} must be finite", what),
            Error::UnknownActivation => defmt::write!(f, "unknown activation"),
            Error::EmptyNetwork => defmt::write!(f, "network needs input and output widths"),
            Error::ZeroWidth => defmt::write!(f, "layer widths must be > 0"),
            Error::TooManyLayers => defmt::write!(f, "more layers than the plan's capacity"),
            Error::ActivationCount => defmt::write!(f, "one activation, or one per hidden layer"),
            Error::InputStatsCount => defmt::write!(f, "input statistics: one, or one per input"),
            Error::SliceLength => defmt::write!(f, "slice length does not match the layer"),
            Error::Degenerate => defmt::write!(f, "a statistic is zero or not finite"),
            Error::NoSamples => defmt::write!(f, "Monte Carlo needs at least two samples"),
            Error::NotConverged => defmt::write!(f, "quadrature did not converge"),
        }
    }
}

impl defmt::Format for Moments {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "E[f]={=f64} E[f^2]={=f64} E[f']={=f64} E[f'^2]={=f64}",
            self.f,
            self.f2,
            self.df,
            self.df2
        );
    }
}

impl defmt::Format for Limit {
    fn format(&self, f: defmt::Formatter<'_>) {
        let name = match self {
            Limit::Zero => "sigma_p -> 0",
            Limit::Infinity => "sigma_p -> inf",
            Limit::Interior => "interior",
        };
        defmt::write!(f, "{=str}", name);
    }
}

impl defmt::Format for Solution {
    fn format(&self, f: defmt::Formatter<'_>) {
        match *self {
            Solution::Root { sigma_p, roots } => {
                defmt::write!(f, "root sigma_p={=f64} ({=u32} sign changes)", sigma_p, roots)
            }
            Solution::NoRoot { closest_sigma_p, closest_condition, limit } => defmt::write!(
                f,
                "no root: closest cond={=f64} at sigma_p={=f64} ({})",
                closest_condition,
                closest_sigma_p,
                limit
            ),
            Solution::Any => defmt::write!(f, "any sigma_p (cond == 1)"),
        }
    }
}

impl defmt::Format for Status {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=str}", self.as_str());
    }
}

impl defmt::Format for crate::model::ModelError {
    fn format(&self, f: defmt::Formatter<'_>) {
        use crate::model::ModelError as E;
        match *self {
            E::Truncated => defmt::write!(f, "truncated: shorter than the header"),
            E::BadMagic => defmt::write!(f, "bad magic"),
            E::Version(v) => defmt::write!(f, "unsupported version {=u16}", v),
            E::Length { declared, actual } => {
                defmt::write!(f, "length: header {=u32}, file {=u32}", declared, actual)
            }
            E::Misaligned => defmt::write!(f, "buffer not 4-byte aligned"),
            E::Crc { stored, computed } => {
                defmt::write!(f, "CRC stored {=u32:#x}, computed {=u32:#x}", stored, computed)
            }
            E::BigEndianHost => defmt::write!(f, "big-endian host"),
            E::Header(field) => defmt::write!(f, "invalid header: {=str}", field.message()),
            E::Layer { index, what } => {
                defmt::write!(f, "invalid layer {=u8}: {=str}", index, what.message())
            }
            E::TooLarge => defmt::write!(f, "model too large for the format"),
            E::BufferTooSmall { needed } => {
                defmt::write!(f, "buffer too small: {=u32} needed", needed)
            }
            E::BufferLength(buffer) => {
                defmt::write!(f, "wrong buffer length: {=str}", buffer.message())
            }
            E::WrongEvaluator(format) => {
                defmt::write!(f, "wrong evaluator for a {=str} model", format.name())
            }
        }
    }
}

impl defmt::Format for crate::model::NumberFormat {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=str}", self.name());
    }
}
