//! Chapter 1's exercise checks, run against the worked solutions (part of `cargo test --workspace`).
use solution_01 as ex;
mod checks;
