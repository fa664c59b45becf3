//! Chapter 8's exercise checks, run against YOUR code in lessons/lesson-08-threads:
//! `cargo course check 8.1` runs exercise 8.1's (the tests in `checks::ex8_1`). Every check
//! fails until its exercise is done.

use lesson_08::exercises as ex;

mod checks;
