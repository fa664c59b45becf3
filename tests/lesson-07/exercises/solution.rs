//! Chapter 7's exercise checks, run against the worked solutions (part of `cargo test --workspace`).

use solution_07 as ex;

/// Exercise 7.6's file, which a check reads: it must not use the lesson's crate.
const OWN_CLIENT: (&str, &str) = (
    "solutions/solution-07-file-service/src/own_client.rs",
    include_str!("../../../solutions/solution-07-file-service/src/own_client.rs"),
);

mod checks;
