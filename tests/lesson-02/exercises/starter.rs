//! Chapter 2's exercise checks, run against your code in `lessons/lesson-02-udp/src/exercises.rs`.
//! `cargo course check 2.1` runs the checks of exercise 2.1 (module `ex2_1`), and so on.

use lesson_02::exercises as ex;

mod checks;
