//! The console's benchmark (scripts/bench-console.sh runs it; build it with
//! `--release`).
//!
//! * `seed DB EVENTS PEOPLE` makes a store with EVENTS activity events and
//!   PEOPLE people: school-hours times over the last term (13 weeks, Monday
//!   to Friday, 08:30 to 15:30, ending today), 5% blocked and 1% safe
//!   search, categories from the taxonomy, 90% identified. The rows are
//!   made inside SQLite in one transaction; the log's indexes and the
//!   category side table are rebuilt afterwards, as the migrations define
//!   them.
//! * `run DB REQUESTS` serves the console on a loopback port and asks each
//!   page REQUESTS times over real HTTP/1.1 (one kept connection, one
//!   request at a time), printing p50 / p95 / p99 per page as Markdown.
//! * `insert-cost EVENTS` times `Store::record_activity` (batches of 1,000,
//!   as the activity writer sends them, through its own connection) on a
//!   fresh store, seven times.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, Request, header};
use console::{Console, Settings};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use jiff::{SignedDuration, Timestamp, ToSpan};
use sqlx::Row;
use store::sqlite::SqliteStore;
use store::{ActivityEvent, NewConsoleAccount, Source, Store};

type Failure = Box<dyn std::error::Error + Send + Sync>;

const BLOCKED_CATEGORIES: &[&str] = &[
    "pornography",
    "gambling",
    "games",
    "social-networking",
    "violence",
    "self-harm",
    "proxy",
    "vpn",
    "chat",
    "dating",
    "drugs",
    "malware-hacking",
];
const ALLOWED_CATEGORIES: &[&str] = &[
    "education",
    "news",
    "sport",
    "shopping",
    "streaming",
    "translation",
    "cooking",
    "religion",
    "finance",
];

fn sql_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|c| format!("'{c}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The Monday 13 weeks before today (UTC), and the number of school days.
fn term() -> (Timestamp, i64) {
    let today = Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let monday = today
        .checked_sub((today.weekday().to_monday_zero_offset() as i64).days())
        .and_then(|d| d.checked_sub(12.weeks()))
        .expect("a date");
    let start = monday
        .to_zoned(jiff::tz::TimeZone::UTC)
        .expect("midnight")
        .timestamp();
    (start, 13 * 5)
}

async fn seed(db: &Path, events: i64, people: i64) -> Result<(), Failure> {
    if db.exists() {
        return Err(format!("{} exists already; remove it first", db.display()).into());
    }
    let store = SqliteStore::open(db).await?;
    let pool = store.pool().clone();
    let started = Instant::now();
    let mut conn = pool.acquire().await?;
    sqlx::query("PRAGMA synchronous = OFF")
        .execute(&mut *conn)
        .await?;
    sqlx::query("PRAGMA cache_size = -512000")
        .execute(&mut *conn)
        .await?;
    // What the migrations built on the log, to build again after the rows.
    let rebuild: Vec<String> = sqlx::query(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'activity' AND type IN ('index', 'trigger') \
         AND sql IS NOT NULL ORDER BY type = 'trigger'",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| r.get::<String, _>("sql"))
    .collect();
    let names: Vec<(String, String)> = sqlx::query(
        "SELECT type, name FROM sqlite_master WHERE tbl_name = 'activity' AND type IN ('index', 'trigger') AND sql IS NOT NULL",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| (r.get("type"), r.get("name")))
    .collect();
    for (kind, name) in &names {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP {} {name}",
            kind.to_uppercase()
        )))
        .execute(&mut *conn)
        .await?;
    }

    let (start, days) = term();
    let day_us: i64 = 86_400_000_000;
    let school_day_us: i64 = 7 * 3_600_000_000;
    let opening_us: i64 = 8 * 3_600_000_000 + 30 * 60_000_000;
    let step = (days * school_day_us) as f64 / events as f64;
    let now = Timestamp::now().to_string();
    sqlx::query("BEGIN").execute(&mut *conn).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {people})
         INSERT INTO person (username, display_name, profile, disabled, created_at)
         SELECT printf('p%05d', i), printf('Pupil %05d', i),
                CASE WHEN i % 10 = 0 THEN 'staff' WHEN i % 3 = 0 THEN 'eyfs-ks1' ELSE 'ks2' END,
                0, '{now}'
         FROM n"
    )))
    .execute(&mut *conn)
    .await?;
    let blocked = sql_list(BLOCKED_CATEGORIES);
    let allowed = sql_list(ALLOWED_CATEGORIES);
    let (nb, na) = (BLOCKED_CATEGORIES.len(), ALLOWED_CATEGORIES.len());
    // Each event's school time in order, spread over the school days.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {events} - 1),
         e AS MATERIALIZED (SELECT i, CAST(i * {step} AS INTEGER) AS s, abs(random()) AS r1, abs(random()) AS r2, abs(random()) AS r3 FROM n),
         t AS (SELECT i, r1, r2, r3,
                      {start_us} + ((s / {school_day_us}) / 5) * 7 * {day_us} + ((s / {school_day_us}) % 5) * {day_us}
                        + {opening_us} + s % {school_day_us} AS at_us,
                      r1 % 1000 AS v,
                      printf('site%d.example', r2 % 20000) AS host
               FROM e)
         INSERT INTO activity (at_us, source, client_ip, username, device, profile, method, url, host,
                               search_term, categories, verdict, rule, status, bytes, duration_ms, reference)
         SELECT at_us,
                CASE WHEN r3 % 10 < 3 THEN 'dns' ELSE 'proxy' END,
                printf('10.%d.%d.%d', r3 % 4, (r3 / 4) % 256, (r3 / 1024) % 254 + 1),
                CASE WHEN r1 % 10 = 9 THEN NULL ELSE printf('p%05d', (r2 / 7) % {people} + 1) END,
                printf('DEV-%04d', (r2 / 7) % 5000),
                'ks2',
                CASE WHEN r3 % 10 < 3 THEN 'A' ELSE 'GET' END,
                'https://' || host || '/page/' || (r3 % 1000),
                host,
                CASE WHEN r2 % 50 = 0 THEN printf('search words %d', r3 % 5000) END,
                CASE WHEN v < 50 THEN json_extract(json_array({blocked}), '$[' || (r2 % {nb}) || ']')
                     WHEN r2 % 10 < 4 THEN json_extract(json_array({allowed}), '$[' || (r3 % {na}) || ']')
                     ELSE '' END,
                CASE WHEN v < 50 THEN 'block' WHEN v < 60 THEN 'safe-search' ELSE 'allow' END,
                CASE WHEN v < 50 THEN 'category' ELSE 'default' END,
                CASE WHEN v < 50 THEN 403 ELSE 200 END,
                r3 % 100000,
                r1 % 300,
                CASE WHEN v < 50 THEN printf('SG-%04X-%04X', r1 % 65536, r2 % 65536) END
         FROM t",
        start_us = start.as_microsecond(),
    )))
    .execute(&mut *conn)
    .await?;
    sqlx::query("COMMIT").execute(&mut *conn).await?;
    let rows_done = started.elapsed();
    for sql in &rebuild {
        sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .execute(&mut *conn)
            .await?;
    }
    // The side table the trigger would have filled, from the migration.
    sqlx::query(
        "INSERT OR IGNORE INTO activity_category (category, at_us, activity_id)
         SELECT j.value, a.at_us, a.id
         FROM activity a,
              json_each(CASE WHEN json_valid('[\"' || replace(a.categories, ',', '\",\"') || '\"]')
                             THEN '[\"' || replace(a.categories, ',', '\",\"') || '\"]'
                             ELSE '[]' END) j
         WHERE a.categories <> '' AND j.value <> ''",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query("ANALYZE").execute(&mut *conn).await?;
    drop(conn);
    store.close().await;
    println!(
        "seeded {events} events and {people} people in {:.1} s (rows {:.1} s, indexes and side table {:.1} s)",
        started.elapsed().as_secs_f64(),
        rows_done.as_secs_f64(),
        (started.elapsed() - rows_done).as_secs_f64()
    );
    Ok(())
}

/// One kept HTTP/1.1 connection.
struct Client {
    sender: hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
    cookie: String,
}

impl Client {
    async fn connect(address: SocketAddr, cookie: String) -> Result<Client, Failure> {
        let stream = tokio::net::TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(Client { sender, cookie })
    }

    /// The time to the whole answer, and its status and size.
    async fn get(&mut self, path: &str) -> Result<(Duration, u16, usize), Failure> {
        let request = Request::get(path)
            .header(header::HOST, "127.0.0.1")
            .header(header::COOKIE, &self.cookie)
            .body(Empty::<Bytes>::new())?;
        let started = Instant::now();
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((started.elapsed(), status, body.len()))
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

/// A small, fixed pseudo-random sequence, so runs ask the same things.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

async fn run(db: &Path, requests: usize) -> Result<(), Failure> {
    let store = SqliteStore::open(db).await?;
    let (events, people): (i64, i64) = {
        let a = sqlx::query("SELECT max(id) AS n FROM activity")
            .fetch_one(store.pool())
            .await?
            .try_get::<Option<i64>, _>("n")?
            .unwrap_or(0);
        let p = sqlx::query("SELECT count(*) AS n FROM person")
            .fetch_one(store.pool())
            .await?
            .get("n");
        (a, p)
    };
    let (oldest, newest): (i64, i64) = {
        let row = sqlx::query("SELECT min(at_us) AS a, max(at_us) AS b FROM activity")
            .fetch_one(store.pool())
            .await?;
        (
            row.try_get::<Option<i64>, _>("a")?.unwrap_or(0),
            row.try_get::<Option<i64>, _>("b")?.unwrap_or(0),
        )
    };
    if store.console_account("bench.dsl").await?.is_none() {
        store
            .add_console_account(
                &NewConsoleAccount {
                    username: "bench.dsl".into(),
                    display_name: "Benchmark DSL".into(),
                    email: None,
                    role: "dsl".into(),
                    person: None,
                    password_hash: None,
                },
                "benchmark",
            )
            .await?;
        let secret = console::two_factor::new_secret()?;
        store.begin_two_factor("bench.dsl", &secret).await?;
        store.confirm_two_factor("bench.dsl", 0).await?;
        if store.current_policy().await?.is_none() {
            store
                .save_policy(
                    &policy::defaults::default_policy(),
                    "benchmark",
                    "the first policy",
                )
                .await?;
        }
        for i in 0..300 {
            store
                .save_review_request(&store::ReviewRequest {
                    id: 0,
                    at: Timestamp::now(),
                    reference: format!("SG-{:04X}-0000", i),
                    url: format!("https://site{i}.example/"),
                    profile: "ks2".into(),
                    rule: "category:games".into(),
                    client_ip: "10.0.0.9".into(),
                    username: Some(format!("p{:05}", i + 1)),
                    device: None,
                    message: "For a lesson".into(),
                    status: "open".into(),
                })
                .await?;
        }
    }
    let mut settings = Settings::new("http://127.0.0.1");
    settings.idle_timeout = SignedDuration::from_hours(10);
    let console = Arc::new(Console::new(store.clone(), settings));
    let token =
        console::session::start(&console, "bench.dsl", false, &HeaderMap::new(), "127.0.0.1")
            .await
            .map_err(|e| format!("no session: {}", e.message()))?;
    let app = console::app(console.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    let mut client = Client::connect(address, format!("sg_session={token}")).await?;

    let week_ago = Timestamp::from_microsecond(newest)?
        .checked_sub(SignedDuration::from_hours(24 * 7))?
        .to_zoned(console.settings.time_zone.clone())
        .strftime("%Y-%m-%dT%H:%M")
        .to_string();
    let span = (newest - oldest).max(1) as u64;
    let mut dice = Dice(0x5eed_cafe_f00d);
    let people = people.max(1) as u64;
    type Target = Box<dyn FnMut(&mut Dice) -> String>;
    let mut pages: Vec<(&str, Target)> = vec![
        (
            "activity search, no filter",
            Box::new(|_| "/activity".to_owned()),
        ),
        (
            "activity search, by person",
            Box::new(move |d| format!("/activity?person=p{:05}", d.roll(people) + 1)),
        ),
        (
            "activity search, category in the last week",
            Box::new(move |d| {
                let all: Vec<&str> = BLOCKED_CATEGORIES
                    .iter()
                    .chain(ALLOWED_CATEGORIES)
                    .copied()
                    .collect();
                format!(
                    "/activity?category={}&from={week_ago}",
                    all[d.roll(all.len() as u64) as usize]
                )
            }),
        ),
        (
            "activity search, blocked in a time range",
            Box::new({
                let zone = console.settings.time_zone.clone();
                move |d| {
                    let from = oldest + d.roll(span) as i64;
                    let show = |us: i64| {
                        Timestamp::from_microsecond(us)
                            .map(|t| {
                                t.to_zoned(zone.clone())
                                    .strftime("%Y-%m-%dT%H:%M")
                                    .to_string()
                            })
                            .unwrap_or_default()
                    };
                    format!(
                        "/activity?verdict=block&from={}&to={}",
                        show(from),
                        show(from + 3 * 86_400_000_000)
                    )
                }
            }),
        ),
        (
            "activity search, a page deep in the log",
            Box::new(move |d| {
                let at = oldest + d.roll(span) as i64;
                format!("/activity?before={at}.{}", events + 1)
            }),
        ),
        (
            "person timeline",
            Box::new(move |d| format!("/activity/people/p{:05}", d.roll(people) + 1)),
        ),
        ("people list", Box::new(|_| "/people".to_owned())),
        ("review requests", Box::new(|_| "/reviews".to_owned())),
        ("home page", Box::new(|_| "/".to_owned())),
    ];
    println!("| page | requests | p50 ms | p95 ms | p99 ms | max ms | mean KiB |");
    println!("|---|---|---|---|---|---|---|");
    let mut worst_p95: f64 = 0.0;
    for (label, path) in pages.iter_mut() {
        // Two warm-up requests, not counted.
        for _ in 0..2 {
            client.get(&path(&mut dice)).await?;
        }
        let mut times = Vec::with_capacity(requests);
        let mut bytes = 0;
        let mut missing = false;
        for _ in 0..requests {
            let target = path(&mut dice);
            let (took, status, size) = client.get(&target).await?;
            if status == 404 {
                missing = true;
                break;
            }
            if status != 200 {
                return Err(format!("{target} answered {status}").into());
            }
            times.push(took);
            bytes += size;
        }
        if missing {
            println!("| {label} | – | not in this build | | | | |");
            continue;
        }
        times.sort();
        let p95 = percentile(&times, 95.0);
        worst_p95 = worst_p95.max(p95);
        println!(
            "| {label} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.0} |",
            times.len(),
            percentile(&times, 50.0),
            p95,
            percentile(&times, 99.0),
            times.last().map_or(0.0, |t| t.as_secs_f64() * 1000.0),
            bytes as f64 / times.len() as f64 / 1024.0
        );
    }
    println!();
    println!("worst p95: {worst_p95:.1} ms");
    Ok(())
}

fn event(i: usize) -> ActivityEvent {
    let blocked = i.is_multiple_of(20);
    ActivityEvent {
        at: Timestamp::now(),
        source: Source::Proxy,
        client_ip: format!("10.0.{}.{}", i % 200, i % 250 + 1),
        username: Some(format!("p{:05}", i % 50_000)),
        device: Some(format!("DEV-{:04}", i % 5000)),
        profile: "ks2".into(),
        method: "GET".into(),
        url: format!("https://site{}.example/page/{i}", i % 20_000),
        host: format!("site{}.example", i % 20_000),
        search_term: None,
        categories: if blocked {
            "gambling".into()
        } else if i % 10 < 4 {
            "education".into()
        } else {
            String::new()
        },
        verdict: if blocked { "block" } else { "allow" }.into(),
        rule: "default".into(),
        status: Some(200),
        bytes: 1000,
        duration_ms: 20,
        reference: None,
    }
}

/// One timed run of `record_activity` on a fresh store, through the
/// writer's own connection as `serve` writes.
async fn timed_insert(batches: &[Vec<ActivityEvent>]) -> Result<f64, Failure> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("schoolgate.db");
    let opened = SqliteStore::open(&path).await?;
    let store = SqliteStore::open_writer(&path).await?;
    let started = Instant::now();
    for events in batches {
        store.record_activity(events).await?;
    }
    let took = started.elapsed().as_secs_f64();
    store.close().await;
    opened.close().await;
    Ok(took)
}

async fn insert_cost(events: usize) -> Result<(), Failure> {
    let batches: Vec<Vec<ActivityEvent>> = (0..events)
        .map(event)
        .collect::<Vec<_>>()
        .chunks(1000)
        .map(<[ActivityEvent]>::to_vec)
        .collect();
    let mut times = Vec::new();
    for _ in 0..7 {
        times.push(timed_insert(&batches).await?);
    }
    times.sort_by(f64::total_cmp);
    let (fastest, median, slowest) = (times[0], times[times.len() / 2], times[times.len() - 1]);
    println!(
        "{events} events in {median:.2} s ({:.0} events/s, median of 7; {:.0} to {:.0})",
        events as f64 / median,
        events as f64 / slowest,
        events as f64 / fastest
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, what: &str| -> Result<i64, Failure> {
        args.get(i)
            .ok_or_else(|| format!("give {what}"))?
            .replace('_', "")
            .parse::<i64>()
            .map_err(|e| format!("{what}: {e}").into())
    };
    match args.first().map(String::as_str) {
        Some("seed") => {
            let db = args.get(1).ok_or("give the database path")?;
            seed(
                Path::new(db),
                number(2, "the number of events")?,
                number(3, "the number of people")?,
            )
            .await
        }
        Some("run") => {
            let db = args.get(1).ok_or("give the database path")?;
            run(
                Path::new(db),
                number(2, "the number of requests per page")? as usize,
            )
            .await
        }
        Some("insert-cost") => insert_cost(number(1, "the number of events")? as usize).await,
        _ => Err(
            "usage: bench_console seed DB EVENTS PEOPLE | run DB REQUESTS | insert-cost EVENTS"
                .into(),
        ),
    }
}
