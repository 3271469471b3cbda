use std::time::Duration;

use api::{Application, Settings, auth::keys::Keys};
use secrecy::SecretString;
use serde_json::{Value, json};

pub const SECRET: &str = "test-secret-key-that-is-long-enough-0123456789";

/// Generates one `#[tokio::test]` per database for each listed `async fn(TestApp)`.
#[macro_export]
macro_rules! db_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let app = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await;
                    super::$name(app).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let app = $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await;
                    super::$name(app).await;
                }
            }
        )*
    };
}

/// Like `db_tests!`, for tests that take a migrated `DatabaseConnection` instead of an app.
#[macro_export]
macro_rules! db_conn_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let db = $crate::helpers::fresh_db($crate::helpers::Backend::Sqlite).await;
                    super::$name(db).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let db = $crate::helpers::fresh_db($crate::helpers::Backend::Postgres).await;
                    super::$name(db).await;
                }
            }
        )*
    };
}

/// A fresh, migrated database connection.
pub async fn fresh_db(backend: Backend) -> sea_orm::DatabaseConnection {
    let url = fresh_database(backend).await;
    let db = api::db::connect(&url).await.unwrap();
    api::db::migrate(&db).await.unwrap();
    db
}

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL variants always run: a test never passes by skipping. They use
/// `SHIPGATE_TEST_POSTGRES_URL`, else the local server on 127.0.0.1:5432 that `.ci/test`
/// makes sure of; an unreachable server fails them.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub fn postgres_url() -> String {
    std::env::var("SHIPGATE_TEST_POSTGRES_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| DEFAULT_POSTGRES_URL.into())
}

pub struct TestApp {
    pub addr: std::net::SocketAddr,
    /// The running app's state: services, the sandbox fakes' handles.
    pub state: api::app::AppState,
    pub base: String,
    pub client: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    pub server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestApp {
    /// Triggers graceful shutdown and waits for the server task.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

async fn fresh_database(backend: Backend) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join("shipgate-tests");
            std::fs::create_dir_all(&dir).unwrap();
            format!("sqlite://{}/{id}.db?mode=rwc", dir.display())
        }
        Backend::Postgres => {
            use sea_orm::ConnectionTrait;
            let admin_url = postgres_url();
            let admin = sea_orm::Database::connect(admin_url.as_str())
                .await
                .expect("connect to PostgreSQL (run .ci/test, which starts it, or set SHIPGATE_TEST_POSTGRES_URL)");
            let name = format!("sg_test_{id}");
            admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
            admin.close().await.ok();
            let (base, _) = admin_url.rsplit_once('/').unwrap();
            format!("{base}/{name}")
        }
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_with(backend, |_| {}).await
}

pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    capture_logs();
    let database_url = fresh_database(backend).await;
    let mut settings = Settings::for_tests(&database_url, SECRET);
    tweak(&mut settings);
    let app = Application::build(settings).await.expect("build app");
    let addr = app.local_addr().unwrap();
    let state = app.state().clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = rx.await;
    }));
    TestApp {
        addr,
        state,
        base: format!("http://{addr}"),
        client: reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap(),

        shutdown: Some(tx),
        server: Some(server),
    }
}

pub struct Session {
    pub access: String,
    pub refresh: String,
    pub user_id: String,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs an operation and returns (status, body).
    pub async fn post(&self, query: &str, variables: Value, bearer: Option<&str>) -> (u16, Value) {
        let mut req = self.client.post(self.url("/graphql")).json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let body = resp.json::<Value>().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// POSTs and asserts HTTP 200.
    pub async fn gql(&self, query: &str, variables: Value, bearer: Option<&str>) -> Value {
        let (status, body) = self.post(query, variables, bearer).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    pub async fn sign_up(&self, org: &str, email: &str) -> Session {
        let body = self
            .gql(
                "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken refreshToken accessTokenExpiresAt user { id email role } userErrors { code field message } } }",
                json!({ "i": { "organizationName": org, "email": email, "password": PASSWORD } }),
                None,
            )
            .await;
        session_from(&body["data"]["signUp"])
    }

    pub async fn login(&self, email: &str, password: &str) -> Value {
        self.gql(
            "mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken user { id email role } userErrors { code field message } } }",
            json!({ "i": { "email": email, "password": password } }),
            None,
        )
        .await
    }

    /// Owner creates a user with `role` in their org and logs them in.
    pub async fn add_user(&self, owner: &Session, email: &str, role: &str) -> Session {
        let body = self
            .gql(
                "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id role } userErrors { code message } } }",
                json!({ "i": { "email": email, "password": PASSWORD, "role": role } }),
                Some(&owner.access),
            )
            .await;
        assert_eq!(body["data"]["createUser"]["userErrors"], json!([]), "{body}");
        session_from(&self.login(email, PASSWORD).await["data"]["login"])
    }

    pub fn keys(&self) -> Keys {
        Keys::derive(&SecretString::from(SECRET))
    }
}

pub const PASSWORD: &str = "correct horse battery staple";

pub fn session_from(payload: &Value) -> Session {
    assert_eq!(payload["userErrors"], json!([]), "{payload}");
    Session {
        access: payload["accessToken"].as_str().expect("accessToken").to_owned(),
        refresh: payload["refreshToken"].as_str().expect("refreshToken").to_owned(),
        user_id: payload["user"]["id"].as_str().expect("user id").to_owned(),
    }
}

/// The `extensions.code` of the first error.
pub fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or("<none>")
}

/// Everything the server logged in this test process (a global subscriber installed on
/// first use), for checking that secrets never reach the logs.
pub fn captured_logs() -> String {
    String::from_utf8_lossy(&log_buffer().lock().unwrap()).into_owned()
}

fn log_buffer() -> &'static std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    static BUF: std::sync::OnceLock<std::sync::Arc<std::sync::Mutex<Vec<u8>>>> = std::sync::OnceLock::new();
    BUF.get_or_init(|| std::sync::Arc::new(std::sync::Mutex::new(Vec::new())))
}

#[derive(Clone)]
struct BufWriter;

impl std::io::Write for BufWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        log_buffer().lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn capture_logs() {
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "debug,shipgate::sql=trace,sqlx=warn,sea_orm=warn,hyper=warn,h2=warn,reqwest=debug",
            ))
            .with_writer(|| BufWriter)
            .with_ansi(false)
            .try_init();
    });
}
