//! Chapter 4's exercise checks, run against the worked solutions (part of `cargo test --workspace`).

use solution_04 as ex;

mod checks;
