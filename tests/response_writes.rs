//! Responses arrive whole and in order, whatever their size: the server
//! writes a small response (head and body together at most 2 KiB) as one
//! buffer and a larger one as several (`server::coalesce`), and a write the
//! socket takes only part of is sent on from where it stopped.

#[macro_use]
mod support;

use std::time::Duration;

use support::server::start;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CACHE: &str = "default-cache";

/// Value sizes on both sides of the one-buffer bounds (a GET hit's head is
/// about 120 bytes: 512 bytes in all for the small buffer, 2 KiB for the
/// other), and well past them.
const SIZES: [usize; 11] = [1, 100, 1800, 1900, 380, 400, 420, 1930, 2048, 4096, 70_000];

/// A value of `len` bytes that tells its own bytes apart.
fn value(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| b'a' + ((i + usize::from(seed)) % 26) as u8)
        .collect()
}

/// An HTTP/1.1 GET of `key` in the cache, as bytes on the wire.
fn get(key: &str, credential: &str) -> Vec<u8> {
    format!(
        "GET /cache/{CACHE}?key={key} HTTP/1.1\r\nhost: x\r\nauthorization: {credential}\r\n\r\n"
    )
    .into_bytes()
}

/// Reads one HTTP/1.1 response with a `content-length` from `buf` (more
/// is read from `stream` as needed); returns its status and body.
async fn read_response(
    stream: &mut tokio::net::tcp::OwnedReadHalf,
    buf: &mut Vec<u8>,
) -> (u16, Vec<u8>) {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end])
                .unwrap()
                .to_ascii_lowercase();
            let status: u16 = head[9..12].parse().unwrap();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .expect("a content-length")
                .trim()
                .parse()
                .unwrap();
            let start = end + 4;
            while buf.len() < start + length {
                read_more(stream, buf).await;
            }
            let body = buf[start..start + length].to_vec();
            buf.drain(..start + length);
            return (status, body);
        }
        read_more(stream, buf).await;
    }
}

async fn read_more(stream: &mut tokio::net::tcp::OwnedReadHalf, buf: &mut Vec<u8>) {
    let mut chunk = [0u8; 65536];
    let n = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut chunk))
        .await
        .expect("the server answers in time")
        .unwrap();
    assert!(n > 0, "the connection closed mid-response");
    buf.extend_from_slice(&chunk[..n]);
}

both_backends! {
#[tokio::test]
async fn responses_of_every_size_arrive_whole_one_at_a_time_and_pipelined() {
    let s = start(|_| {}).await;
    let rw = s.mint(
        &format!(r#"{{"permissions":[{{"role":"readwrite","cache":"{CACHE}"}}]}}"#),
        true,
        Some(600),
    );
    for (i, &len) in SIZES.iter().enumerate() {
        let path = format!("/cache/{CACHE}?key=size-{len}&ttl_seconds=60");
        let put = s.put(&path, &rw, &value(len, i as u8)).await;
        assert_eq!(put.status, 204, "PUT of {len} bytes");
    }
    // One request at a time (a connection each), every size.
    for (i, &len) in SIZES.iter().enumerate() {
        let got = s.get(&format!("/cache/{CACHE}?key=size-{len}"), Some(&rw)).await;
        assert_eq!(got.status, 200);
        assert_eq!(&got.body[..], &value(len, i as u8)[..], "{len} bytes");
    }
    // Pipelined: 4,000 GETs (about 4 MB of answers), sizes in turn, then a
    // miss and a refusal, to a client with a small receive buffer that reads
    // nothing for half a second: the server's socket fills, and some of its
    // one-buffer writes are taken in part (strace showed three a run: 1,918
    // bytes taken as 1,895, the rest sent on). Every answer must come back
    // whole, in order.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(s.addr).await.unwrap();
    let mut requests = Vec::new();
    let count = 4000;
    for n in 0..count {
        let len = SIZES[n % 6 + 1]; // 100 to 1900 bytes: the one-buffer writes
        requests.extend(get(&format!("size-{len}"), &rw));
    }
    requests.extend(get("absent", &rw));
    requests.extend(get("size-1", &format!("x{rw}")));
    let (mut reader, mut writer) = stream.into_split();
    let sender = tokio::spawn(async move {
        writer.write_all(&requests).await.unwrap();
        writer
    });
    // Nothing is read for a while: the answers fill the socket, and the
    // server's writes are taken in part.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut buf = Vec::new();
    for n in 0..count {
        let i = n % 6 + 1;
        let (status, body) = read_response(&mut reader, &mut buf).await;
        assert_eq!(status, 200, "response {n}");
        assert_eq!(body, value(SIZES[i], i as u8), "response {n}: {} bytes", SIZES[i]);
    }
    let _writer = tokio::time::timeout(Duration::from_secs(20), sender)
        .await
        .expect("every request was sent")
        .unwrap();
    assert_eq!(read_response(&mut reader, &mut buf).await.0, 404);
    assert_eq!(read_response(&mut reader, &mut buf).await.0, 401);
}
}
