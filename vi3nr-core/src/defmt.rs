//! `defmt::Format` for the public types (feature `defmt`).

use crate::Error;

impl defmt::Format for Error {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self {
            Error::NotPositive(what) => defmt::write!(f, "{=str} must be finite and > 0", what),
            Error::NotFinite(what) => defmt::write!(f, "{=str} must be finite", what),
            other => defmt::write!(f, "{}", defmt::Debug2Format(other)),
        }
    }
}
