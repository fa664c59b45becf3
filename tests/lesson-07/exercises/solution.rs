//! Chapter 7's exercise checks, run against the worked solutions (part of `cargo test --workspace`).

use solution_07 as ex;

mod checks;
