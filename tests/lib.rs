//! Workspace-level tests live in `tests/`. This library only compiles the README's Rust examples
//! as doctests, so that they stay true.

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExamples;
