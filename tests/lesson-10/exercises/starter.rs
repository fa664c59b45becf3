//! Chapter 10's exercise checks, run against YOUR code in lessons/lesson-10-async:
//! `cargo course check 10.1` runs exercise 10.1's (the tests in `checks::ex10_1`). Every check
//! fails until its exercise is done.

use lesson_10::exercises as ex;

mod checks;
