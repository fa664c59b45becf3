//! Chapter 1's exercise checks, run against YOUR code in `lessons/lesson-01-echo/src/exercises.rs`:
//! `cargo exercise lesson-01`.
use lesson_01::exercises as ex;
mod checks;
