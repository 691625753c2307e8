//! `spawn_app`: the real service on a random port over a fresh database, and a client with one
//! helper per endpoint.

use adapters_diesel::testing::TestDatabase;
use adapters_diesel::Backend;
use app::config::Config;
use app::startup::Application;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

/// Declares each named test once per backend, `sqlite::name` and `postgres::name`, each running
/// the plain `async fn name(app: TestApp)` of the same module on a fresh service. For every test
/// whose requests reach storage. The PostgreSQL one passes without running when
/// `TEST_DATABASE_URL` is unset (and fails in CI).
macro_rules! api_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::helpers::run_on(adapters_diesel::Backend::Sqlite, super::$name).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::helpers::run_on(adapters_diesel::Backend::Postgres, super::$name).await
                }
            )*
        }
    };
}
pub(crate) use api_tests;

/// Declares each named test once, on SQLite (`once::name`): for answers that do not depend on the
/// backend because the request never reaches storage (validation, framework errors, headers).
macro_rules! api_tests_once {
    ($($name:ident),* $(,)?) => {
        mod once {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::helpers::run_on(adapters_diesel::Backend::Sqlite, super::$name).await
                }
            )*
        }
    };
}
pub(crate) use api_tests_once;

/// Runs `test` on a fresh service over `backend`; on PostgreSQL only where `TEST_DATABASE_URL`
/// names one (see [`spawn_app`]).
pub(crate) async fn run_on<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let app = spawn_app(backend).await;
    match (backend, app) {
        (_, Some(app)) => test(app).await,
        (Backend::Sqlite, None) => panic!("SQLite needs no configuration"),
        (Backend::Postgres, None) => {}
    }
}

/// A running service and its database.
pub(crate) struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub database: TestDatabase,
}

/// A registered user and their token.
#[derive(Clone, Debug)]
pub(crate) struct TestUser {
    pub id: String,
    pub token: String,
}

/// Starts the service on `backend` (`None` for PostgreSQL without `TEST_DATABASE_URL`, outside CI).
pub(crate) async fn spawn_app(backend: Backend) -> Option<TestApp> {
    let database = TestDatabase::new(backend)?;
    let app = spawn_on(&database, &[]).await;
    Some(TestApp {
        address: app,
        client: client(),
        database,
    })
}

/// Starts one more service process on an existing database, with extra variables.
pub(crate) async fn spawn_on(database: &TestDatabase, vars: &[(&str, &str)]) -> String {
    let app = build_on(database, vars).await;
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    address
}

/// Builds (does not run) a service on an existing database, with extra variables.
pub(crate) async fn build_on(database: &TestDatabase, vars: &[(&str, &str)]) -> Application {
    let mut all: Vec<(String, String)> = vec![
        ("DATABASE_URL".into(), database.url().to_owned()),
        ("BIND_ADDR".into(), "127.0.0.1:0".into()),
        ("DATABASE_POOL_SIZE".into(), "8".into()),
        ("HTTP_WORKERS".into(), "2".into()),
        // Every test client registers from 127.0.0.1; tests of the limit set their own.
        ("REGISTRATIONS_PER_ADDRESS".into(), "0".into()),
        // No email or text is written to the working directory's outbox (the repository's
        // crates/app): tests of the file transports set OUTBOX_DIR and SMTP_URL= (unset) instead.
        ("SMTP_URL".into(), "none".into()),
        ("SMS_URL".into(), "none".into()),
        // Contacts count as proven at once, so that the suites of the other rules need no codes;
        // the proofs' own tests set CONTACT_VERIFICATION=required.
        ("CONTACT_VERIFICATION".into(), "off".into()),
        // The suites send to one contact many times a day; the caps' own tests set them.
        ("SEND_RECIPIENTS_PER_DAY".into(), "0".into()),
        ("SEND_RECIPIENTS_PER_DAY_ESTABLISHED".into(), "0".into()),
        ("MESSAGES_PER_RECIPIENT_PER_DAY".into(), "0".into()),
        // Tests create and edit events in loops; the quotas have tests of their own.
        ("EVENTS_PER_USER_PER_DAY".into(), "0".into()),
        ("EVENT_EDITS_PER_USER_PER_MINUTE".into(), "0".into()),
        ("STREAM_TICKETS_PER_USER_PER_MINUTE".into(), "0".into()),
        ("WEBHOOK_CREATIONS_PER_USER_PER_MINUTE".into(), "0".into()),
        ("WEBHOOK_CREATIONS_PER_HOST_PER_HOUR".into(), "0".into()),
        ("EVENT_NOTICES_PER_USER_PER_HOUR".into(), "0".into()),
    ];
    all.extend(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let config = Config::from_lookup(|name| {
        all.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    })
    .unwrap();
    Application::build(config)
        .await
        .expect("the service starts")
}

/// A real `event-manager` process (the binary Cargo built for these tests) on a loopback port,
/// killed on drop: for what only several processes on one database show.
pub(crate) struct ServerProcess {
    child: std::process::Child,
    pub address: String,
}

impl ServerProcess {
    /// Starts the binary on `database_url` with `vars` (the send and registration limits are out
    /// of the way unless `vars` set them) and waits until it is ready. The port is one the kernel
    /// just gave out; should another process take it first, the binary exits and another port is
    /// tried.
    pub(crate) async fn start(database_url: &str, vars: &[(&str, &str)]) -> Self {
        for _ in 0..3 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let child = std::process::Command::new(env!("CARGO_BIN_EXE_event-manager"))
                .env_clear()
                .env("DATABASE_URL", database_url)
                .env("BIND_ADDR", format!("127.0.0.1:{port}"))
                .env("HTTP_WORKERS", "2")
                .env("SEND_INVITATIONS_PER_USER", "1000")
                .env("REGISTRATIONS_PER_ADDRESS", "0")
                // Nothing written to an outbox in the working directory (as in `build_on`).
                .env("SMTP_URL", "none")
                .env("SMS_URL", "none")
                .env("CONTACT_VERIFICATION", "off")
                .env("SEND_RECIPIENTS_PER_DAY", "0")
                .env("SEND_RECIPIENTS_PER_DAY_ESTABLISHED", "0")
                .env("MESSAGES_PER_RECIPIENT_PER_DAY", "0")
                .env("EVENTS_PER_USER_PER_DAY", "0")
                .env("EVENT_EDITS_PER_USER_PER_MINUTE", "0")
                .env("STREAM_TICKETS_PER_USER_PER_MINUTE", "0")
                .env("WEBHOOK_CREATIONS_PER_USER_PER_MINUTE", "0")
                .env("WEBHOOK_CREATIONS_PER_HOST_PER_HOUR", "0")
                .env("EVENT_NOTICES_PER_USER_PER_HOUR", "0")
                .env("RUST_LOG", "warn")
                .envs(vars.iter().copied())
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("start event-manager");
            let address = format!("http://127.0.0.1:{port}");
            let mut server = Self { child, address };
            for _ in 0..200 {
                if server.child.try_wait().unwrap().is_some() {
                    break;
                }
                if let Ok(r) = client()
                    .get(format!("{}/health/ready", server.address))
                    .send()
                    .await
                {
                    if r.status() == 200 {
                        return server;
                    }
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
        panic!("event-manager did not become ready");
    }
}

impl ServerProcess {
    /// Sends SIGTERM, as an orchestrator stopping the service does.
    /// The process id, to read its memory from `/proc`.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn terminate(&mut self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    /// Whether the process exited within `within`.
    pub(crate) fn wait_exit(&mut self, within: std::time::Duration) -> bool {
        let started = std::time::Instant::now();
        while started.elapsed() < within {
            if self.child.try_wait().unwrap().is_some() {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        false
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A response read whole: status, headers and JSON body (`Value::Null` when empty).
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub(crate) async fn read(response: Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::Null)
        };
        Self {
            status,
            headers,
            body,
            text,
        }
    }

    /// Asserts the status and that the body is JSON with the right content type.
    #[track_caller]
    pub(crate) fn expect(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        if status != 204 {
            let content_type = self
                .headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            assert!(
                content_type.starts_with("application/json"),
                "content-type {content_type:?}, body {}",
                self.text
            );
            assert!(!self.body.is_null(), "not JSON: {}", self.text);
        }
        &self.body
    }
}

impl TestApp {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        Reply::read(request.send().await.unwrap()).await
    }

    pub(crate) async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub(crate) async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub(crate) async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(token), Some(body))
            .await
    }

    pub(crate) async fn register_with(&self, body: Value) -> Reply {
        self.post("/api/v1/register", None, body).await
    }

    /// Registers a user with a name and optional email and mobile.
    pub(crate) async fn register(
        &self,
        name: &str,
        email: Option<&str>,
        mobile: Option<&str>,
    ) -> TestUser {
        let reply = self
            .register_with(json!({"name": name, "email": email, "mobile": mobile, "password": "correct horse"}))
            .await;
        let data = &reply.expect(201)["data"];
        TestUser {
            id: data["user"]["id"].as_str().unwrap().to_owned(),
            token: data["token"].as_str().unwrap().to_owned(),
        }
    }

    pub(crate) async fn login(&self, body: Value) -> Reply {
        self.post("/api/v1/login", None, body).await
    }

    /// Creates an event owned by `owner` and returns its id.
    pub(crate) async fn create_event(&self, owner: &TestUser, title: &str) -> String {
        let reply = self
            .post(
                "/api/v1/events",
                Some(&owner.token),
                json!({"title": title}),
            )
            .await;
        reply.expect(201)["data"]["id"].as_str().unwrap().to_owned()
    }

    /// Sends invitations through the seed's route.
    pub(crate) async fn send(&self, sender: &TestUser, event_id: &str, contacts: Value) -> Reply {
        self.post(
            &format!("/api/v1/{event_id}/send-invitations"),
            Some(&sender.token),
            json!({"invitations": contacts}),
        )
        .await
    }

    pub(crate) async fn answer(&self, user: &TestUser, invitation_id: &str, status: &str) -> Reply {
        self.patch(
            &format!("/api/v1/invitations/{invitation_id}"),
            &user.token,
            json!({"status": status}),
        )
        .await
    }

    /// Every item of a paginated list, following `next_cursor` with pages of `limit`.
    pub(crate) async fn collect(&self, path: &str, token: &str, limit: u32) -> Vec<Value> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!("{path}{separator}limit={limit}");
            if let Some(cursor) = &cursor {
                url.push_str(&format!("&cursor={cursor}"));
            }
            let reply = self.get(&url, token).await;
            let body = reply.expect(200);
            let page = body["data"].as_array().unwrap();
            assert!(page.len() <= limit as usize);
            items.extend(page.iter().cloned());
            match body["meta"]["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        items
    }
}

/// The ids of a list of objects.
pub(crate) fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}
