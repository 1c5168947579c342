//! Signed distance functions of triangle meshes: the exact distance through a bounding-volume
//! hierarchy ([`bvh`]), the inside from the generalised winding number ([`winding`]), the
//! training samples of a fit ([`sampling`]), and generated test shapes with analytic
//! distances ([`shapes`]).
//!
//! Why not parry3d: its `TriMesh` answers the distance but takes the sign from pseudo-normals,
//! which a hole or a flipped triangle breaks; the fast winding number needs per-node moments
//! (area-weighted normal sums) that parry's tree does not carry, so one small tree here serves
//! both queries.

pub mod bvh;
pub mod sampling;
pub mod shapes;
pub mod winding;

pub use bvh::{Bvh, Closest};
pub use sampling::{Mix, Samples, sample};
