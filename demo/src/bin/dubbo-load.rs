//! `dubbo-load --target ADDR`: a Dubbo2 load generator on the demo's codec, the direct baseline of the
//! Dubbo benchmark (no off-the-shelf tool speaks Dubbo2). It calls `UserService.getUser(42)`, encoded
//! once, over persistent connections, each with up to `--depth` requests in flight under distinct ids.
//! Closed loop by default; with `--rate` the total rate is spread evenly over the connections and latency
//! is measured from each request's scheduled send time, so a stalled provider shows as latency instead of
//! as fewer requests (coordinated omission). One thread, pinned by whoever runs it. Prints one JSON line.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anyhow::{Context as _, bail, ensure};
use clap::Parser;
use dubbo_codec::frame::{self, FLAG_REQUEST, FLAG_TWO_WAY, HESSIAN2, PAYLOAD_LIMIT, STATUS_OK};
use dubbo_codec::hessian2::{Decoder, Value};
use dubbo_codec::request::{self as call, Call};
use dubbo_codec::response as reply;
use gateway_demo::dubbo::users;
use gateway_demo::dubbo::wire::read_frame;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::Semaphore;
use tokio::time::Instant;

#[derive(Parser, Debug)]
#[command(about = "Dubbo2 load generator: getUser(long) over pipelined persistent connections")]
struct Flags {
    /// The provider, `host:port`.
    #[arg(long)]
    target: String,
    /// Persistent connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Requests in flight per connection, each under its own id.
    #[arg(long, default_value_t = 1)]
    depth: usize,
    /// How long to measure, after the warm-up.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// How long to load before measuring; requests sent then are not counted.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    warmup: Duration,
    /// A fixed total rate in requests per second; as fast as answers come back when absent.
    #[arg(long)]
    rate: Option<f64>,
    /// The `getUser` argument.
    #[arg(long, default_value_t = 42)]
    user_id: i64,
    /// The service version asked for.
    #[arg(long, default_value = users::VERSION)]
    version: String,
    /// With `--rate`, measure latency from when each request was written rather than from when it was
    /// due, as h2load does: for comparing against a gateway measured with h2load. A late send then
    /// hides a stall instead of showing it, so this is for comparisons, not for judging a provider.
    #[arg(long)]
    from_send: bool,
    /// How long answers still due at the end are waited for; those that do not come are errors.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    grace: Duration,
}

/// When things happen, shared by every connection.
#[derive(Debug, Clone, Copy)]
struct Plan {
    start: Instant,
    /// Requests sent (or due) from here to `end` are counted.
    measure: Instant,
    end: Instant,
    /// Between one connection's sends in fixed-rate mode.
    interval: Option<Duration>,
    depth: usize,
    grace: Duration,
    from_send: bool,
}

impl Plan {
    fn counts(&self, started: Instant) -> bool {
        started >= self.measure && started < self.end
    }
}

/// One connection's requests in flight, by id, with the instant each was sent or due.
#[derive(Default)]
struct InFlight {
    started: HashMap<u64, Instant>,
    /// The sender has stopped: once `started` empties there is nothing left to wait for.
    done: bool,
}

#[derive(Debug, Default)]
struct Tally {
    ok: u64,
    errors: u64,
    /// Of OK answers, in µs.
    latencies_us: Vec<u32>,
    /// Connections closed or broken before the end.
    lost_connections: u64,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.ok += other.ok;
        self.errors += other.errors;
        self.latencies_us.extend(other.latencies_us);
        self.lost_connections += other.lost_connections;
    }
}

fn main() -> anyhow::Result<()> {
    let flags = Flags::parse();
    ensure!(
        flags.connections > 0 && flags.depth > 0,
        "--connections and --depth must be at least 1"
    );
    ensure!(!flags.duration.is_zero(), "--duration must be above zero");
    if let Some(rate) = flags.rate {
        ensure!(rate.is_finite() && rate > 0.0, "--rate must be above zero");
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(run(flags))
}

async fn run(flags: Flags) -> anyhow::Result<()> {
    let request = get_user_frame(flags.user_id, &flags.version);
    probe(&flags.target, &request)
        .await
        .with_context(|| format!("a first getUser call to {}", flags.target))?;

    let mut streams = Vec::with_capacity(flags.connections);
    for _ in 0..flags.connections {
        let stream = TcpStream::connect(&flags.target)
            .await
            .with_context(|| format!("connecting to {}", flags.target))?;
        stream.set_nodelay(true)?;
        streams.push(stream);
    }
    // A moment ahead, so every connection's schedule starts from the same instant.
    let start = Instant::now() + Duration::from_millis(10);
    let measure = start + flags.warmup;
    let plan = Plan {
        start,
        measure,
        end: measure + flags.duration,
        interval: flags
            .rate
            .map(|rate| Duration::from_secs_f64(flags.connections as f64 / rate)),
        depth: flags.depth,
        grace: flags.grace,
        from_send: flags.from_send,
    };
    let count = streams.len();
    let tasks: Vec<_> = streams
        .into_iter()
        .enumerate()
        .map(|(index, stream)| {
            // Connections start their fixed-rate schedules spread over one interval, not all at once.
            let offset = plan
                .interval
                .map(|every| every.mul_f64(index as f64 / count as f64));
            tokio::spawn(connection(stream, request.clone(), offset, plan))
        })
        .collect();
    let mut tally = Tally::default();
    for task in tasks {
        tally.add(task.await?);
    }
    println!("{}", report(tally, &flags));
    Ok(())
}

/// `getUser(id)` as a two-way request frame; the id field is rewritten per send.
fn get_user_frame(id: i64, version: &str) -> Vec<u8> {
    let text = |s: &str| s.to_string();
    let body = call::encode(&Call {
        dubbo_version: text("2.0.2"),
        service: text(users::SERVICE),
        version: text(version),
        method: text("getUser"),
        descriptor: text("J"),
        arguments: vec![Value::Long(id)],
        attachments: vec![
            (text("path"), text(users::SERVICE)),
            (text("interface"), text(users::SERVICE)),
            (text("version"), text(version)),
            (text("timeout"), text("3000")),
        ],
    });
    frame::encode(FLAG_REQUEST | FLAG_TWO_WAY | HESSIAN2, 0, 0, &body)
}

/// One call, its answer decoded in full: a run against a provider that answers something else would
/// measure nothing useful. Per request, the run itself checks only status and result flag.
async fn probe(target: &str, request: &[u8]) -> anyhow::Result<()> {
    let mut stream = TcpStream::connect(target).await?;
    stream.write_all(request).await?;
    let mut body = Vec::new();
    let read = read_frame(&mut stream, PAYLOAD_LIMIT, &mut body);
    let header = tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .context("no answer within 5s")??
        .context("closed without answering")?;
    let mut decoder = Decoder::new(&body);
    let first = decoder.read();
    if header.status != STATUS_OK {
        bail!("status {}: {first:?}", header.status);
    }
    match (first, decoder.read()) {
        (Ok(Value::Int(1 | 4)), Ok(Value::Object(_))) => Ok(()),
        (flag, value) => bail!("expected a User object, got flag {flag:?} and {value:?}"),
    }
}

/// Drives one connection: a sender task keeps requests going out, this task reads the answers.
async fn connection(
    stream: TcpStream,
    request: Vec<u8>,
    offset: Option<Duration>,
    plan: Plan,
) -> Tally {
    let (read, write) = stream.into_split();
    let in_flight = Arc::new(Mutex::new(InFlight::default()));
    let permits = Arc::new(Semaphore::new(plan.depth));
    let sender = tokio::spawn(send(
        write,
        request,
        offset,
        plan,
        in_flight.clone(),
        permits.clone(),
    ));
    let mut tally = receive(read, plan, &in_flight, &permits).await;
    // A sender waiting for a slot that will never free stops now.
    permits.close();
    match sender.await {
        // The write half is dropped (and the connection closed) only now that reading is over.
        Ok((_write, send_failed)) => tally.errors += u64::from(send_failed),
        Err(_) => tally.errors += 1,
    }
    tally
}

/// Sends until the end of the run: whenever a slot is free (closed loop), or at fixed intervals once one
/// is. Returns the write half, to be closed after the answers are in, and whether a write failed.
async fn send(
    mut write: OwnedWriteHalf,
    mut request: Vec<u8>,
    offset: Option<Duration>,
    plan: Plan,
    in_flight: Arc<Mutex<InFlight>>,
    permits: Arc<Semaphore>,
) -> (OwnedWriteHalf, bool) {
    let mut due = offset.map(|offset| plan.start + offset);
    let mut id = 0u64;
    tokio::time::sleep_until(plan.start).await;
    let failed = loop {
        if let Some(due) = due {
            if due >= plan.end {
                break false;
            }
            tokio::time::sleep_until(due).await;
        }
        match tokio::time::timeout_at(plan.end, permits.acquire()).await {
            Ok(Ok(permit)) => permit.forget(),
            _ => break false,
        }
        let now = Instant::now();
        if now >= plan.end {
            break false;
        }
        // From when it was due, not when it went out: time spent waiting for a slot is latency too.
        let started = match due {
            Some(due) if !plan.from_send => due,
            _ => now,
        };
        if let (Some(due), Some(every)) = (&mut due, plan.interval) {
            *due += every;
        }
        id += 1;
        request[4..12].copy_from_slice(&id.to_be_bytes());
        lock(&in_flight).started.insert(id, started);
        if write.write_all(&request).await.is_err() {
            break true;
        }
    };
    let idle = {
        let mut state = lock(&in_flight);
        state.done = true;
        state.started.is_empty()
    };
    // Nothing due: closing our side makes the provider close its side, which ends the reader.
    if idle {
        let _ = write.shutdown().await;
    }
    (write, failed)
}

/// Reads answers until the sender is done and nothing is due, the provider closes, or the grace time
/// after the end runs out.
async fn receive(
    read: OwnedReadHalf,
    plan: Plan,
    in_flight: &Mutex<InFlight>,
    permits: &Semaphore,
) -> Tally {
    let mut reader = BufReader::new(read);
    let mut body = Vec::new();
    let mut tally = Tally::default();
    let deadline = plan.end + plan.grace;
    loop {
        let read = read_frame(&mut reader, PAYLOAD_LIMIT, &mut body);
        let header = match tokio::time::timeout_at(deadline, read).await {
            Ok(Ok(Some(header))) => header,
            Ok(Ok(None)) | Ok(Err(_)) => {
                if Instant::now() < plan.end {
                    tally.lost_connections += 1;
                }
                break;
            }
            Err(_) => break,
        };
        // A provider's own heartbeat requests (sent after a minute of silence, which a run never has)
        // and heartbeat answers are not answers to calls.
        if header.is_request() || header.is_event() {
            continue;
        }
        let now = Instant::now();
        let (started, finished) = {
            let mut state = lock(in_flight);
            let started = state.started.remove(&header.id);
            (started, state.done && state.started.is_empty())
        };
        if let Some(started) = started {
            permits.add_permits(1);
            if plan.counts(started) {
                if header.status == STATUS_OK && reply::is_value_or_null(&body) {
                    tally.ok += 1;
                    let micros = (now - started).as_micros();
                    tally
                        .latencies_us
                        .push(u32::try_from(micros).unwrap_or(u32::MAX));
                } else {
                    tally.errors += 1;
                }
            }
        }
        if finished {
            break;
        }
    }
    // Whatever is still due never came.
    let state = lock(in_flight);
    let unanswered = state.started.values().filter(|s| plan.counts(**s)).count();
    tally.errors += unanswered as u64;
    tally
}

fn lock(in_flight: &Mutex<InFlight>) -> MutexGuard<'_, InFlight> {
    in_flight
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The JSON line: counts, OK answers per second of measurement, latency percentiles of OK answers.
fn report(mut tally: Tally, flags: &Flags) -> String {
    tally.latencies_us.sort_unstable();
    let latencies = &tally.latencies_us;
    let pick = |q: f64| {
        let at = ((q * latencies.len() as f64) as usize).min(latencies.len().saturating_sub(1));
        latencies.get(at).copied().unwrap_or(0)
    };
    let rate = flags
        .rate
        .map_or_else(|| "null".to_string(), |rate| rate.to_string());
    format!(
        concat!(
            r#"{{"requests":{},"ok":{},"errors":{},"rps":{:.1},"p50_us":{},"p90_us":{},"p99_us":{},"#,
            r#""max_us":{},"connections":{},"depth":{},"rate":{},"duration_s":{:.3},"lost_connections":{}}}"#
        ),
        tally.ok + tally.errors,
        tally.ok,
        tally.errors,
        tally.ok as f64 / flags.duration.as_secs_f64(),
        pick(0.50),
        pick(0.90),
        pick(0.99),
        latencies.last().copied().unwrap_or(0),
        flags.connections,
        flags.depth,
        rate,
        flags.duration.as_secs_f64(),
        tally.lost_connections,
    )
}
