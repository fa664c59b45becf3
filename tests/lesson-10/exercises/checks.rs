//! The checks for chapter 10's exercises, written against `crate::ex`: the starter in lessons/
//! (where they must fail) or the solution (where they must pass). `cargo course check 10.N`
//! runs the tests in `mod ex10_N`. No sockets: a `tokio::io::duplex` pipe stands for the
//! client's connection, with a buffer as small as a check needs. A failing check says in words
//! what went wrong; every wait is bounded.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader, DuplexStream};
use tokio::time::timeout;

use crate::ex;

/// How long a check waits for something that should happen at once.
const WAIT: Duration = Duration::from_secs(5);

/// A message for the room, as another client's task would send it.
fn message(from: u64, line: &str) -> ex::Message {
    ex::Message {
        from,
        line: format!("{line}\n").into(),
    }
}

/// Reads one line of what the code under test wrote, or fails saying `what` was expected.
async fn line_from(out: &mut BufReader<DuplexStream>, what: &str) -> String {
    let mut line = String::new();
    match timeout(WAIT, out.read_line(&mut line)).await {
        Ok(Ok(0)) => panic!("the stream ended; expected {what}"),
        Ok(Ok(_)) => line.trim_end_matches('\n').to_string(),
        Ok(Err(e)) => panic!("cannot read: {e}; expected {what}"),
        Err(_) => panic!("nothing was written within {WAIT:?}; expected {what}"),
    }
}

mod ex10_1 {
    use tokio::io::{AsyncWriteExt, BufReader, DuplexStream, duplex};
    use tokio::sync::broadcast;
    use tokio::task::JoinHandle;
    use tokio::time::timeout;
    use tokio_util::codec::FramedRead;
    use tokio_util::sync::CancellationToken;

    use super::{WAIT, ex, line_from, message};

    /// `relay` for alice (id 1), running as a task: the test is the client on the other side
    /// of two pipes, and bob's receiver shows what reaches the room.
    struct Alice {
        typed: DuplexStream,
        screen: BufReader<DuplexStream>,
        room: broadcast::Sender<ex::Message>,
        bob: broadcast::Receiver<ex::Message>,
        stop: CancellationToken,
        task: JoinHandle<ex::End>,
    }

    impl Alice {
        fn start(capacity: usize) -> Alice {
            let (room, _) = broadcast::channel(capacity);
            Alice::start_in(room.clone(), room.subscribe())
        }

        fn start_in(
            room: broadcast::Sender<ex::Message>,
            mut inbox: broadcast::Receiver<ex::Message>,
        ) -> Alice {
            let (typed, from_alice) = duplex(64 * 1024);
            let (to_alice, screen) = duplex(64 * 1024);
            let bob = room.subscribe();
            let stop = CancellationToken::new();
            let (room2, stop2) = (room.clone(), stop.clone());
            let task = tokio::spawn(async move {
                let mut lines = FramedRead::new(from_alice, lesson_10::LineCodec::new());
                let mut out = to_alice;
                ex::relay(&mut lines, &mut out, 1, "alice", &room2, &mut inbox, &stop2).await
            });
            Alice {
                typed,
                screen: BufReader::new(screen),
                room,
                bob,
                stop,
                task,
            }
        }

        async fn types(&mut self, bytes: &[u8]) {
            self.typed.write_all(bytes).await.unwrap();
        }

        async fn bob_hears(&mut self, what: &str) -> String {
            match timeout(WAIT, self.bob.recv()).await {
                Ok(Ok(m)) => String::from_utf8_lossy(&m.line).into_owned(),
                Ok(Err(e)) => panic!("bob's receiver: {e}; expected {what}"),
                Err(_) => panic!("nothing reached the room within {WAIT:?}; expected {what}"),
            }
        }

        async fn ended(self, what: &str) -> ex::End {
            match timeout(WAIT, self.task).await {
                Ok(Ok(end)) => end,
                Ok(Err(e)) => panic!("relay panicked: {e}"),
                Err(_) => panic!("relay did not return within {WAIT:?}: {what}"),
            }
        }
    }

    #[tokio::test]
    async fn a_message_reaches_a_client_that_says_nothing() {
        let mut alice = Alice::start(16);
        alice.room.send(message(2, "bob: hi alice")).unwrap();
        let got = line_from(
            &mut alice.screen,
            "bob's message, though alice has typed nothing: `relay` must wait for her next \
             line and for the inbox at the same time (`tokio::select!`)",
        )
        .await;
        assert_eq!(got, "bob: hi alice");
    }

    #[tokio::test]
    async fn lines_go_to_the_room_with_the_name_and_do_not_come_back() {
        let mut alice = Alice::start(16);
        // First prove that alice's task listens while she is silent.
        alice.room.send(message(2, "bob: ready?")).unwrap();
        alice.bob.recv().await.unwrap(); // bob's own message, in bob's receiver
        let got = line_from(&mut alice.screen, "bob's message while alice is silent").await;
        assert_eq!(got, "bob: ready?");
        alice.types(b"hello\n\r\n\nworld\n").await;
        assert_eq!(
            alice.bob_hears("alice's first line").await,
            "alice: hello\n",
            "a line goes to the room as `name: line\\n`"
        );
        assert_eq!(
            alice.bob_hears("alice's second line").await,
            "alice: world\n",
            "empty lines are skipped"
        );
        // Her own messages went through the channel to her receiver too: none may be written
        // back to her. The next line she sees must be bob's.
        alice.room.send(message(2, "bob: and you?")).unwrap();
        let got = line_from(&mut alice.screen, "bob's next message").await;
        assert_eq!(
            got, "bob: and you?",
            "no echo: a message `from: me` is not written to `out`"
        );
    }

    #[tokio::test]
    async fn a_line_that_is_not_utf8_is_refused_to_its_sender_only() {
        let mut alice = Alice::start(16);
        alice.room.send(message(2, "bob: first")).unwrap();
        alice.bob.recv().await.unwrap();
        assert_eq!(
            line_from(&mut alice.screen, "bob's message").await,
            "bob: first"
        );
        alice.types(b"\xff\xfe\nafter\n").await;
        let got = line_from(&mut alice.screen, "the not-UTF-8 notice").await;
        assert_eq!(format!("{got}\n"), ex::NOT_UTF8);
        assert_eq!(
            alice.bob_hears("alice's line after the bad one").await,
            "alice: after\n",
            "the bad line is dropped and the next one goes to the room"
        );
    }

    #[tokio::test]
    async fn cancelling_the_token_ends_it_even_while_the_client_is_silent() {
        let alice = Alice::start(16);
        alice.stop.cancel();
        let end = alice
            .ended("the token was cancelled while alice typed nothing")
            .await;
        assert_eq!(end, ex::End::Shutdown);
    }

    #[tokio::test]
    async fn the_end_of_the_stream_a_long_line_and_a_lag_each_end_it_their_way() {
        // The end of the stream, once alice's task has shown it listens to the inbox.
        let mut alice = Alice::start(16);
        alice.room.send(message(2, "bob: bye")).unwrap();
        line_from(&mut alice.screen, "bob's message while alice is silent").await;
        alice.typed.shutdown().await.unwrap();
        assert_eq!(alice.ended("alice's stream ended").await, ex::End::Closed);

        // 1,025 bytes and no newline: the codec says TooLong.
        let mut alice = Alice::start(16);
        alice.types(&[b'x'; 1025]).await;
        assert_eq!(
            alice
                .ended("alice sent 1,025 bytes without a newline")
                .await,
            ex::End::TooLong,
            "`LineError::TooLong` from the codec is `End::TooLong`"
        );

        // A receiver that is 8 messages behind in a channel that keeps 4 has lagged.
        let (room, inbox) = broadcast::channel(4);
        for i in 0..8 {
            room.send(message(2, &format!("bob: {i}"))).unwrap();
        }
        let alice = Alice::start_in(room, inbox);
        assert_eq!(
            alice
                .ended("alice's receiver had lagged before the start")
                .await,
            ex::End::TooSlow,
            "`RecvError::Lagged` is `End::TooSlow`"
        );
    }

    #[tokio::test]
    async fn a_client_that_keeps_typing_does_not_delay_the_shutdown() {
        let mut alice = Alice::start(1024);
        // 20,000 lines typed before the task first runs: its next line is always ready.
        alice.types("x\n".repeat(20_000).as_bytes()).await;
        alice.stop.cancel();
        assert_eq!(
            alice
                .ended("the token was cancelled while alice's lines kept coming")
                .await,
            ex::End::Shutdown
        );
    }
}

mod ex10_2 {
    use std::time::{Duration, Instant};

    use tokio::io::{AsyncReadExt, BufReader, duplex};
    use tokio::sync::broadcast;
    use tokio::time::timeout;

    use super::{WAIT, ex, message};

    /// Everything written to the other end of the pipe, until the end of the stream.
    async fn all_of(screen: tokio::io::DuplexStream) -> String {
        let mut text = String::new();
        match timeout(WAIT, BufReader::new(screen).read_to_string(&mut text)).await {
            Ok(Ok(_)) => text,
            Ok(Err(e)) => panic!("cannot read: {e}"),
            Err(_) => panic!(
                "the stream did not end within {WAIT:?} (got {text:?}): shut down the write \
                 side once the last line is written"
            ),
        }
    }

    #[tokio::test]
    async fn what_was_queued_then_the_last_line_then_the_end() {
        let (room, mut inbox) = broadcast::channel(16);
        room.send(message(2, "bob: one")).unwrap();
        room.send(message(1, "alice: mine")).unwrap();
        room.send(message(3, "carol: two")).unwrap();
        let (mut out, screen) = duplex(64 * 1024);
        let said = timeout(WAIT, ex::farewell(&mut out, 1, &mut inbox, WAIT)).await;
        assert_eq!(said, Ok(ex::Farewell::Said));
        drop(room);
        let text = all_of(screen).await;
        assert_eq!(
            text,
            format!("bob: one\ncarol: two\n{}", ex::SHUTTING_DOWN),
            "the messages waiting in the inbox (not alice's own), then the last line"
        );
        // `out` is still alive here: the end of the stream came from a shutdown, not a drop.
        drop(out);
    }

    #[tokio::test]
    async fn a_lagged_inbox_loses_what_was_lost_and_no_more() {
        let (room, mut inbox) = broadcast::channel(2);
        for i in 0..5 {
            room.send(message(2, &format!("bob: {i}"))).unwrap();
        }
        let (mut out, screen) = duplex(64 * 1024);
        let said = timeout(WAIT, ex::farewell(&mut out, 1, &mut inbox, WAIT)).await;
        assert_eq!(said, Ok(ex::Farewell::Said));
        let text = all_of(screen).await;
        assert_eq!(
            text,
            format!("bob: 3\nbob: 4\n{}", ex::SHUTTING_DOWN),
            "a channel of 2 kept the last 2 messages: a lag is no reason to send them not"
        );
        drop(out);
    }

    #[tokio::test]
    async fn a_client_that_reads_nothing_costs_the_grace_and_no_more() {
        let (room, mut inbox) = broadcast::channel(256);
        for i in 0..100 {
            room.send(message(2, &format!("bob: message {i}"))).unwrap();
        }
        // A pipe that holds 64 bytes, and nobody reads it.
        let (mut out, _screen) = duplex(64);
        let grace = Duration::from_millis(300);
        let started = Instant::now();
        let said = timeout(WAIT, ex::farewell(&mut out, 1, &mut inbox, grace))
            .await
            .unwrap_or_else(|_| {
                panic!("farewell still waited after {WAIT:?}, with a grace of {grace:?}")
            });
        let took = started.elapsed();
        assert_eq!(
            said,
            ex::Farewell::GraceRanOut,
            "2 KB of messages cannot go into 64 bytes that nobody reads"
        );
        assert!(
            took >= grace && took < grace + Duration::from_secs(2),
            "farewell returned after {took:?}; the grace was {grace:?}"
        );
    }
}
