//! Chapter 5's exercise checks, run against the worked solutions (part of `cargo test --workspace`).

use solution_05 as ex;

mod checks;
