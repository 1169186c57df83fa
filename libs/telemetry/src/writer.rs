//! [`BackgroundWriter`]: log lines handed to one writer thread, so a request thread formats
//! its line and moves on instead of making a `write` system call per line; the thread writes
//! whatever has queued up in one buffered batch and flushes whenever the queue runs dry.
//!
//! Nothing is dropped: the queue holds [`QUEUE_LINES`] lines and a full queue makes the
//! logging thread wait, as a blocked stdout did before. [`LogGuard`] flushes what is queued
//! when it is dropped (at the end of `main`).

use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, SyncSender};

/// Lines that may wait for the writer thread before logging threads wait for it: at 20,000
/// access-log lines a second, ~0.4 s of burst, and at most a few MB of memory.
pub const QUEUE_LINES: usize = 8_192;

enum Message {
    Line(Vec<u8>),
    /// Write everything queued before this message, then answer.
    Flush(mpsc::Sender<()>),
}

/// A `MakeWriter` for `tracing-subscriber`: each event is buffered in its own line and
/// queued for the writer thread when the event is complete.
#[derive(Clone)]
pub struct BackgroundWriter {
    /// `None` when the writer thread could not start: lines then go to stdout directly.
    queue: Option<SyncSender<Message>>,
}

/// Flushes the queued lines when dropped; keep it alive for as long as the process logs.
#[must_use = "dropping the guard flushes and is meant to happen at the end of main"]
pub struct LogGuard {
    queue: Option<SyncSender<Message>>,
}

impl BackgroundWriter {
    /// Starts the writer thread over `sink`. If the thread cannot be started, every line
    /// is written to stdout directly, as without this writer.
    pub fn spawn<W: Write + Send + 'static>(sink: W) -> (Self, LogGuard) {
        let (queue, lines) = mpsc::sync_channel(QUEUE_LINES);
        let started = std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || drain(&lines, io::BufWriter::with_capacity(64 * 1024, sink)))
            .is_ok();
        let queue = started.then_some(queue);
        let guard = LogGuard {
            queue: queue.clone(),
        };
        (Self { queue }, guard)
    }
}

/// The writer thread: waits for a line, writes it and everything queued behind it, then
/// flushes. Ends when every sender is gone.
fn drain<W: Write>(lines: &Receiver<Message>, mut out: io::BufWriter<W>) {
    while let Ok(first) = lines.recv() {
        let mut next = Some(first);
        while let Some(message) = next {
            match message {
                // a failing stdout has nowhere to report to: the line is lost
                Message::Line(line) => drop(out.write_all(&line)),
                Message::Flush(done) => {
                    drop(out.flush());
                    let _ = done.send(());
                }
            }
            next = lines.try_recv().ok();
        }
        drop(out.flush());
    }
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        if let Some(queue) = self.queue.take() {
            let (done, flushed) = mpsc::channel();
            if queue.send(Message::Flush(done)).is_ok() {
                let _ = flushed.recv();
            }
        }
    }
}

/// One event's line, queued when the formatter drops it.
pub struct LineWriter {
    queue: Option<SyncSender<Message>>,
    line: Vec<u8>,
}

impl Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.line.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if self.line.is_empty() {
            return;
        }
        match &self.queue {
            // an error means the writer thread is gone (process ending): nothing to do
            Some(queue) => drop(queue.send(Message::Line(std::mem::take(&mut self.line)))),
            None => drop(io::stdout().lock().write_all(&self.line)),
        }
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BackgroundWriter {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            queue: self.queue.clone(),
            line: Vec::with_capacity(256),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    /// A sink the test can read back.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().expect("sink").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_arrives_in_order_once_the_guard_is_dropped() {
        let sink = Shared::default();
        let (writer, guard) = BackgroundWriter::spawn(sink.clone());
        for i in 0..10_000 {
            let mut w = writer.make_writer();
            writeln!(w, "line {i}").expect("write");
        }
        drop(guard);
        let text = String::from_utf8(sink.0.lock().expect("sink").clone()).expect("utf8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 10_000);
        assert!(
            lines
                .iter()
                .enumerate()
                .all(|(i, l)| *l == format!("line {i}"))
        );
    }

    #[test]
    fn an_event_written_in_pieces_is_one_line() {
        let sink = Shared::default();
        let (writer, guard) = BackgroundWriter::spawn(sink.clone());
        {
            let mut w = writer.make_writer();
            w.write_all(b"level=info ").expect("write");
            w.write_all(b"msg=hello\n").expect("write");
        }
        drop(writer.make_writer()); // an empty event queues nothing
        drop(guard);
        assert_eq!(&*sink.0.lock().expect("sink"), b"level=info msg=hello\n");
    }
}
