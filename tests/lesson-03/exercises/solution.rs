//! Chapter 3's exercise checks, run against the worked solutions (part of `cargo test --workspace`).

use solution_03 as ex;

mod checks;
