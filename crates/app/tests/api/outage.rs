//! A PostgreSQL outage under load. The test puts a TCP proxy between the service and PostgreSQL
//! and cuts it for 10 s: connections in the pool break and new ones are refused, exactly as the
//! service sees a stopped server, without stopping the PostgreSQL that other tests share.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::hardening::assert_consistent;
use crate::helpers::{client, spawn_on, TestApp};

/// Forwards 127.0.0.1:port to PostgreSQL until cut; `restore` listens again on the same port.
struct Proxy {
    port: u16,
    upstream: String,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Self {
            port: listener.local_addr().unwrap().port(),
            upstream: upstream.to_owned(),
            tasks: Arc::default(),
        };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: TcpListener) {
        let (upstream, tasks) = (self.upstream.clone(), self.tasks.clone());
        let acceptor = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let pipe = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().unwrap().push(pipe);
            }
        });
        self.tasks.lock().unwrap().push(acceptor);
    }

    /// Stops listening and drops every open connection.
    fn cut(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    async fn restore(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.serve(listener);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_outage_answers_503_fast_and_recovers_without_a_restart() {
    let Some(database) = adapters_diesel::testing::TestDatabase::postgres() else {
        return;
    };
    database.open(); // migrate through the direct URL
    let url = database.url().to_owned();
    let (server_part, rest) = url.split_once("://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap();
    let (credentials, host) = authority
        .rsplit_once('@')
        .map_or(("", authority), |(c, h)| (c, h));
    let upstream = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    };
    let proxy = Proxy::start(&upstream).await;
    let at = if credentials.is_empty() {
        String::new()
    } else {
        format!("{credentials}@")
    };
    let proxied = format!("{server_part}://{at}127.0.0.1:{}/{path}", proxy.port);

    let db_for_app = adapters_diesel::testing::TestDatabase::sqlite();
    let address = spawn_on(
        &db_for_app,
        &[
            ("DATABASE_URL", proxied.as_str()),
            ("DATABASE_TIMEOUT_SECS", "2"),
        ],
    )
    .await;
    let app = TestApp {
        address: address.clone(),
        client: client(),
        database,
    };
    let olivia = app
        .register("Olivia", Some("olivia@example.com"), None)
        .await;
    let bob = app.register("Bob", Some("bob@example.com"), None).await;

    // Steady load: readers and a writer that creates events and answers invitations.
    let stop = Arc::new(AtomicBool::new(false));
    let down = Arc::new(AtomicBool::new(false));
    let slowest_while_down = Arc::new(Mutex::new(Duration::ZERO));
    let (ok, unavailable, other) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    let mut load = Vec::new();
    for worker in 0..4 {
        let (stop, down, slowest) = (stop.clone(), down.clone(), slowest_while_down.clone());
        let (ok, unavailable, other) = (ok.clone(), unavailable.clone(), other.clone());
        let (address, olivia, bob) = (address.clone(), olivia.clone(), bob.clone());
        load.push(tokio::spawn(async move {
            let client = client();
            let mut i = 0u32;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let started = Instant::now();
                let response = match worker {
                    0 => {
                        client
                            .post(format!("{address}/api/v1/events"))
                            .bearer_auth(&olivia.token)
                            .json(&json!({"title": format!("E{i}")}))
                            .send()
                            .await
                    }
                    1 => {
                        client
                            .get(format!(
                                "{address}/api/v1/received-invitations?status=pending"
                            ))
                            .bearer_auth(&bob.token)
                            .send()
                            .await
                    }
                    2 => {
                        client
                            .get(format!("{address}/api/v1/me"))
                            .bearer_auth(&olivia.token)
                            .send()
                            .await
                    }
                    _ => client.get(format!("{address}/health/ready")).send().await,
                };
                let elapsed = started.elapsed();
                let response = response.unwrap();
                let status = response.status().as_u16();
                let body: serde_json::Value = response.json().await.unwrap_or_default();
                match status {
                    200 | 201 => ok.fetch_add(1, Ordering::Relaxed),
                    503 => {
                        if worker != 3 {
                            assert_eq!(
                                body,
                                json!({"message": "Service temporarily unavailable."})
                            );
                        }
                        unavailable.fetch_add(1, Ordering::Relaxed)
                    }
                    _ => other.fetch_add(1, Ordering::Relaxed),
                };
                if down.load(Ordering::Relaxed) {
                    let mut slowest = slowest.lock().unwrap();
                    *slowest = (*slowest).max(elapsed);
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }));
    }

    // An event to invite to once the database is back.
    let event = app.create_event(&olivia, "Outage").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = ok.load(Ordering::Relaxed);

    down.store(true, Ordering::Relaxed);
    proxy.cut();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let during_unavailable = unavailable.load(Ordering::Relaxed);
    let during_ok = ok.load(Ordering::Relaxed) - before;
    let ready = client()
        .get(format!("{address}/health/ready"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(ready, 503);
    down.store(false, Ordering::Relaxed);
    proxy.restore().await;
    let restored = Instant::now();

    let mut recovered = None;
    while restored.elapsed() < Duration::from_secs(10) {
        let status = app.get("/api/v1/me", &olivia.token).await.status;
        if status == 200 {
            recovered = Some(restored.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }
    let slowest = *slowest_while_down.lock().unwrap();
    eprintln!(
        "outage: 10 s cut; {during_unavailable} answers 503 (slowest {:.2} s), {during_ok} 2xx while down, {} other; recovered {:.2} s after restore",
        slowest.as_secs_f64(),
        other.load(Ordering::Relaxed),
        recovered.map_or(f64::NAN, |d| d.as_secs_f64())
    );
    assert!(during_unavailable > 0);
    assert!(
        slowest < Duration::from_secs(3),
        "a request took {slowest:?} while the database was down"
    );
    assert_eq!(other.load(Ordering::Relaxed), 0);
    let recovered = recovered.expect("the service answers again without a restart");
    assert!(recovered < Duration::from_secs(5), "{recovered:?}");

    // Nothing half-written: every invitation answered has its membership.
    let id = app
        .send(&olivia, &event, json!(["bob@example.com"]))
        .await
        .body["data"]["sent"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.answer(&bob, &id, "accepted").await.expect(200);
    assert_consistent(&app);
    drop(db_for_app);
}
