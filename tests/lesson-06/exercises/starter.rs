//! Chapter 6's exercise checks, run against YOUR code in lessons/lesson-06-chunked-receive:
//! `cargo exercise lesson-06`. Every check fails until its exercise is done.

use lesson_06::exercises as ex;

mod checks;
