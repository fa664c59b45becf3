//! Chapter 2's exercise checks, run against your code in `lessons/lesson-02-udp/src/exercises.rs`.
//! Run them with `cargo exercise lesson-02`.

use lesson_02::exercises as ex;

mod checks;
