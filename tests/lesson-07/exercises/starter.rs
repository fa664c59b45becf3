//! Chapter 7's exercise checks, run against YOUR code in lessons/lesson-07-file-service:
//! `cargo course check 7.N`. Every check fails until its exercise is done.

use lesson_07::exercises as ex;

/// Exercise 7.6's file, which a check reads: it must not use the lesson's crate.
const OWN_CLIENT: (&str, &str) = (
    "lessons/lesson-07-file-service/src/exercises/own_client.rs",
    include_str!("../../../lessons/lesson-07-file-service/src/exercises/own_client.rs"),
);

mod checks;
