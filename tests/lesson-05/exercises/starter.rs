//! Chapter 5's exercise checks, run against YOUR code in lessons/lesson-05-length-prefix:
//! `cargo course check 5.1` runs exercise 5.1's (the tests in `checks::ex5_1`). Every check
//! fails until its exercise is done.

use lesson_05::exercises as ex;

mod checks;
