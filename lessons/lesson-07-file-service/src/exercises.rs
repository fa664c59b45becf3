//! Chapter 7 exercises. Check your work with `cargo exercise lesson-07`.
