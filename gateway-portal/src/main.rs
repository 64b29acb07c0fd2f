//! `gateway-portal`: the admin service binary (serve, or apply migrations and exit).

use std::net::SocketAddr;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use gateway_portal::{AppState, db};

#[derive(Parser)]
#[command(
    version,
    about = "The gateway's admin portal: REST API under /api and web UI at /"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Postgres URL, e.g. postgres://postgres@127.0.0.1:5432/gateway.
    #[arg(long, env = "DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Address to serve on.
    #[arg(long, default_value = "127.0.0.1:9000")]
    listen: SocketAddr,
    /// Password of user `admin`, created only when the portal has no user yet.
    #[arg(long, env = "PORTAL_ADMIN_PASSWORD", hide_env_values = true)]
    admin_password: Option<String>,
    /// The Redis the gateway nodes share: where the portal reads when each credential was last used.
    #[arg(long, env = "GATEWAY_REDIS_URL", hide_env_values = true)]
    redis_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Apply the database migrations and exit.
    Migrate,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let url = cli
        .database_url
        .context("--database-url (or DATABASE_URL) is required")?;
    let pool = db::connect(&url).await.context("connecting to Postgres")?;
    db::migrate(&pool).await.context("applying migrations")?;
    if let Some(Command::Migrate) = cli.command {
        println!("migrations applied");
        return Ok(());
    }
    let has_users: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM admin_users)")
        .fetch_one(&pool)
        .await?;
    if !has_users {
        let password = cli.admin_password.context(
            "no admin user exists yet: pass --admin-password (or PORTAL_ADMIN_PASSWORD) to create `admin`",
        )?;
        db::bootstrap_admin(&pool, &password).await?;
    }
    let listener = tokio::net::TcpListener::bind(cli.listen)
        .await
        .with_context(|| format!("binding {}", cli.listen))?;
    let address = listener.local_addr()?;
    println!("gateway-portal: open http://{address}/ and log in as `admin`");
    tracing::info!(%address, "portal listening");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    // The key that seals shared secrets comes from the environment, never from the database.
    let secret_key = gateway_web::stores::SecretKey::from_env()
        .map_err(anyhow::Error::msg)?
        .map(std::sync::Arc::new);
    if secret_key.is_none() {
        tracing::warn!(
            "GATEWAY_SECRET_KEY is not set: shared secrets (HMAC credentials) cannot be issued"
        );
    }
    let redis = match &cli.redis_url {
        Some(url) => Some(std::sync::Arc::new(
            gateway_web::stores::RedisStore::new(url).map_err(anyhow::Error::msg)?,
        )),
        None => None,
    };
    let mut state = AppState::new(pool);
    state.services = gateway_web::stores::Services::new(redis, secret_key);
    gateway_portal::run(state, listener, shutdown).await?;
    Ok(())
}
