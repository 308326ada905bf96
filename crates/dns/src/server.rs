//! The UDP and TCP loops.
//!
//! Each UDP socket has a receive loop per core. A loop answers everything
//! that needs no upstream itself (blocks, cache hits) and hands each query
//! that does to a task of its own, so a slow upstream never holds up other
//! queries. Queries waiting upstream are bounded (`max_in_flight`); past
//! that, a query is answered SERVFAIL at once rather than queued.
//!
//! TCP connections (RFC 7766) have up to 16 queries each answered at
//! once, in the order the answers are ready; at most `max_tcp_connections`
//! are open at once, and they are closed when idle.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use gate::Gate;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::resolver::{Resolver, Scratch, Step, Transport};
use crate::settings::Settings;

/// Serves DNS on already-bound sockets until `shutdown` is cancelled, then
/// lets queries in flight finish (at most the upstream timeout times the
/// attempts).
pub async fn serve(
    udp: Vec<UdpSocket>,
    tcp: Vec<TcpListener>,
    gate: Arc<Gate>,
    settings: Arc<Settings>,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let resolver = Arc::new(Resolver::new(settings.clone()));
    serve_with(udp, tcp, gate, resolver, shutdown).await
}

/// As [`serve`], with a resolver the caller keeps (tests look at its cache).
pub async fn serve_with(
    udp: Vec<UdpSocket>,
    tcp: Vec<TcpListener>,
    gate: Arc<Gate>,
    resolver: Arc<Resolver>,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let settings = resolver.settings().clone();
    let tasks = TaskTracker::new();
    let in_flight = Arc::new(Semaphore::new(settings.max_in_flight));
    let connections = Arc::new(Semaphore::new(settings.max_tcp_connections));
    let loops = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4);
    for socket in udp {
        if let Ok(address) = socket.local_addr() {
            tracing::info!(%address, "DNS filter answering over UDP");
        }
        let socket = Arc::new(socket);
        for _ in 0..loops {
            tasks.spawn(udp_loop(
                socket.clone(),
                gate.clone(),
                resolver.clone(),
                in_flight.clone(),
                tasks.clone(),
                shutdown.clone(),
            ));
        }
    }
    for listener in tcp {
        if let Ok(address) = listener.local_addr() {
            tracing::info!(%address, "DNS filter answering over TCP");
        }
        tasks.spawn(tcp_loop(
            listener,
            gate.clone(),
            resolver.clone(),
            connections.clone(),
            tasks.clone(),
            shutdown.clone(),
        ));
    }
    shutdown.cancelled().await;
    tasks.close();
    let grace = Duration::from_millis(
        settings.upstream_timeout_ms * u64::from(settings.attempts.max(1)) + 500,
    );
    if tokio::time::timeout(grace, tasks.wait()).await.is_err() {
        tracing::warn!("some DNS queries were still waiting upstream at shutdown");
    }
    Ok(())
}

async fn udp_loop(
    socket: Arc<UdpSocket>,
    gate: Arc<Gate>,
    resolver: Arc<Resolver>,
    in_flight: Arc<Semaphore>,
    tasks: TaskTracker,
    shutdown: CancellationToken,
) {
    let mut buf = vec![0u8; 65_535];
    let mut scratch = Scratch::default();
    loop {
        let received = tokio::select! {
            biased;
            () = shutdown.cancelled() => return,
            received = socket.recv_from(&mut buf) => received,
        };
        let (len, client) = match received {
            Ok(received) => received,
            Err(e) => {
                // An ICMP error from an earlier send, or a shortage of
                // buffers: nothing to do but carry on.
                tracing::debug!(error = %e, "DNS receive failed");
                continue;
            }
        };
        match resolver.begin(
            &*gate,
            &buf[..len],
            client.ip(),
            Transport::Udp,
            &mut scratch,
        ) {
            Step::Drop => {}
            Step::Reply(answer) => send(&socket, &answer, client).await,
            Step::Resolve(pending) => match in_flight.clone().try_acquire_owned() {
                Ok(permit) => {
                    let (socket, gate, resolver) = (socket.clone(), gate.clone(), resolver.clone());
                    tasks.spawn(async move {
                        let answer = resolver.resolve(&*gate, pending).await;
                        send(&socket, &answer, client).await;
                        drop(permit);
                    });
                }
                Err(_) => {
                    let answer = resolver.busy(&*gate, pending);
                    send(&socket, &answer, client).await;
                }
            },
        }
    }
}

async fn send(socket: &UdpSocket, answer: &[u8], client: SocketAddr) {
    if let Err(e) = socket.send_to(answer, client).await {
        tracing::debug!(error = %e, %client, "DNS answer could not be sent");
    }
}

async fn tcp_loop(
    listener: TcpListener,
    gate: Arc<Gate>,
    resolver: Arc<Resolver>,
    connections: Arc<Semaphore>,
    tasks: TaskTracker,
    shutdown: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            biased;
            () = shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let (stream, client) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, usually: wait a moment.
                tracing::warn!(error = %e, "DNS over TCP: accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            // Too many connections: close this one at once.
            drop(stream);
            continue;
        };
        let (gate, resolver, shutdown) = (gate.clone(), resolver.clone(), shutdown.clone());
        tasks.spawn(async move {
            connection(stream, client, &gate, &resolver, &shutdown).await;
            drop(permit);
        });
    }
}

/// Queries one TCP connection may have in hand at once. More stay unread
/// in the socket until an answer has gone.
const TCP_IN_FLIGHT: usize = 16;

/// One TCP connection: two-byte length, then the message. Queries are
/// answered as each is ready, so a slow upstream does not hold up the
/// queries behind it (RFC 7766 §6.2.1.1: answers may go in any order; the
/// client matches them by ID). A connection that sends nothing for the
/// idle timeout, or takes longer than that to send one whole message, is
/// closed once its answers have gone.
async fn connection(
    stream: TcpStream,
    client: SocketAddr,
    gate: &Arc<Gate>,
    resolver: &Arc<Resolver>,
    shutdown: &CancellationToken,
) {
    let idle = Duration::from_millis(resolver.settings().tcp_idle_timeout_ms);
    let (mut reader, mut writer) = stream.into_split();
    let mut input: Vec<u8> = Vec::with_capacity(1024);
    let mut answers: JoinSet<(Option<Vec<u8>>, Scratch)> = JoinSet::new();
    let mut spare: Vec<Scratch> = Vec::new();
    let mut reading = true;
    let mut deadline = tokio::time::Instant::now() + idle;
    loop {
        // Every whole message already read goes to be answered.
        while answers.len() < TCP_IN_FLIGHT {
            let Some(message) = take_message(&mut input) else {
                break;
            };
            if input.is_empty() {
                deadline = tokio::time::Instant::now() + idle;
            }
            let mut scratch = spare.pop().unwrap_or_default();
            let (gate, resolver) = (gate.clone(), resolver.clone());
            answers.spawn(async move {
                let answer = resolver
                    .answer(&*gate, &message, client.ip(), Transport::Tcp, &mut scratch)
                    .await;
                (answer, scratch)
            });
        }
        if !reading && answers.is_empty() {
            return;
        }
        let room = answers.len() < TCP_IN_FLIGHT;
        tokio::select! {
            () = shutdown.cancelled() => return,
            done = answers.join_next(), if !answers.is_empty() => {
                let Some(Ok((answer, scratch))) = done else {
                    return;
                };
                spare.push(scratch);
                // Not a query: the stream cannot be trusted to be in step.
                let Some(answer) = answer else {
                    return;
                };
                let mut framed = Vec::with_capacity(answer.len() + 2);
                framed.extend_from_slice(&(answer.len() as u16).to_be_bytes());
                framed.extend_from_slice(&answer);
                if writer.write_all(&framed).await.is_err() {
                    return;
                }
                if input.is_empty() {
                    deadline = tokio::time::Instant::now() + idle;
                }
            }
            read = reader.read_buf(&mut input), if reading && room => {
                match read {
                    Ok(n) if n > 0 => {
                        if input.len() == n {
                            // The first bytes of a message start its clock.
                            deadline = tokio::time::Instant::now() + idle;
                        }
                    }
                    // Closed or failed: answer what was asked, then stop.
                    _ => reading = false,
                }
            }
            () = tokio::time::sleep_until(deadline), if answers.is_empty() => return,
        }
    }
}

/// Takes one whole length-prefixed message off the front of `input`.
fn take_message(input: &mut Vec<u8>) -> Option<Vec<u8>> {
    let [a, b, ..] = input[..] else {
        return None;
    };
    let length = usize::from(u16::from_be_bytes([a, b]));
    if input.len() < 2 + length {
        return None;
    }
    let message = input[2..2 + length].to_vec();
    input.drain(..2 + length);
    Some(message)
}
