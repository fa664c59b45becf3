//! Chapter 6's exercise checks, run against YOUR code in
//! `lessons/lesson-06-chunked-receive/src/exercises.rs`: `cargo course check 6.1` runs the
//! checks of exercise 6.1 (module `ex6_1`), and so on. Every check fails until its exercise is
//! done.

use lesson_06::exercises as ex;

mod checks;
