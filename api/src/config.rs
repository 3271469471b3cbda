//! Configuration: environment variables (`SHIPGATE_*`) over an optional TOML file
//! (`SHIPGATE_CONFIG` or `--config`), validated once at boot. Secrets are wrapped in
//! [`SecretString`] so they never print through `Debug` or logs.

use std::{
    net::{IpAddr, SocketAddr},
    path::PathBuf,
};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid config file {path}: {source}")]
    Parse { path: PathBuf, source: toml::de::Error },
    #[error("invalid value for {key}: {message}")]
    Invalid { key: &'static str, message: String },
    #[error("cannot write generated dev secret key to {path}: {source}")]
    SecretFile { path: PathBuf, source: std::io::Error },
}

/// Deployment flavour. `prod` turns off introspection, suggestions and GraphiQL and
/// requires an explicit secret key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Dev,
    Prod,
}

impl std::str::FromStr for Environment {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "dev" | "development" => Ok(Self::Dev),
            "prod" | "production" => Ok(Self::Prod),
            other => Err(format!("expected dev or prod, got {other:?}")),
        }
    }
}

/// Which parts of the process to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    /// HTTP API and background workers.
    All,
    /// HTTP API only.
    Api,
    /// Background workers only.
    Worker,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: SecretString,
    pub bind: SocketAddr,
    /// Master secret; sub-keys (JWT signing, credential encryption, download links) are
    /// derived from it with HKDF, so one value rotates everything.
    pub secret_key: SecretString,
    pub sandbox: bool,
    pub cors_origins: Vec<String>,
    /// Reverse proxies and load balancers whose `X-Forwarded-For` is believed
    /// (`SHIPGATE_TRUSTED_PROXIES`, comma-separated addresses or CIDR blocks; default none):
    /// a request whose TCP peer is one of them is counted (login throttle) under the
    /// right-most address of `X-Forwarded-For` that is not one of them.
    pub trusted_proxies: Vec<IpBlock>,
    pub env: Environment,
    /// Public base URL of this server (used for OAuth redirect URLs and download links).
    pub public_url: String,
    pub limits: Limits,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    /// Create the demo organization and user on an empty database when sandbox is on.
    pub seed_demo: bool,
    /// Orders each sandbox marketplace is seeded with.
    pub sandbox_orders: usize,
    /// How long a worker holds a job without renewing (`SHIPGATE_JOB_LEASE_SECS`, default
    /// 60): after a crash its jobs resume elsewhere once this lapses.
    pub job_lease_secs: u64,
    /// Where `/oauth/callback/{platform}` sends the browser when consent ends
    /// (`?status=authorized&platform=…&state=…&code=…` for `completeAccountAuthorization`,
    /// or `?status=error&platform=…&message=…`, is appended).
    pub spa_url: Option<String>,
    pub ebay: EbaySettings,
    /// AliExpress IOP gateway, e.g. `https://api-sg.aliexpress.com` (sellers bring their own app).
    pub aliexpress_url: Option<String>,
    /// `md5` for apps registered for AliExpress's legacy signature; default `sha256`.
    pub aliexpress_md5: bool,
    /// Wish merchant host, e.g. `https://merchant.wish.com` (sellers bring their own app).
    pub wish_url: Option<String>,
    pub amazon: AmazonSettings,
    pub orangeconnex: OrangeConnexSettings,
    /// Seconds between warehouse polls (outbound status and tracking, inbound progress,
    /// stock): `SHIPGATE_WAREHOUSE_POLL_SECS`, default 300 (30 with sandbox on).
    pub warehouse_poll_secs: u64,
}

/// The ERP's OrangeConnex app (ClientKey/SecretKey from OC's integration team). Empty with
/// sandbox on means the built-in fake OC under `/sandbox/orangeconnex`.
#[derive(Debug, Clone, Default)]
pub struct OrangeConnexSettings {
    pub client_key: Option<String>,
    pub secret_key: Option<SecretString>,
    /// e.g. `https://openapi-stage-hk.orangeconnex.com` (OAuth and API share the host).
    pub url: Option<String>,
    /// `path_and_body` (default) or `path_only`: whether the body is part of the signature.
    pub sign_mode: Option<String>,
}

/// The deployment's SP-API app. Empty with sandbox on means the built-in fake Amazon.
#[derive(Debug, Clone, Default)]
pub struct AmazonSettings {
    /// LWA client id and secret of the app.
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    /// The SP-API application id (amzn1.sp.solution.…), used on the consent page.
    pub application_id: Option<String>,
    /// Seller Central host for consent, e.g. `https://sellercentral.amazon.com`.
    pub consent_url: Option<String>,
    /// Login with Amazon host, e.g. `https://api.amazon.com`.
    pub lwa_url: Option<String>,
    /// SP-API host of each selling region: `SHIPGATE_AMAZON_API_URL_NA` (or the older
    /// `SHIPGATE_AMAZON_API_URL`), `_EU`, `_FE`; defaults
    /// `https://sellingpartnerapi-{na,eu,fe}.amazon.com`.
    pub api_url_na: Option<String>,
    pub api_url_eu: Option<String>,
    pub api_url_fe: Option<String>,
}

/// The ERP's eBay app (one per deployment; sellers consent to it). Empty values with
/// sandbox on mean: the built-in fake eBay under `/sandbox/ebay`.
#[derive(Debug, Clone, Default)]
pub struct EbaySettings {
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    pub ru_name: Option<String>,
    /// Consent host, e.g. `https://auth.ebay.com`.
    pub auth_base: Option<String>,
    /// API host, e.g. `https://api.ebay.com`.
    pub api_base: Option<String>,
    /// Identity API host, e.g. `https://apiz.ebay.com` (the seller's eBay user id).
    pub identity_base: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Limits {
    pub body_bytes: usize,
    pub depth: usize,
    pub complexity: usize,
    pub directives: usize,
    pub recursive_depth: usize,
    pub page_size: u64,
    pub request_timeout_secs: u64,
    /// A connection that has not sent a whole request head this long after opening (or
    /// after its previous response) is closed: slowloris and half-open connections.
    pub header_read_timeout_secs: u64,
    /// Concurrent argon2 computations (each needs ~19 MiB).
    pub password_hash_permits: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_bytes: 256 * 1024,
            depth: 10,
            complexity: 1000,
            directives: 5,
            recursive_depth: 64,
            page_size: 100,
            request_timeout_secs: 15,
            header_read_timeout_secs: 10,
            password_hash_permits: 8,
        }
    }
}

/// The optional file: every key mirrors an environment variable without the prefix.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    bind: Option<String>,
    secret_key: Option<String>,
    sandbox: Option<bool>,
    cors_origins: Option<Vec<String>>,
    trusted_proxies: Option<Vec<String>>,
    env: Option<Environment>,
    public_url: Option<String>,
    seed_demo: Option<bool>,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://shipgate.db?mode=rwc";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
const MIN_SECRET_LEN: usize = 32;

impl Settings {
    /// Loads from the process environment and the optional file.
    pub fn load(config_file: Option<PathBuf>) -> Result<Self, ConfigError> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        Self::from_sources(config_file.or_else(|| env("SHIPGATE_CONFIG").map(PathBuf::from)), env)
    }

    /// Builds settings from an optional file and a key lookup (the environment in
    /// production, a map in tests).
    pub fn from_sources(
        config_file: Option<PathBuf>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let file = match config_file {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|source| ConfigError::Read { path: path.clone(), source })?;
                toml::from_str::<FileConfig>(&text).map_err(|source| ConfigError::Parse { path, source })?
            }
            None => FileConfig::default(),
        };

        let env_mode = match lookup("SHIPGATE_ENV") {
            Some(v) => v.parse().map_err(|message| ConfigError::Invalid { key: "SHIPGATE_ENV", message })?,
            None => file.env.unwrap_or(Environment::Dev),
        };
        let database_url =
            lookup("SHIPGATE_DATABASE_URL").or(file.database_url).unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        let bind_raw = lookup("SHIPGATE_BIND").or(file.bind).unwrap_or_else(|| DEFAULT_BIND.to_owned());
        let bind: SocketAddr = bind_raw
            .parse()
            .map_err(|e| ConfigError::Invalid { key: "SHIPGATE_BIND", message: format!("{bind_raw:?}: {e}") })?;
        let sandbox = match lookup("SHIPGATE_SANDBOX") {
            Some(v) => parse_bool("SHIPGATE_SANDBOX", &v)?,
            None => file.sandbox.unwrap_or(env_mode == Environment::Dev),
        };
        let seed_demo = match lookup("SHIPGATE_SEED_DEMO") {
            Some(v) => parse_bool("SHIPGATE_SEED_DEMO", &v)?,
            None => file.seed_demo.unwrap_or(true),
        };
        let cors_origins = match lookup("SHIPGATE_CORS_ORIGINS") {
            Some(v) => v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect(),
            None => file.cors_origins.unwrap_or_default(),
        };
        for origin in &cors_origins {
            if origin == "*" || !(origin.starts_with("http://") || origin.starts_with("https://")) {
                return Err(ConfigError::Invalid {
                    key: "SHIPGATE_CORS_ORIGINS",
                    message: format!("{origin:?} is not an explicit http(s) origin"),
                });
            }
        }
        let trusted_proxies = match lookup("SHIPGATE_TRUSTED_PROXIES") {
            Some(v) => v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect(),
            None => file.trusted_proxies.unwrap_or_default(),
        }
        .iter()
        .map(|p| {
            p.parse::<IpBlock>().map_err(|message| ConfigError::Invalid { key: "SHIPGATE_TRUSTED_PROXIES", message })
        })
        .collect::<Result<Vec<_>, _>>()?;
        let public_url = lookup("SHIPGATE_PUBLIC_URL")
            .or(file.public_url)
            .unwrap_or_else(|| format!("http://{bind}"))
            .trim_end_matches('/')
            .to_owned();

        let secret_key = match lookup("SHIPGATE_SECRET_KEY").or(file.secret_key) {
            Some(k) if k.len() >= MIN_SECRET_LEN => SecretString::from(k),
            Some(_) => {
                return Err(ConfigError::Invalid {
                    key: "SHIPGATE_SECRET_KEY",
                    message: format!("must be at least {MIN_SECRET_LEN} characters"),
                });
            }
            None if env_mode == Environment::Prod => {
                return Err(ConfigError::Invalid {
                    key: "SHIPGATE_SECRET_KEY",
                    message: "required when SHIPGATE_ENV=prod".into(),
                });
            }
            None => dev_secret_key(&database_url)?,
        };

        Ok(Self {
            database_url: SecretString::from(database_url),
            bind,
            secret_key,
            sandbox,
            cors_origins,
            trusted_proxies,
            env: env_mode,
            public_url,
            limits: Limits::default(),
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            seed_demo,
            spa_url: lookup("SHIPGATE_SPA_URL"),
            sandbox_orders: match lookup("SHIPGATE_SANDBOX_ORDERS") {
                Some(v) => v.trim().parse().map_err(|_| ConfigError::Invalid {
                    key: "SHIPGATE_SANDBOX_ORDERS",
                    message: format!("expected a count, got {v:?}"),
                })?,
                None => crate::sandbox::SANDBOX_ORDERS,
            },
            job_lease_secs: match lookup("SHIPGATE_JOB_LEASE_SECS") {
                Some(v) => {
                    v.trim().parse().ok().filter(|s| (2..=3600).contains(s)).ok_or_else(|| ConfigError::Invalid {
                        key: "SHIPGATE_JOB_LEASE_SECS",
                        message: format!("expected 2-3600 seconds, got {v:?}"),
                    })?
                }
                None => 60,
            },
            ebay: EbaySettings {
                client_id: lookup("SHIPGATE_EBAY_CLIENT_ID"),
                client_secret: lookup("SHIPGATE_EBAY_CLIENT_SECRET").map(SecretString::from),
                ru_name: lookup("SHIPGATE_EBAY_RUNAME"),
                auth_base: lookup("SHIPGATE_EBAY_AUTH_URL"),
                api_base: lookup("SHIPGATE_EBAY_API_URL"),
                identity_base: lookup("SHIPGATE_EBAY_IDENTITY_URL"),
            },
            aliexpress_url: lookup("SHIPGATE_ALIEXPRESS_URL"),
            aliexpress_md5: lookup("SHIPGATE_ALIEXPRESS_SIGN_METHOD").is_some_and(|m| m.eq_ignore_ascii_case("md5")),
            wish_url: lookup("SHIPGATE_WISH_URL"),
            amazon: AmazonSettings {
                client_id: lookup("SHIPGATE_AMAZON_CLIENT_ID"),
                client_secret: lookup("SHIPGATE_AMAZON_CLIENT_SECRET").map(SecretString::from),
                application_id: lookup("SHIPGATE_AMAZON_APPLICATION_ID"),
                consent_url: lookup("SHIPGATE_AMAZON_CONSENT_URL"),
                lwa_url: lookup("SHIPGATE_AMAZON_LWA_URL"),
                api_url_na: lookup("SHIPGATE_AMAZON_API_URL_NA").or_else(|| lookup("SHIPGATE_AMAZON_API_URL")),
                api_url_eu: lookup("SHIPGATE_AMAZON_API_URL_EU"),
                api_url_fe: lookup("SHIPGATE_AMAZON_API_URL_FE"),
            },
            orangeconnex: OrangeConnexSettings {
                client_key: lookup("SHIPGATE_ORANGECONNEX_CLIENT_KEY"),
                secret_key: lookup("SHIPGATE_ORANGECONNEX_SECRET_KEY").map(SecretString::from),
                url: lookup("SHIPGATE_ORANGECONNEX_URL"),
                sign_mode: lookup("SHIPGATE_ORANGECONNEX_SIGN_MODE"),
            },
            warehouse_poll_secs: match lookup("SHIPGATE_WAREHOUSE_POLL_SECS") {
                Some(v) => v.trim().parse::<u64>().ok().filter(|n| *n >= 5).ok_or(ConfigError::Invalid {
                    key: "SHIPGATE_WAREHOUSE_POLL_SECS",
                    message: "a number of seconds, at least 5".into(),
                })?,
                None if sandbox => 30,
                None => 300,
            },
        })
    }

    /// OrangeConnex is available: configured, or the sandbox fake.
    pub fn orangeconnex_enabled(&self) -> bool {
        let o = &self.orangeconnex;
        self.sandbox || (o.client_key.is_some() && o.secret_key.is_some() && o.url.is_some())
    }

    pub fn is_prod(&self) -> bool {
        self.env == Environment::Prod
    }

    /// A settings value for tests and tools: given database URL and secret, sandbox on.
    pub fn for_tests(database_url: &str, secret_key: &str) -> Self {
        Self {
            database_url: SecretString::from(database_url.to_owned()),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            secret_key: SecretString::from(secret_key.to_owned()),
            sandbox: true,
            cors_origins: vec!["http://localhost:5173".into()],
            trusted_proxies: Vec::new(),
            env: Environment::Dev,
            public_url: "http://127.0.0.1:0".into(),
            limits: Limits::default(),
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            seed_demo: false,
            spa_url: None,
            sandbox_orders: crate::sandbox::SANDBOX_ORDERS,
            job_lease_secs: 60,
            ebay: EbaySettings::default(),
            aliexpress_url: None,
            aliexpress_md5: false,
            wish_url: None,
            amazon: AmazonSettings::default(),
            orangeconnex: OrangeConnexSettings::default(),
            warehouse_poll_secs: 30,
        }
    }

    pub fn database_url(&self) -> &str {
        self.database_url.expose_secret()
    }

    /// Whether `ip` is one of [`Self::trusted_proxies`].
    pub fn is_trusted_proxy(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|b| b.contains(ip))
    }
}

/// An address or a CIDR block (`10.0.0.7`, `10.0.0.0/8`, `fd00::/8`). IPv4-mapped IPv6
/// addresses (`::ffff:10.0.0.7`, what a dual-stack listener reports) match as IPv4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpBlock {
    network: IpAddr,
    prefix: u8,
}

impl IpBlock {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, canonical_ip(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl std::str::FromStr for IpBlock {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a.trim(), Some(p.trim())),
            None => (s.trim(), None),
        };
        let network =
            canonical_ip(addr.parse::<IpAddr>().map_err(|_| format!("{s:?} is not an IP address or CIDR block"))?);
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| format!("{s:?}: bad prefix length"))?,
        };
        Ok(Self { network, prefix })
    }
}

/// IPv4-mapped IPv6 addresses as the IPv4 address they carry.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn parse_bool(key: &'static str, v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        other => Err(ConfigError::Invalid { key, message: format!("expected a boolean, got {other:?}") }),
    }
}

/// In dev without `SHIPGATE_SECRET_KEY`, a random key is generated once and kept in a
/// file beside the SQLite database (`<db>.secret`, mode 0600), so restarts keep sessions
/// and encrypted credentials readable. It is never committed (see .gitignore).
fn dev_secret_key(database_url: &str) -> Result<SecretString, ConfigError> {
    use base64::Engine;
    let path = dev_secret_path(database_url);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_owned();
        if existing.len() >= MIN_SECRET_LEN {
            return Ok(SecretString::from(existing));
        }
    }
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    let key = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    write_private(&path, &key).map_err(|source| ConfigError::SecretFile { path: path.clone(), source })?;
    tracing::warn!(path = %path.display(), "SHIPGATE_SECRET_KEY not set: generated a development key");
    Ok(SecretString::from(key))
}

fn dev_secret_path(database_url: &str) -> PathBuf {
    let file = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or(rest))
        .filter(|p| !p.is_empty() && !p.contains(":memory:"));
    match file {
        Some(p) => PathBuf::from(format!("{p}.secret")),
        None => PathBuf::from("shipgate.secret"),
    }
}

fn write_private(path: &PathBuf, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(contents.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Settings::from_sources(None, |k| map.get(k).cloned())
    }

    #[test]
    fn prod_requires_secret_key() {
        let err = settings(&[("SHIPGATE_ENV", "prod")]).err();
        assert!(matches!(err, Some(ConfigError::Invalid { key: "SHIPGATE_SECRET_KEY", .. })));
    }

    #[test]
    fn secrets_do_not_print() {
        let key = "k".repeat(40);
        let s = settings(&[
            ("SHIPGATE_SECRET_KEY", key.as_str()),
            ("SHIPGATE_DATABASE_URL", "postgres://user:hunter2@db/x"),
        ])
        .ok();
        let printed = format!("{s:?}");
        assert!(!printed.contains(&key));
        assert!(!printed.contains("hunter2"));
    }

    #[test]
    fn wildcard_cors_rejected() {
        let key = "k".repeat(40);
        let err = settings(&[("SHIPGATE_SECRET_KEY", key.as_str()), ("SHIPGATE_CORS_ORIGINS", "*")]).err();
        assert!(matches!(err, Some(ConfigError::Invalid { key: "SHIPGATE_CORS_ORIGINS", .. })));
    }

    #[test]
    fn trusted_proxies_are_addresses_and_cidr_blocks() {
        let key = "k".repeat(40);
        let s = settings(&[
            ("SHIPGATE_SECRET_KEY", key.as_str()),
            ("SHIPGATE_TRUSTED_PROXIES", " 10.0.0.0/8, 192.0.2.7 ,fd00::/8,"),
        ])
        .ok();
        let trusted =
            |ip: &str| s.as_ref().is_some_and(|s| s.is_trusted_proxy(ip.parse().unwrap_or(IpAddr::from([0u8; 4]))));
        assert!(trusted("10.200.3.4"));
        assert!(trusted("::ffff:10.1.1.1"));
        assert!(trusted("192.0.2.7"));
        assert!(!trusted("192.0.2.8"));
        assert!(trusted("fd12:3456::1"));
        assert!(!trusted("fe80::1"));
        assert!(!trusted("11.0.0.1"));
        let all: IpBlock = "0.0.0.0/0".parse().unwrap_or(IpBlock { network: IpAddr::from([1u8; 4]), prefix: 32 });
        assert!(all.contains("203.0.113.9".parse().unwrap_or(IpAddr::from([0u8; 4]))));
        // Empty by default; nonsense refused at boot.
        assert_eq!(settings(&[("SHIPGATE_SECRET_KEY", key.as_str())]).ok().map(|s| s.trusted_proxies.len()), Some(0));
        for bad in ["10.0.0.0/33", "proxy.internal", "10.0.0.1/x", "::/129"] {
            let err = settings(&[("SHIPGATE_SECRET_KEY", key.as_str()), ("SHIPGATE_TRUSTED_PROXIES", bad)]).err();
            assert!(matches!(err, Some(ConfigError::Invalid { key: "SHIPGATE_TRUSTED_PROXIES", .. })), "{bad}");
        }
    }

    #[test]
    fn prod_defaults_sandbox_off_dev_on() {
        let key = "k".repeat(40);
        let prod = settings(&[("SHIPGATE_ENV", "prod"), ("SHIPGATE_SECRET_KEY", key.as_str())]).ok();
        assert_eq!(prod.map(|s| s.sandbox), Some(false));
        let dev = settings(&[("SHIPGATE_SECRET_KEY", key.as_str())]).ok();
        assert_eq!(dev.map(|s| s.sandbox), Some(true));
    }
}
