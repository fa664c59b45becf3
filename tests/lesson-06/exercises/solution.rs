//! Chapter 6's exercise checks, run against the worked solutions (part of `cargo test --workspace`).

use solution_06 as ex;

mod checks;
