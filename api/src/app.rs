//! Application assembly: connect, migrate, seed the sandbox demo, build services, schema
//! and router, serve until a shutdown signal, then close subscriptions gracefully.

use std::{collections::HashMap, future::Future, net::SocketAddr, sync::Arc, time::Duration};

use axum::Router;
use tokio::net::TcpListener;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use entity::enums::Platform;
use secrecy::SecretString;

use crate::{
    auth::{jwt::JwtCodec, keys::Keys, password::PasswordHasherPool, vault::Vault},
    config::Settings,
    connectors::{
        http::{HttpClient, RateLimits},
        logistics::{
            Warehouse as WarehouseConnector,
            orangeconnex::{OrangeConnex, SignMode},
        },
        marketplace::{
            AppCredentials,
            aliexpress::{AliExpress, SignMethod as AeSign},
            amazon::Amazon,
            ebay::Ebay,
            wish::Wish,
        },
    },
    db,
    domain::identity::Identity,
    domain::{
        accounts::{Accounts, PlatformConnector},
        catalog::Catalog,
        channels::{Channels, carriers::Carriers},
        fulfilment::{Fulfilment, Providers, provider::LogisticsProvider},
        labels::{Labels, Links},
        orders::Orders,
        reports::Reports,
        warehouse::{Warehouse, outbound::OrangeConnexProvider},
    },
    error::DomainError,
    events::EventBus,
    graphql::{AppSchema, build_schema},
    http::{self, metrics::Metrics},
    jobs::{self, Runner},
    sandbox,
    sandbox::{Sandbox, amazon as amazon_fake, ebay as ebay_fake, orangeconnex as oc_fake},
    state::Services,
};

#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub schema: AppSchema,
    pub metrics: Arc<Metrics>,
    /// Upgraded WebSocket connections, awaited (briefly) on shutdown.
    pub ws_tasks: TaskTracker,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("cannot bind {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("startup: {0}")]
    Domain(#[from] DomainError),
    #[error("configuration: {0}")]
    Config(String),
}

/// Builds the services on an existing connection (also used by the CLI).
pub fn services(settings: Arc<Settings>, db: sea_orm::DatabaseConnection) -> Result<Services, StartupError> {
    let keys = Keys::derive(&settings.secret_key);
    let jwt = Arc::new(JwtCodec::new(keys.jwt(), settings.access_token_ttl_secs));
    // Large enough for a 10,000-order push's results to reach a subscriber that reads
    // them as they come; a lagging subscriber is told (and pushResults re-reads).
    let bus = EventBus::new(16_384);
    let hasher = PasswordHasherPool::new(settings.limits.password_hash_permits);
    let identity = Identity::new(db.clone(), jwt, hasher, bus.clone(), settings.refresh_token_ttl_secs);
    let sandbox = settings.sandbox.then(|| Sandbox::new(&settings.public_url, settings.sandbox_orders));
    let mut platforms = marketplace_connectors(&settings)?;
    let oc = orangeconnex_connector(&settings)?;
    if let Some((c, app)) = &oc {
        platforms.insert(
            Platform::Orangeconnex,
            PlatformConnector { auth: Arc::new(c.clone()), marketplace: None, app: Some(app.clone()) },
        );
    }
    let accounts = Accounts::new(
        db.clone(),
        Arc::new(Vault::new(keys.credentials())),
        bus.clone(),
        platforms,
        settings.public_url.clone(),
    );
    let orders = Orders::new(db.clone(), bus.clone());
    let catalog = Catalog::new(db.clone(), bus.clone());
    let channels = Channels::new(db.clone(), bus.clone());
    let carriers = Carriers::new(db.clone(), bus.clone(), accounts.clone());
    let warehouse = Warehouse::new(
        db.clone(),
        bus.clone(),
        accounts.clone(),
        oc.map(|(c, _)| Arc::new(c) as Arc<dyn WarehouseConnector>),
        Links::new(*keys.links()).with_purpose(b"inbound-file\0"),
        settings.public_url.clone(),
    );
    let providers = Providers {
        orangeconnex: settings
            .orangeconnex_enabled()
            .then(|| Arc::new(OrangeConnexProvider { warehouse: warehouse.clone() }) as Arc<dyn LogisticsProvider>),
    };
    let fulfilment = Fulfilment::new(db.clone(), bus.clone(), providers);
    let reports = Reports::new(db.clone());
    let labels = Labels::new(db.clone(), bus.clone(), Links::new(*keys.links()), settings.public_url.clone());
    Ok(Services {
        settings,
        db,
        identity,
        accounts,
        orders,
        catalog,
        channels,
        carriers,
        fulfilment,
        labels,
        reports,
        warehouse,
        bus,
        sandbox,
        shutdown: CancellationToken::new(),
    })
}

/// The marketplace connectors and apps from configuration; with sandbox on, platforms
/// left unconfigured point at the built-in fakes.
fn marketplace_connectors(settings: &Settings) -> Result<HashMap<Platform, PlatformConnector>, StartupError> {
    let http = HttpClient::new().map_err(|e| StartupError::Config(e.to_string()))?;
    let mut map = HashMap::new();
    // Real quotas for real hosts (SP-API usage plans; conservative guesses where a provider
    // publishes none); the sandbox fakes get generous ones so tests stay fast.
    let sandbox_limits = || {
        ["getOrders", "getOrderItems", "confirmShipment", "createShippingFulfillment", "orders", "tracking", "api"]
            .into_iter()
            .fold(RateLimits::default(), |l, op| l.with(op, 200.0, 400))
    };
    let e = &settings.ebay;
    let sandbox_base = format!("{}/sandbox/ebay", settings.public_url);
    let configured = e.client_id.is_some() && e.client_secret.is_some() && e.ru_name.is_some();
    if configured || settings.sandbox {
        let (auth_base, api_base, identity_base) = if configured {
            (
                e.auth_base.clone().unwrap_or_else(|| "https://auth.ebay.com".into()),
                e.api_base.clone().unwrap_or_else(|| "https://api.ebay.com".into()),
                e.identity_base.clone().unwrap_or_else(|| "https://apiz.ebay.com".into()),
            )
        } else {
            (sandbox_base.clone(), sandbox_base.clone(), sandbox_base)
        };
        let app = AppCredentials {
            client_id: e.client_id.clone().unwrap_or_else(|| ebay_fake::SANDBOX_CLIENT_ID.into()),
            client_secret: e
                .client_secret
                .clone()
                .unwrap_or_else(|| SecretString::from(ebay_fake::SANDBOX_CLIENT_SECRET)),
            redirect: e.ru_name.clone().unwrap_or_else(|| ebay_fake::SANDBOX_RU_NAME.into()),
        };
        map.insert(
            Platform::Ebay,
            PlatformConnector::marketplace(
                Arc::new(
                    Ebay::new(http.clone(), auth_base, api_base).with_identity_base(identity_base).with_rate_limits(
                        if configured {
                            RateLimits::default()
                                .with("getOrders", 5.0, 10)
                                .with("createShippingFulfillment", 5.0, 10)
                                .with("getShippingFulfillments", 5.0, 10)
                        } else {
                            sandbox_limits()
                        },
                    ),
                ),
                Some(app),
            ),
        );
    }
    let sandbox_url = |name: &str| settings.sandbox.then(|| format!("{}/sandbox/{name}", settings.public_url));
    // Sellers bring their own AliExpress and Wish apps: no deployment app.
    if let Some(base) = settings.aliexpress_url.clone().or_else(|| sandbox_url("aliexpress")) {
        let limits = if settings.aliexpress_url.is_some() {
            RateLimits::default().with("api", 10.0, 20)
        } else {
            sandbox_limits()
        };
        map.insert(
            Platform::Aliexpress,
            PlatformConnector::marketplace(
                Arc::new(
                    AliExpress::new(http.clone(), base)
                        .with_rate_limits(limits)
                        .with_sign_method(if settings.aliexpress_md5 { AeSign::Md5 } else { AeSign::Sha256 }),
                ),
                None,
            ),
        );
    }
    if let Some(base) = settings.wish_url.clone().or_else(|| sandbox_url("wish")) {
        let limits = if settings.wish_url.is_some() {
            RateLimits::default().with("orders", 5.0, 10).with("tracking", 5.0, 10)
        } else {
            sandbox_limits()
        };
        map.insert(
            Platform::Wish,
            PlatformConnector::marketplace(Arc::new(Wish::new(http.clone(), base).with_rate_limits(limits)), None),
        );
    }
    let a = &settings.amazon;
    let amazon_configured = a.client_id.is_some() && a.client_secret.is_some() && a.application_id.is_some();
    if amazon_configured || settings.sandbox {
        let fake = sandbox_url("amazon").unwrap_or_default();
        let pick = |configured: &Option<String>, real: &str, fake_path: &str| {
            if amazon_configured {
                configured.clone().unwrap_or_else(|| real.to_owned())
            } else {
                format!("{fake}/{fake_path}")
            }
        };
        let connector = Amazon::new(
            http.clone(),
            a.application_id.clone().unwrap_or_else(|| amazon_fake::SANDBOX_APPLICATION_ID.into()),
            pick(&a.consent_url, "https://sellercentral.amazon.com", "sellercentral"),
            pick(&a.lwa_url, "https://api.amazon.com", "lwa"),
            crate::connectors::marketplace::amazon::SpApiHosts {
                na: pick(&a.api_url_na, "https://sellingpartnerapi-na.amazon.com", "na"),
                eu: pick(&a.api_url_eu, "https://sellingpartnerapi-eu.amazon.com", "eu"),
                fe: pick(&a.api_url_fe, "https://sellingpartnerapi-fe.amazon.com", "fe"),
            },
        )
        .with_rate_limits(if amazon_configured {
            // SP-API usage plans (selling-partner-api-models): searchOrders 0.0056/s burst
            // 20, getOrder 0.5/s burst 30 (orders_2026-01-01.json), confirmShipment 2/s
            // burst 10 (ordersV0.json), getMarketplaceParticipations 0.016/s burst 15
            // (sellers.json).
            RateLimits::default()
                .with("searchOrders", 0.0056, 20)
                .with("getOrder", 0.5, 30)
                .with("confirmShipment", 2.0, 10)
                .with("getMarketplaceParticipations", 0.016, 15)
        } else {
            ["searchOrders", "getOrder", "confirmShipment", "getMarketplaceParticipations"]
                .into_iter()
                .fold(RateLimits::default(), |l, op| l.with(op, 200.0, 400))
        });
        let app = AppCredentials {
            client_id: a.client_id.clone().unwrap_or_else(|| amazon_fake::SANDBOX_CLIENT_ID.into()),
            client_secret: a
                .client_secret
                .clone()
                .unwrap_or_else(|| SecretString::from(amazon_fake::SANDBOX_CLIENT_SECRET)),
            redirect: format!("{}/oauth/callback/amazon", settings.public_url),
        };
        map.insert(Platform::Amazon, PlatformConnector::marketplace(Arc::new(connector), Some(app)));
    }
    Ok(map)
}

pub struct Application {
    listener: TcpListener,
    state: AppState,
    /// The sandbox demo login, when this start created it.
    pub demo_login: Option<sandbox::demo::DemoLogin>,
}

impl Application {
    /// Connects to the database, applies pending migrations, seeds the sandbox demo on an
    /// empty database and binds the listener.
    pub async fn build(mut settings: Settings) -> Result<Self, StartupError> {
        let mut db = db::connect(settings.database_url()).await?;
        db::migrate(&db).await?;
        let metrics = Arc::new(Metrics::default());
        let statements = metrics.db_statements.clone();
        db.set_metric_callback(move |info| {
            statements.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::trace!(target: "shipgate::sql", elapsed_us = info.elapsed.as_micros() as u64, sql = %info.statement.sql, "statement");
        });
        let listener = TcpListener::bind(settings.bind)
            .await
            .map_err(|source| StartupError::Bind { addr: settings.bind, source })?;
        let addr = listener.local_addr().map_err(|source| StartupError::Bind { addr: settings.bind, source })?;
        if settings.bind.port() == 0 {
            settings.public_url = format!("http://{addr}");
        }
        let services = services(Arc::new(settings), db)?;
        if services.settings.sandbox {
            crate::domain::channels::seed_sandbox(&services.db).await?;
        }
        crate::domain::labels::templates::ensure_builtin(&services.db).await?;
        let demo_login = sandbox::demo::seed(&services).await?;
        let schema = build_schema(services.clone());
        let state = AppState { services, schema, metrics, ws_tasks: TaskTracker::new() };
        Ok(Self { listener, state, demo_login })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn router(&self) -> Router {
        let mut router = http::router(self.state.clone());
        if let Some(sandbox) = &self.state.services.sandbox {
            router = router.merge(sandbox.router());
        }
        router
    }

    /// Serves until `signal` resolves; then stops accepting, cancels subscriptions (each
    /// gets a close frame) and waits up to 10 s for them to finish.
    pub async fn run_until_stopped(self, signal: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let router = self.router();
        let shutdown = self.state.services.shutdown.clone();
        let token = shutdown.clone();
        let header_read_timeout =
            Duration::from_secs(self.state.services.settings.limits.header_read_timeout_secs.max(1));
        let serve = serve_http(self.listener, router, header_read_timeout, async move {
            tokio::select! {
                () = signal => {},
                () = token.cancelled() => {},
            }
            tracing::info!("shutdown requested: draining");
            token.cancel();
        });
        let lease = chrono::Duration::seconds(i64::try_from(self.state.services.settings.job_lease_secs).unwrap_or(60));
        let runner =
            jobs::handlers::register(Runner::new(self.state.services.db.clone()).lease(lease), &self.state.services);
        let worker = tokio::spawn(runner.run(shutdown.clone()));
        let scheduler = tokio::spawn(schedule_downloads(self.state.services.clone()));
        let warehouse_polls = tokio::spawn(schedule_warehouse(self.state.services.clone()));
        let result = serve.await;
        shutdown.cancel();
        scheduler.abort();
        warehouse_polls.abort();
        if tokio::time::timeout(Duration::from_secs(25), worker).await.is_err() {
            tracing::warn!("jobs still running after 25 s; their leases will expire and they will resume elsewhere");
        }
        let tasks = self.state.ws_tasks.clone();
        tasks.close();
        if tokio::time::timeout(Duration::from_secs(10), tasks.wait()).await.is_err() {
            tracing::warn!("some WebSocket connections did not close within 10 s");
        }
        result
    }
}

/// Serves `router` over HTTP/1.1 (upgrades allowed, for WebSocket) until `signal`, then
/// stops accepting and lets every connection finish its request: what
/// `axum::serve(…).with_graceful_shutdown(…)` does, plus hyper's header read timeout
/// (a connection that has not sent a whole request head `header_read_timeout` after it
/// opened or after its previous response is closed: slowloris, half-open and idle
/// connections no longer live forever), which `axum::serve` cannot set. The peer address
/// reaches handlers as `ConnectInfo<SocketAddr>`.
async fn serve_http(
    listener: TcpListener,
    router: Router,
    header_read_timeout: Duration,
    signal: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use tower::ServiceExt;

    let connections = TaskTracker::new();
    let draining = CancellationToken::new();
    let mut signal = std::pin::pin!(signal);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut signal => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) if matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionRefused
                        | std::io::ErrorKind::ConnectionAborted
                        | std::io::ErrorKind::ConnectionReset
                ) => continue,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::error!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
        };
        // Nagle off: a response written in pieces must not wait out the peer's delayed ACK
        // (up to 40 ms a request on keep-alive connections).
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let router = router.clone();
        let draining = draining.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                router.clone().oneshot(req.map(axum::body::Body::new))
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(header_read_timeout);
            let conn = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service).with_upgrades();
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, %peer, "connection ended with an error");
                    }
                    return;
                }
                () = draining.cancelled() => {}
            }
            conn.as_mut().graceful_shutdown();
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error while draining");
            }
        });
    }
    drop(listener);
    draining.cancel();
    connections.close();
    connections.wait().await;
    Ok(())
}

/// Every minute, enqueue downloads for accounts not synced within the interval.
async fn schedule_downloads(services: Services) {
    let interval = chrono::Duration::minutes(crate::domain::orders::schedule::DEFAULT_INTERVAL_MINUTES);
    loop {
        tokio::select! {
            () = services.shutdown.cancelled() => return,
            () = tokio::time::sleep(Duration::from_secs(60)) => {}
        }
        match crate::domain::orders::schedule::enqueue_due(&services.db, interval).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(jobs = n, "scheduled order downloads"),
            Err(e) => tracing::warn!(error = %e, "scheduling downloads failed"),
        }
        if let Err(e) = crate::domain::fulfilment::prune_idempotency_keys(&services.db).await {
            tracing::warn!(error = %e, "pruning idempotency keys failed");
        }
        if let Err(e) = crate::domain::labels::print::prune_files(&services.db).await {
            tracing::warn!(error = %e, "pruning expired label files failed");
        }
    }
}

/// Every `warehouse_poll_secs`, a sync job per active OrangeConnex account (the job key
/// keeps it to one per account however many replicas run this).
async fn schedule_warehouse(services: Services) {
    let every = Duration::from_secs(services.settings.warehouse_poll_secs.max(5));
    loop {
        tokio::select! {
            () = services.shutdown.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        match crate::domain::warehouse::sync::enqueue_all(&services.db).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(jobs = n, "scheduled warehouse polls"),
            Err(e) => tracing::warn!(error = %e, "scheduling warehouse polls failed"),
        }
    }
}

/// The OrangeConnex connector and the ERP's OC app: configured, or the sandbox fake.
fn orangeconnex_connector(settings: &Settings) -> Result<Option<(OrangeConnex, AppCredentials)>, StartupError> {
    let o = &settings.orangeconnex;
    let configured = o.client_key.is_some() && o.secret_key.is_some() && o.url.is_some();
    if !configured && !settings.sandbox {
        return Ok(None);
    }
    let http = HttpClient::new().map_err(|e| StartupError::Config(e.to_string()))?;
    let mode: SignMode = match &o.sign_mode {
        Some(m) => m.parse().map_err(StartupError::Config)?,
        None => SignMode::default(),
    };
    let (base, key, secret, limits) = if configured {
        (
            o.url.clone().unwrap_or_default(),
            o.client_key.clone().unwrap_or_default(),
            o.secret_key.clone().unwrap_or_else(|| SecretString::from("")),
            // OC publishes no rate limits: stay well below anything plausible.
            RateLimits::default().with("api", 5.0, 10),
        )
    } else {
        (
            format!("{}/sandbox/orangeconnex", settings.public_url),
            oc_fake::SANDBOX_CLIENT_KEY.to_owned(),
            SecretString::from(oc_fake::SANDBOX_SECRET_KEY),
            RateLimits::default().with("api", 200.0, 400),
        )
    };
    let app = AppCredentials {
        client_id: key.clone(),
        client_secret: secret.clone(),
        redirect: format!("{}/oauth/callback/orangeconnex", settings.public_url),
    };
    Ok(Some((OrangeConnex::new(http, base, key, secret).with_sign_mode(mode).with_rate_limits(limits), app)))
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
