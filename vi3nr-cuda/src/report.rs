//! Training reports: curves.
