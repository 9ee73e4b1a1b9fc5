//! Workspace-level tests live in `tests/`. This library holds the robustness invariants that the
//! property tests and the fuzz targets share ([`invariants`]), and compiles the README's Rust examples
//! as doctests, so that they stay true.

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExamples;

pub mod invariants;
