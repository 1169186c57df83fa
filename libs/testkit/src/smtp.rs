//! A real SMTP server on loopback for mail tests: Python's `aiosmtpd`, started as a child
//! process on a free port, writing every message it receives to a directory; plus helpers to
//! read a delivered message ([`SmtpSink::wait_for`], [`link_param`]).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const SERVER: &str = r#"
import os, sys, time, uuid
from aiosmtpd.controller import Controller
port, out = int(sys.argv[1]), sys.argv[2]
class Sink:
    async def handle_DATA(self, server, session, envelope):
        name = os.path.join(out, uuid.uuid4().hex)
        with open(name + ".tmp", "wb") as f:
            f.write(("X-Envelope-To: " + ",".join(envelope.rcpt_tos) + "\r\n").encode())
            f.write(envelope.original_content or envelope.content)
        os.rename(name + ".tmp", name + ".eml")
        return "250 OK"
controller = Controller(Sink(), hostname="127.0.0.1", port=port)
controller.start()
print("ready", flush=True)
while True:
    time.sleep(3600)
"#;

/// The running server and its mail directory; both go away on drop.
pub struct SmtpSink {
    child: Child,
    /// The port it listens on.
    pub port: u16,
    dir: PathBuf,
}

impl SmtpSink {
    /// Starts the server and waits until it accepts connections. Panics with a clear
    /// message when `python3` or `aiosmtpd` is missing (`pip install aiosmtpd`).
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let dir = std::env::temp_dir().join(format!("smtp-sink-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("mail dir");
        let child = Command::new("python3")
            .arg("-c")
            .arg(SERVER)
            .arg(port.to_string())
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 must be installed for the mail tests");
        let mut sink = Self { child, port, dir };
        for _ in 0..100 {
            if let Ok(Some(status)) = sink.child.try_wait() {
                panic!(
                    "the SMTP test server exited ({status}): is aiosmtpd installed? (pip install aiosmtpd)"
                );
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return sink;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        sink.stop();
        panic!("the SMTP test server did not start listening on port {port}");
    }

    /// Settings that point the service at this server.
    pub fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("EMAIL_PROVIDER", "smtp".to_owned()),
            ("SMTP_HOST", "127.0.0.1".to_owned()),
            ("SMTP_PORT", self.port.to_string()),
            ("SMTP_SECURE", "false".to_owned()),
            ("EMAIL_FROM_ADDRESS", "auth@platform.test".to_owned()),
            ("CLIENT_URL", "https://app.example.test".to_owned()),
        ]
    }

    /// Every message received so far for `to`, decoded, oldest first.
    pub fn messages_to(&self, to: &str) -> Vec<String> {
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(&self.dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
            .into_iter()
            .filter_map(|(_, p)| std::fs::read(p).ok())
            .map(|raw| decode(&String::from_utf8_lossy(&raw)))
            .filter(|m| m.lines().next().is_some_and(|l| l.contains(to)))
            .collect()
    }

    /// Waits (up to 10 s, polling the mail directory) for the `n`-th message to `to`.
    pub async fn wait_for(&self, to: &str, n: usize) -> String {
        for _ in 0..200 {
            if let Some(m) = self.messages_to(to).into_iter().nth(n - 1) {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no message #{n} to {to} arrived");
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Undoes quoted-printable soft line breaks and `=XX` escapes (enough for our ASCII mail).
fn decode(raw: &str) -> String {
    let joined = raw.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'=' && i + 2 < bytes.len())
            .then(|| std::str::from_utf8(&bytes[i + 1..i + 3]).ok())
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        if let Some(b) = escaped {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The value after `<param>=` in the message's first link that has it.
pub fn link_param(message: &str, param: &str) -> String {
    let key = format!("{param}=");
    let start = message
        .find(&key)
        .map(|i| i + key.len())
        .expect("link with the parameter");
    message[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '&')
        .collect()
}
