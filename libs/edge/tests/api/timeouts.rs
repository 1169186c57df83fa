//! The body read is bounded in time (`SERVER_READ_TIMEOUT`): a slow sender over a real TCP
//! socket gets 408 `VALIDATION_ERROR` instead of holding the request open.

use std::time::Duration;

use auth_edge::EdgeConfig;
use poem::{Server, listener::TcpAcceptor};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{app_with_endpoint, config, real_cache};

/// Serve the test app on 127.0.0.1:0; returns the address and the server task.
async fn serve(cfg: EdgeConfig) -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let ep = app_with_endpoint(cfg, real_cache().await);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let acceptor = TcpAcceptor::from_tokio(listener).expect("acceptor");
    let task = tokio::spawn(async move {
        let _ = Server::new_with_acceptor(acceptor).run(ep).await;
    });
    (addr, task)
}

/// Read one HTTP/1.1 reply (status line, headers, `Content-Length` body) within `limit`.
async fn read_reply(sock: &mut tokio::net::TcpStream, limit: Duration) -> (u16, Value) {
    let mut buf = Vec::new();
    let read = async {
        loop {
            let mut chunk = [0u8; 4096];
            let n = sock.read(&mut chunk).await.expect("read");
            assert!(n > 0, "connection closed before a full reply: {buf:?}");
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())?
                    })
                    .expect("content-length");
                if body.len() >= len {
                    let status = head
                        .split_whitespace()
                        .nth(1)
                        .and_then(|s| s.parse().ok())
                        .expect("status");
                    return (status, serde_json::from_str(&body[..len]).expect("json"));
                }
            }
        }
    };
    tokio::time::timeout(limit, read)
        .await
        .expect("the server must answer a stalled body by itself")
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_is_408() {
    let (addr, server) = serve(EdgeConfig {
        read_timeout: Duration::from_millis(200),
        ..config()
    })
    .await;

    // Announce 100 bytes, send 10, then stall.
    let mut slow = tokio::net::TcpStream::connect(addr).await.expect("connect");
    slow.write_all(
        b"POST /echo HTTP/1.1\r\nhost: t\r\ncontent-type: text/plain\r\ncontent-length: 100\r\n\r\n0123456789",
    )
    .await
    .expect("write");
    let (status, body) = read_reply(&mut slow, Duration::from_secs(10)).await;
    assert_eq!(status, 408, "{body}");
    assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
    assert_eq!(body["error"]["message"], "request body timed out");

    // A sender that delivers in time is served as usual.
    let mut fast = tokio::net::TcpStream::connect(addr).await.expect("connect");
    fast.write_all(
        b"POST /echo HTTP/1.1\r\nhost: t\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\nhello",
    )
    .await
    .expect("write");
    let (status, body) = read_reply(&mut fast, Duration::from_secs(10)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["body"], "hello");
    server.abort();
}

#[test]
fn the_default_read_timeout_is_the_contracts_15_seconds() {
    assert_eq!(EdgeConfig::default().read_timeout, Duration::from_secs(15));
}
