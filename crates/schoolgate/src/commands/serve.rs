//! `schoolgate serve`: runs the network edges with everything they share.
//!
//! Start-up refuses to go on when the policy or lists cannot load, because a
//! filter that starts without them would pass traffic unfiltered. Once
//! running, a reload that fails keeps the last good policy and lists in
//! force. Reloads happen on SIGHUP and whenever another command changes
//! something filtering uses (seen through the audit trail's high-water mark).
//! SIGTERM or Ctrl+C stop it: the edges stop accepting, finish what is in
//! flight, and the activity queue is written out before exit.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use gate::{ActivityLog, Gate, IdentityTable, QueueSettings, Session};
use jiff::{Timestamp, ToSpan};
use store::Store;
use tokio::net::{TcpListener, UdpSocket};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::datadir::DataDir;
use crate::exit::Failure;

/// How long in-flight work may take to finish after a stop is asked for.
const GRACE: Duration = Duration::from_secs(30);
/// How often the outbox is looked at for messages due (urgent ones wake it).
const OUTBOX_EVERY: Duration = Duration::from_secs(5);

/// Loads people, devices and networks for identification.
async fn load_identity(dir: &DataDir) -> Result<IdentityTable> {
    let people = dir.store.people().await?;
    let devices = dir.store.devices().await?;
    let networks = dir.store.networks().await?;
    Ok(IdentityTable::new(&people, &devices, &networks)?)
}

/// Loads everything filtering uses and puts it in force.
async fn reload(dir: &DataDir, gate: &Gate) -> Result<()> {
    let engine = dir.engine().await?;
    let identity = load_identity(dir).await?;
    gate.set_engine(engine);
    gate.set_identity(identity);
    Ok(())
}

/// Binds every address, reporting which one failed.
pub async fn bind_tcp(what: &str, addresses: &[SocketAddr]) -> Result<Vec<TcpListener>> {
    let mut listeners = Vec::with_capacity(addresses.len());
    for address in addresses {
        let listener = TcpListener::bind(address).await.map_err(|e| {
            Failure::usage(format!(
                "the {what} could not listen on {address}: {e}; choose another address or stop whatever is using it"
            ))
        })?;
        println!("{what} listening on {}", listener.local_addr()?);
        listeners.push(listener);
    }
    Ok(listeners)
}

/// Binds UDP and TCP on each DNS address; port 0 gets the same free port
/// for both.
async fn bind_dns(addresses: &[SocketAddr]) -> Result<(Vec<UdpSocket>, Vec<TcpListener>)> {
    let failed = |address: &SocketAddr, e: std::io::Error| {
        Failure::usage(format!(
            "the dns filter could not listen on {address}: {e}; choose another address in dns.listen or stop whatever is using it (port 53 needs root or CAP_NET_BIND_SERVICE)"
        ))
    };
    let mut udp = Vec::with_capacity(addresses.len());
    let mut tcp = Vec::with_capacity(addresses.len());
    for address in addresses {
        let (socket, listener) = dns::bind_pair(*address)
            .await
            .map_err(|e| failed(address, e))?;
        let bound = socket.local_addr()?;
        println!("dns filter listening on {bound} (UDP and TCP)");
        udp.push(socket);
        tcp.push(listener);
    }
    Ok((udp, tcp))
}

/// The activity log writer's nice value: the lowest priority there is.
/// Measured on the 2-core benchmark machine, with the load generator and
/// the web server on the same cores, taking turns with the writer at normal
/// priority over eight rounds: p99 5.6 ms against 8.2 by the median, lower
/// in every round, and 8% more requests a second. Lowering it only to nice
/// 10 gave a p99 of about 6 ms and no more requests.
const ACTIVITY_WRITER_NICE: i32 = 19;

pub async fn run(dir: DataDir, config: Config, config_path: Option<&Path>) -> Result<()> {
    match config_path {
        Some(path) => println!("configuration from {}", path.display()),
        None => println!("configuration: the defaults (no schoolgate.toml in the data folder)"),
    }
    let engine = dir
        .engine()
        .await
        .context("schoolgate will not start without its policy and lists, so that nothing is ever filtered open")?;
    let identity = load_identity(&dir)
        .await
        .context("schoolgate will not start without its people, devices and networks")?;
    // The activity log is written at the lowest priority, through a
    // connection of its own whose SQLite thread inherits that priority,
    // until the queue is half full: when every core is busy, events wait in
    // the queue and pages do not wait for the log (docs/proxy.md, "The
    // activity log").
    let shared_store = dir.store.clone();
    let db = crate::datadir::DataDir::db_path(&dir.root);
    let (activity, writer) = ActivityLog::start_with_lane(
        dir.store.clone(),
        || crate::monitoring::lower_priority(ACTIVITY_WRITER_NICE),
        move || async move {
            match store::sqlite::SqliteStore::open_writer(&db).await {
                Ok(own) => own,
                Err(e) => {
                    tracing::warn!(error = %e, "the activity log's writer could not open a connection of its own to the database; it shares the others'");
                    shared_store
                }
            }
        },
        QueueSettings {
            capacity: config.activity.queue_capacity,
            batch: config.activity.batch,
        },
    )
    .context("could not start the activity log's writer thread")?;
    let gate = Arc::new(Gate::new(engine, identity, activity.clone()));
    let now = Timestamp::now();
    for s in dir.store.sessions(now).await? {
        if let Ok(address) = s.address.parse() {
            gate.start_session(
                address,
                Session {
                    user: s.username.as_str().into(),
                    device: s.device.as_deref().map(Into::into),
                    expires: s.expires_at,
                },
            );
        }
    }

    // The console's certificate is read before any port is bound.
    let console_tls = console_tls(&config)?;
    // So are the mail and webhook secrets (docs/alerts-delivery.md).
    let outbox = outbox(&dir, &config, config_path)?;

    let shutdown = CancellationToken::new();
    let mut edges = JoinSet::new();
    if let Some(address) = config.metrics.listen {
        let listener = bind_tcp("metrics", &[address]).await?.remove(0);
        edges.spawn(metrics::serve(listener, gate.clone(), shutdown.clone()));
    }
    let listener = bind_tcp("console", &[config.console.listen])
        .await?
        .remove(0);
    let console_url = console_url(&config, &listener, console_tls.is_some())?;
    // Monitoring, the schedule and the console read the school's time zone
    // from the policy in force, so a reload that changes it shows at once.
    let zone: crate::monitoring::ZoneInForce = Arc::new(EngineInForce(gate.clone()));
    let scheduler = crate::schedule::Scheduler::new(
        dir.store.clone(),
        outbox.clone(),
        &config,
        &console_url,
        zone.clone(),
    )?;
    let console_app = console_app(
        &dir,
        &config,
        &console_url,
        console_tls.is_some(),
        gate.clone(),
        zone.clone(),
    )
    .await?;
    edges.spawn(console::serve(
        listener,
        console_app,
        console_tls,
        shutdown.clone(),
    ));

    let proxy_listeners = bind_tcp("proxy", &config.proxy.listen).await?;
    if let Some(parent) = &config.proxy.parent {
        println!("proxy sends allowed traffic on through the parent proxy {parent}");
    }
    edges.spawn(proxy::serve(
        proxy_listeners,
        gate.clone(),
        dir.store.clone(),
        Arc::new(config.proxy.clone()),
        shutdown.clone(),
    ));

    if let Some(settings) = config.dns {
        let (udp, tcp) = bind_dns(&settings.listen).await?;
        edges.spawn(dns::serve(
            udp,
            tcp,
            gate.clone(),
            Arc::new(settings),
            shutdown.clone(),
        ));
    }

    let background = CancellationToken::new();
    let reloader = tokio::spawn(reload_loop(
        dir.clone(),
        gate.clone(),
        Duration::from_secs(config.reload.poll_seconds),
        background.clone(),
    ));
    let purger = tokio::spawn(purge_loop(
        dir.clone(),
        config.activity.retention_days,
        Duration::from_secs(u64::from(config.activity.purge_every_minutes) * 60),
        background.clone(),
    ));
    // Retention: safeguarding records past their period, once a day.
    let records_purger = tokio::spawn(records_purge_loop(
        dir.clone(),
        config.retention.schedule().unwrap_or_default(),
        background.clone(),
    ));
    let deliveries = notify::DeliveryWorker::spawn(outbox.clone(), OUTBOX_EVERY);
    let monitoring = crate::monitoring::Monitoring::spawn(
        dir.store.clone(),
        crate::datadir::DataDir::db_path(&dir.root),
        config.monitoring.clone(),
        zone,
        console_url.clone(),
        crate::monitoring::Outputs {
            outbox,
            wake: deliveries.waker(),
            metrics: gate.metrics.clone(),
        },
        background.clone(),
    );
    // Says so in the log when monitoring stops getting through the log.
    let monitor_watch = monitoring.as_ref().map(|_| {
        tokio::spawn(crate::monitoring::watch(
            gate.metrics.clone(),
            crate::monitoring::stall_limit(config.monitoring.poll_seconds),
            background.clone(),
        ))
    });
    // The digests and the weekly report, on a thread of their own.
    let schedule = scheduler
        .waking(deliveries.waker())
        .spawn(Timestamp::now, background.clone());
    println!(
        "schoolgate is running; Ctrl+C or SIGTERM stops it, SIGHUP reloads the policy and lists"
    );

    wait_for_stop().await;
    println!("stopping: finishing requests in flight");
    shutdown.cancel();
    let drained = tokio::time::timeout(GRACE, async {
        while let Some(result) = edges.join_next().await {
            match result {
                Ok(Err(e)) => tracing::error!(error = %e, "an edge stopped with an error"),
                Err(e) => tracing::error!(error = %e, "an edge failed"),
                Ok(Ok(())) => {}
            }
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!("some connections were still open after {GRACE:?} and were closed");
        edges.abort_all();
    }
    background.cancel();
    if let Some(monitoring) = monitoring {
        monitoring.finished().await;
    }
    if let Some(watch) = monitor_watch {
        let _ = watch.await;
    }
    if let Some(schedule) = schedule {
        let _ = schedule.await;
    }
    deliveries.shutdown(GRACE).await;
    let _ = reloader.await;
    let _ = purger.await;
    let _ = records_purger.await;
    activity.shut_down();
    let _ = writer.await;
    println!(
        "stopped; {} activity events written, {} dropped",
        activity.written(),
        activity.dropped()
    );
    dir.store.close().await;
    Ok(())
}

/// The console's address as people reach it (links in emails use it).
fn console_url(config: &Config, listener: &TcpListener, tls: bool) -> Result<String> {
    let bound = listener.local_addr()?;
    let scheme = if tls { "https" } else { "http" };
    Ok(match &config.console.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None if bound.ip().is_unspecified() => format!("{scheme}://localhost:{}", bound.port()),
        None => format!("{scheme}://{bound}"),
    })
}

/// The console's TLS configuration, when its files are configured.
fn console_tls(config: &Config) -> Result<Option<Arc<rustls::ServerConfig>>> {
    let c = &config.console;
    match (&c.tls_certificate, &c.tls_private_key) {
        (Some(certificate), Some(key)) => Ok(Some(
            console::serve::tls_config(certificate, key).map_err(|e| {
                Failure::usage(format!(
                    "console.tls_certificate and console.tls_private_key: {e}"
                ))
            })?,
        )),
        _ => Ok(None),
    }
}

/// The console for this data folder; prints the first-run link while there
/// is no administrator (there are no default credentials).
async fn console_app(
    dir: &DataDir,
    config: &Config,
    public_url: &str,
    tls: bool,
    gate: Arc<Gate>,
    zone: crate::monitoring::ZoneInForce,
) -> Result<axum::Router> {
    let public_url = public_url.to_owned();
    let mut settings = console::Settings::new(&public_url);
    settings.school_name = config.reports.school_name.clone();
    settings.school_platforms = config.reports.school_platforms.clone();
    settings.secure_cookies = tls || public_url.starts_with("https://");
    if let Some(link) = console::first_run_link(&dir.store, &public_url).await? {
        println!(
            "There is no console administrator yet. Open this one-time link within 24 hours to create one: {link}"
        );
        println!(
            "(Or use `schoolgate admin create-user USERNAME --name NAME --role administrator`.)"
        );
    }
    let console = Arc::new(
        console::Console::new(dir.store.clone(), settings)
            .with_checker(Arc::new(EngineInForce(gate)))
            .with_time_zone(zone),
    );
    Ok(console::app(console))
}

/// The console's "Test a URL" asks the engine the filter is using at that
/// moment, so its answers follow every reload; so does the school's time
/// zone everything shows times in.
struct EngineInForce(Arc<Gate>);

impl console::SchoolTimeZone for EngineInForce {
    fn time_zone(&self) -> jiff::tz::TimeZone {
        self.0.engine().time_zone().clone()
    }
}

impl console::UrlChecker for EngineInForce {
    fn check(
        &self,
        url: &str,
        profile: &str,
        at: Timestamp,
    ) -> Result<policy::Explanation, String> {
        console::explain_url(&self.0.engine(), url, profile, at)
    }
}

#[cfg(unix)]
async fn wait_for_stop() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}

#[cfg(not(unix))]
async fn wait_for_stop() {
    let _ = tokio::signal::ctrl_c().await;
}

/// Reloads on SIGHUP and when the audit trail moves.
async fn reload_loop(dir: DataDir, gate: Arc<Gate>, every: Duration, stop: CancellationToken) {
    let mut seen = dir.store.audit_high_water().await.unwrap_or(0);
    #[cfg(unix)]
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        #[cfg(unix)]
        let hangup_received = async {
            match hangup.as_mut() {
                Some(h) => {
                    h.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let hangup_received = std::future::pending::<()>();
        let forced = tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => false,
            () = hangup_received => true,
        };
        let mark = match dir.store.audit_high_water().await {
            Ok(mark) => mark,
            Err(e) => {
                tracing::error!(error = %e, "could not read the audit trail to look for changes");
                continue;
            }
        };
        if !forced && mark == seen {
            continue;
        }
        seen = mark;
        match reload(&dir, &gate).await {
            Ok(()) => {
                let engine = gate.engine();
                println!(
                    "reloaded: {} profiles, {} list entries{}",
                    engine.policy().profiles.len(),
                    engine.lists().index.entries(),
                    if forced { " (SIGHUP)" } else { "" }
                );
            }
            Err(e) => tracing::error!(
                error = format!("{e:#}"),
                "reload failed; the last good policy and lists stay in force"
            ),
        }
    }
}

/// Removes activity older than the retention period, now and then.
async fn purge_loop(dir: DataDir, retention_days: u32, every: Duration, stop: CancellationToken) {
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let before = Timestamp::now() - (i64::from(retention_days) * 24).hours();
        match dir.store.purge_activity(before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                removed = n,
                "purged activity older than {retention_days} days"
            ),
            Err(e) => tracing::error!(error = %e, "the activity purge failed; it will try again"),
        }
    }
}

/// Removes safeguarding records past their retention period, at start and
/// then once a day, and logs what went and why (never the content).
async fn records_purge_loop(
    dir: DataDir,
    schedule: records::RetentionSchedule,
    stop: CancellationToken,
) {
    let mut tick = tokio::time::interval(Duration::from_secs(24 * 60 * 60));
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        match super::retention::purge(&dir.store, &schedule, "schoolgate (daily purge)").await {
            Ok(report) => {
                let plan = records::PurgePlan {
                    remove: report.removed,
                    keep: report.kept,
                };
                tracing::info!(
                    purge = report.id,
                    "safeguarding records purge: {}",
                    super::retention::describe(&plan, true).trim_end()
                );
            }
            Err(e) => tracing::error!(
                error = %e,
                "the safeguarding records purge failed and removed nothing; it will try again tomorrow"
            ),
        }
    }
}

mod metrics {
    //! The Prometheus endpoint: `GET /metrics`.

    use std::sync::Arc;

    use bytes::Bytes;
    use gate::Gate;
    use http_body_util::Full;
    use hyper::{Request, Response, StatusCode};
    use hyper_util::rt::TokioIo;
    use tokio::net::TcpListener;
    use tokio_util::sync::CancellationToken;

    pub async fn serve(
        listener: TcpListener,
        gate: Arc<Gate>,
        shutdown: CancellationToken,
    ) -> std::io::Result<()> {
        loop {
            let (stream, _) = tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                accepted = listener.accept() => match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        tracing::warn!(error = %e, "metrics: could not accept a connection");
                        continue;
                    }
                },
            };
            let gate = gate.clone();
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
                        let gate = gate.clone();
                        async move { Ok::<_, std::convert::Infallible>(answer(&gate, &request)) }
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    }

    fn answer(gate: &Gate, request: &Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
        let (status, kind, body) = if request.uri().path() == "/metrics" {
            (
                StatusCode::OK,
                "text/plain; version=0.0.4; charset=utf-8",
                gate.metrics.render(&gate.activity.counts()),
            )
        } else {
            (
                StatusCode::NOT_FOUND,
                "text/plain; charset=utf-8",
                "Only /metrics is served here.\n".to_owned(),
            )
        };
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        if let Ok(value) = kind.parse() {
            response
                .headers_mut()
                .insert(hyper::header::CONTENT_TYPE, value);
        }
        response
    }
}

/// The outbox alerts and reports leave through: email when `[mail]` is
/// set up, and each `[[webhook]]`. Unreadable secrets stop `serve` here,
/// with status 64, before any port is bound.
fn outbox(
    dir: &DataDir,
    config: &Config,
    config_path: Option<&Path>,
) -> Result<Arc<notify::Outbox<store::sqlite::SqliteStore>>> {
    let file = config_path.map_or("the configuration".to_owned(), |p| p.display().to_string());
    let setup = |e: notify::SetupError| Failure::usage(format!("{file}: {e}"));
    let mailer = config
        .mail
        .as_ref()
        .map(notify::Mailer::new)
        .transpose()
        .map_err(setup)?;
    let webhooks = notify::Webhooks::new(&config.webhook).map_err(setup)?;
    let mut options = notify::DeliveryOptions::default();
    match &mailer {
        Some(mailer) => {
            options.max_per_minute = mailer.max_per_minute();
            println!("email through {}", mailer.server());
        }
        None => println!("email: off (no [mail] table)"),
    }
    if !config.webhook.is_empty() {
        println!("webhooks: {}", config.webhook.len());
    }
    Ok(Arc::new(notify::Outbox::new(
        dir.store.clone(),
        mailer,
        webhooks,
        options,
    )))
}
