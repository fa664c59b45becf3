//! The chat benchmark's entry point; everything is in the `chat_bench` library.
//! Full run: `cargo bench -p chat-bench`. Smoke run: `cargo test -p chat-bench`.

fn main() -> std::process::ExitCode {
    chat_bench::main()
}
