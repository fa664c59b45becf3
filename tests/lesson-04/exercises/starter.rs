//! Chapter 4's exercise checks, run against YOUR code in lessons/lesson-04-sticky-packets:
//! `cargo exercise lesson-04`. Every check fails until its exercise is done.

use lesson_04::exercises as ex;

mod checks;
