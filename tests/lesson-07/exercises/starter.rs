//! Chapter 7's exercise checks, run against YOUR code in lessons/lesson-07-file-service:
//! `cargo exercise lesson-07`. Every check fails until its exercise is done.

use lesson_07::exercises as ex;

mod checks;
