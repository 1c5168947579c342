//! The fixed-point evaluator's pieces, public so that firmware can time each one alone (the
//! `profile` binary of firmware-demo) and so that the [`Requant`] a parsed
//! [`Weights::Q15`](crate::model::Weights::Q15) holds has a name. Evaluating a model needs
//! none of this: use [`Model::eval`](crate::model::Model::eval).
//!
//! - [`FixedAct`]: an activation prepared for integer evaluation, [`FixedAct::eval`] of an
//!   argument in its units (turns as a wrapping u32 for sine, Q16.16 otherwise);
//! - [`Requant`]: multiplication by a positive real in integer arithmetic, built per i8 row by
//!   [`Requant::from_f32`]`(scale · `[`row_unit`]`(…))` and applied as a [`Rescale`];
//! - [`sine_q14`]: the table sine the rows call, `sin(2π·θ/2³²)` in Q1.14 from a wrapping u32
//!   phase θ;
//! - [`input_step`]: the grid each layer's inputs are rounded to (what quantisation-aware
//!   training emulates);
//! - [`dot_q15`], [`dot_i8`]: the inner loops (`smlad` on thumbv7em), equal to
//!   [`dot_portable`]; [`Lane`]: how layer inputs sit in the scratch.
//!
//! ```
//! use vi3nr_core::Act;
//! use vi3nr_core::eval::parts::{FixedAct, Requant, row_unit};
//! let sine = FixedAct::new(Some(Act::Sine { omega: 30.0 })).unwrap();
//! assert_eq!(sine.eval(1 << 30), 16_384); // a quarter turn: sin = 1 in Q1.14
//! let unit = row_unit(Some(Act::Sine { omega: 30.0 }), 5, 14);
//! assert!(Requant::from_f32(1e-3 * unit).is_some());
//! ```

pub use super::fixed::qformat::{input_step, row_unit};
pub use super::fixed::table::sine_turns as sine_q14;
pub use super::fixed::{FixedAct, Lane, Requant, Rescale, dot_i8, dot_portable, dot_q15};
