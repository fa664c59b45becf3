//! Chapter 4's exercise checks, run against YOUR code in lessons/lesson-04-sticky-packets:
//! `cargo course check 4.1` runs exercise 4.1's (the tests in `checks::ex4_1`). Every check
//! fails until its exercise is done.

use lesson_04::exercises as ex;

mod checks;
