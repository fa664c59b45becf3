//! Chapter 5's exercise checks, run against YOUR code in lessons/lesson-05-length-prefix:
//! `cargo exercise lesson-05`. Every check fails until its exercise is done.

use lesson_05::exercises as ex;

mod checks;
