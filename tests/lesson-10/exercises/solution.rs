//! Chapter 10's exercise checks, run against the worked solutions (part of `cargo test --workspace`).

use solution_10 as ex;

mod checks;
