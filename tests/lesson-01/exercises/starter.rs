//! Chapter 1's exercise checks, run against YOUR code in `lessons/lesson-01-echo/src/exercises.rs`:
//! `cargo course check 1.1` runs the checks of exercise 1.1 (module `ex1_1`), and so on.
use lesson_01::exercises as ex;
mod checks;
