//! Signals: loading images and audio, rendering them back.
