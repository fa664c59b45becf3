//! Chapter 9's exercise checks, run against the worked solutions (part of `cargo test --workspace`).

use solution_09 as ex;

mod checks;
