//! Carrying a CONNECT tunnel between two sockets.
//!
//! Each direction starts by copying through a small buffer, as most
//! tunnels carry a page or two and then sit idle. When a read fills the
//! buffer (a download, an upload), that direction moves to `splice(2)`
//! through a pipe of its own: the kernel hands the data from one socket to
//! the other without copying it into the proxy and back out, which is
//! where a bulk tunnel's time went. If the pipe cannot be made (too many
//! open files, say), the copy carries on through the buffer.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};

use rustix::pipe::{PipeFlags, SpliceFlags, fcntl_setpipe_size, pipe_with, splice};
use tokio::io::Interest;
use tokio::net::TcpStream;

/// The first buffer of each direction.
const FIRST_BUFFER: usize = 16 * 1024;
/// The pipe asked for once a direction is bulk; the kernel may give less
/// (`/proc/sys/fs/pipe-max-size`), and its default of 64 KiB still works.
const PIPE_BYTES: usize = 256 * 1024;

/// Carries both directions until each has ended; `up` and `down` count
/// the bytes moved from the client and to it. The side that ends first
/// passes its end on (a half-close), and the other carries on.
pub async fn carry(
    client: &TcpStream,
    server: &TcpStream,
    up: &AtomicU64,
    down: &AtomicU64,
) -> io::Result<()> {
    tokio::try_join!(one_way(client, server, up), one_way(server, client, down))?;
    Ok(())
}

async fn one_way(from: &TcpStream, to: &TcpStream, moved: &AtomicU64) -> io::Result<()> {
    if copy(from, to, moved, &mut vec![0u8; FIRST_BUFFER], true).await? {
        return Ok(());
    }
    let Ok((pipe_out, pipe_in)) = pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK) else {
        return copy(from, to, moved, &mut vec![0u8; PIPE_BYTES], false)
            .await
            .map(|_| ());
    };
    let capacity = fcntl_setpipe_size(&pipe_in, PIPE_BYTES).unwrap_or(64 * 1024);
    loop {
        let n = into_pipe(from, &pipe_in, capacity).await?;
        if n == 0 {
            return end(to);
        }
        out_of_pipe(&pipe_out, to, n).await?;
        moved.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// Copies through `buffer` to the end (true), or, when `until_full`, until
/// a read fills the buffer (false): the direction has become bulk.
async fn copy(
    from: &TcpStream,
    to: &TcpStream,
    moved: &AtomicU64,
    buffer: &mut [u8],
    until_full: bool,
) -> io::Result<bool> {
    loop {
        let n = read(from, buffer).await?;
        if n == 0 {
            end(to)?;
            return Ok(true);
        }
        write_all(to, &buffer[..n]).await?;
        moved.fetch_add(n as u64, Ordering::Relaxed);
        if until_full && n == buffer.len() {
            return Ok(false);
        }
    }
}

async fn read(from: &TcpStream, buffer: &mut [u8]) -> io::Result<usize> {
    loop {
        from.readable().await?;
        match from.try_read(buffer) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            other => return other,
        }
    }
}

async fn write_all(to: &TcpStream, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        to.writable().await?;
        match to.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Moves what the socket has (up to `capacity`) into the empty pipe.
async fn into_pipe(from: &TcpStream, pipe_in: &OwnedFd, capacity: usize) -> io::Result<usize> {
    loop {
        from.readable().await?;
        match from.try_io(Interest::READABLE, || {
            splice(
                from.as_fd(),
                None,
                pipe_in,
                None,
                capacity,
                SpliceFlags::MOVE | SpliceFlags::NONBLOCK,
            )
            .map_err(io::Error::from)
        }) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            other => return other,
        }
    }
}

/// Moves all `n` bytes in the pipe out to the socket.
async fn out_of_pipe(pipe_out: &OwnedFd, to: &TcpStream, mut n: usize) -> io::Result<()> {
    while n > 0 {
        to.writable().await?;
        match to.try_io(Interest::WRITABLE, || {
            splice(
                pipe_out,
                None,
                to.as_fd(),
                None,
                n,
                SpliceFlags::MOVE | SpliceFlags::NONBLOCK,
            )
            .map_err(io::Error::from)
        }) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "the other side of the tunnel stopped taking data",
                ));
            }
            Ok(m) => n -= m,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Passes the end of one direction on, as a half-close.
fn end(to: &TcpStream) -> io::Result<()> {
    match socket2::SockRef::from(to).shutdown(std::net::Shutdown::Write) {
        Err(e) if e.kind() != io::ErrorKind::NotConnected => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    async fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let (a, b) = tokio::join!(TcpStream::connect(address), listener.accept());
        (a.expect("connect"), b.expect("accept").0)
    }

    /// A small exchange and a bulk one (well past the first buffer, so it
    /// goes through the pipe), both ways, byte for byte, with half-closes
    /// passed on and the counts right.
    #[tokio::test]
    async fn carries_small_and_bulk_data_both_ways_and_passes_the_end_on() {
        let (mut browser, client) = pair().await;
        let (server, mut origin) = pair().await;
        let up = AtomicU64::new(0);
        let down = AtomicU64::new(0);
        let bulk: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let upload: Vec<u8> = (0..100_000u32).map(|i| (i % 13) as u8).collect();
        let tunnel = carry(&client, &server, &up, &down);
        let browser_side = async {
            browser.write_all(b"hello").await.expect("write");
            browser.write_all(&upload).await.expect("write");
            browser.shutdown().await.expect("half-close");
            let mut got = Vec::new();
            browser.read_to_end(&mut got).await.expect("read");
            got
        };
        let origin_side = async {
            let mut got = Vec::new();
            origin.read_to_end(&mut got).await.expect("read");
            origin.write_all(b"hi").await.expect("write");
            origin.write_all(&bulk).await.expect("write");
            origin.shutdown().await.expect("close");
            got
        };
        let (carried, to_browser, to_origin) = tokio::join!(tunnel, browser_side, origin_side);
        carried.expect("carried");
        let mut sent = b"hello".to_vec();
        sent.extend_from_slice(&upload);
        assert_eq!(to_origin, sent);
        let mut answer = b"hi".to_vec();
        answer.extend_from_slice(&bulk);
        assert_eq!(to_browser.len(), answer.len());
        assert!(to_browser == answer, "the bulk answer arrived changed");
        assert_eq!(up.load(Ordering::Relaxed), sent.len() as u64);
        assert_eq!(down.load(Ordering::Relaxed), answer.len() as u64);
    }
}
