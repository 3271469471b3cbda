//! `shipgate`: serve | migrate | create-user | export-schema.

use std::{path::PathBuf, process::ExitCode, sync::Arc};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use api::{Application, Settings, domain::identity::OrgChoice, graphql::sdl};

/// mimalloc rather than the system allocator: a GraphQL response is thousands of small
/// short-lived allocations (rows, strings, values), where glibc malloc cost ~25 % of the
/// server's CPU under `bench/profile a` (see bench/RESULTS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "shipgate", version, about = "Shipgate GraphQL API server")]
struct Cli {
    /// Optional TOML config file (keys mirror the SHIPGATE_* variables, lower-case, without prefix).
    #[arg(long, global = true, env = "SHIPGATE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Apply migrations and serve HTTP (default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Create a user (in a new organization, or an existing one).
    CreateUser {
        #[arg(long)]
        email: String,
        /// Password; read from SHIPGATE_NEW_USER_PASSWORD when omitted, generated and printed when neither is set.
        #[arg(long, env = "SHIPGATE_NEW_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// Name of a new organization to create.
        #[arg(long, conflicts_with = "organization_id", required_unless_present = "organization_id")]
        organization_name: Option<String>,
        /// Id (UUID) of an existing organization.
        #[arg(long)]
        organization_id: Option<uuid::Uuid>,
        #[arg(long, value_enum, default_value = "owner")]
        role: RoleArg,
        /// Platform staff of the logistics company.
        #[arg(long)]
        staff: bool,
    },
    /// Print the GraphQL SDL (or write it with --out; with --check, fail if the file differs).
    ExportSchema {
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        check: bool,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    Owner,
    Admin,
    Operator,
    Viewer,
}

impl From<RoleArg> for entity::enums::Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Owner => Self::Owner,
            RoleArg::Admin => Self::Admin,
            RoleArg::Operator => Self::Operator,
            RoleArg::Viewer => Self::Viewer,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Some(Command::ExportSchema { out, check }) = &cli.command {
        return export_schema(out.clone(), *check);
    }
    let settings = Settings::load(cli.config.clone()).context("configuration")?;
    api::telemetry::init(settings.is_prod());
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Migrate => {
            let db = api::db::connect(settings.database_url()).await.context("connecting to the database")?;
            api::db::migrate(&db).await.context("applying migrations")?;
            println!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::CreateUser { email, password, organization_name, organization_id, role, staff } => {
            let db = api::db::connect(settings.database_url()).await.context("connecting to the database")?;
            api::db::migrate(&db).await.context("applying migrations")?;
            let services = api::app::services(Arc::new(settings), db)?;
            let (password, generated) = match password {
                Some(p) => (p, false),
                None => (generate_password(), true),
            };
            let org = match (organization_name, organization_id) {
                (Some(name), _) => OrgChoice::New(name),
                (None, Some(id)) => OrgChoice::Existing(id),
                (None, None) => bail!("--organization-name or --organization-id is required"),
            };
            let view = services
                .identity
                .create_user_cli(&email, &password, role.into(), staff, org)
                .await
                .map_err(|e| anyhow::anyhow!("{}", describe(&e)))?;
            println!(
                "created user {} ({:?}) in organization {}",
                view.user.email, view.membership.role, view.membership.organization_id
            );
            if generated {
                println!("password: {password}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::ExportSchema { .. } => Ok(ExitCode::SUCCESS),
    }
}

async fn serve(settings: Settings) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let app = Application::build(settings).await.context("starting")?;
    let addr = app.local_addr().context("listener address")?;
    tracing::info!(%addr, ready_ms = started.elapsed().as_millis() as u64, "shipgate ready");
    println!("Shipgate listening on http://{addr} (GraphiQL: http://{addr}/graphql)");
    if let Some(demo) = &app.demo_login {
        println!("Sandbox demo login (shown once): email {}  password {}", demo.email, demo.password);
    }
    app.run_until_stopped(api::shutdown_signal()).await.context("serving")?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

fn export_schema(out: Option<PathBuf>, check: bool) -> anyhow::Result<ExitCode> {
    let sdl = sdl();
    match (out, check) {
        (Some(path), true) => {
            let current = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            if current == sdl {
                Ok(ExitCode::SUCCESS)
            } else {
                eprintln!("{} is out of date: run `shipgate export-schema --out {}`", path.display(), path.display());
                Ok(ExitCode::FAILURE)
            }
        }
        (Some(path), false) => {
            std::fs::write(&path, sdl).with_context(|| format!("writing {}", path.display()))?;
            Ok(ExitCode::SUCCESS)
        }
        (None, true) => bail!("--check needs --out <file>"),
        (None, false) => {
            print!("{sdl}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn describe(e: &api::error::DomainError) -> String {
    match e {
        api::error::DomainError::User(errors) => {
            errors.iter().map(|e| format!("{}: {}", e.field.join("."), e.message)).collect::<Vec<_>>().join("; ")
        }
        other => other.to_string(),
    }
}

fn generate_password() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 12];
    rand::fill(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
