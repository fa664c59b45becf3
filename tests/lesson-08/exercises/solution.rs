//! Chapter 8's exercise checks, run against the worked solutions (part of `cargo test --workspace`).

use solution_08 as ex;

mod checks;
