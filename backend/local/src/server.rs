//! Starting and stopping the local server.

use crate::clock::SystemClock;
use crate::config::Config;
use crate::dev_sign_in;
use crate::gateway::{self, Gateway};
use crate::http_bridge;
use crate::management;
use crate::push::LocalPusher;
use anyhow::Context;
use axum::Router;
use axum::routing::{any, get, post};
use axum::serve::ListenerExt;
use console_domain::ports::DirectoryStore;
use console_domain::{Clock, Store};
use console_handlers::auth::OidcIssuer;
use console_handlers::{App, TokenAuthority};
use console_store_embedded::EmbeddedStore;
use futures_util::future::BoxFuture;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// A running local server.
#[derive(Debug)]
pub struct RunningServer {
    /// The address it listens on.
    pub addr: SocketAddr,
    stop: Option<watch::Sender<bool>>,
    task: JoinHandle<()>,
    pusher: Arc<LocalPusher>,
    active: Arc<()>,
}

impl RunningServer {
    /// The console's URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many WebSockets are open.
    pub fn live_connections(&self) -> usize {
        self.pusher.live()
    }

    /// The ids of the open WebSockets.
    pub fn connection_ids(&self) -> Vec<console_domain::ConnectionId> {
        self.pusher.ids()
    }

    /// Stops accepting, closes every socket, and waits until every socket's
    /// `$disconnect` has run and the store is closed.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        let _ = (&mut self.task).await;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        while Arc::strong_count(&self.active) > 1 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// Waits until the server stops by itself (it does not, unless it fails).
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// What runs behind the emulated API Gateway.
pub enum Backend {
    /// The embedded store in the data folder (seeded with the demo directory when
    /// empty), pushing straight to the sockets: the local console.
    Embedded,
    /// Another store (a fault-injecting wrapper, say), pushing straight to the sockets;
    /// the directory is the caller's business.
    Store(Arc<dyn Store>),
    /// The handlers wired as in AWS, built once the server's URL is known — its
    /// `@connections` endpoint is that URL: the Lambda functions' context, for running
    /// them against an emulated DynamoDB and this server's management API.
    Functions(Box<dyn FnOnce(String) -> BoxFuture<'static, anyhow::Result<App>> + Send>),
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Embedded => "Embedded",
            Backend::Store(_) => "Store",
            Backend::Functions(_) => "Functions",
        })
    }
}

/// Opens the embedded store (seeding the demo directory if it is empty), binds the
/// listener and serves the console, the HTTP API and the WebSocket gateway.
pub async fn start(config: Config) -> anyhow::Result<RunningServer> {
    start_with(config, Backend::Embedded).await
}

/// As [`start`], with the given backend.
pub async fn start_with(config: Config, backend: Backend) -> anyhow::Result<RunningServer> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "cannot create the data folder {}",
            config.data_dir.display()
        )
    })?;
    let pusher = Arc::new(LocalPusher::default());
    let app = match backend {
        Backend::Embedded => local_app(&config, Arc::new(embedded_store(&config).await?), &pusher)?,
        Backend::Store(store) => local_app(&config, store, &pusher)?,
        Backend::Functions(build) => build(format!("http://{addr}")).await?,
    };
    let (stop, stopping) = watch::channel(false);
    let active = Arc::new(());
    let gateway = Gateway {
        app: app.clone(),
        pusher: pusher.clone(),
        stopping: stopping.clone(),
        active: active.clone(),
        lifetimes: config.lifetimes,
    };

    let console = ServeDir::new(&config.console_dir)
        .fallback(ServeFile::new(config.console_dir.join("index.html")));
    let router = Router::new()
        .route("/api/{*path}", any(http_bridge::api).with_state(app))
        .route("/ws", get(gateway::upgrade).with_state(gateway))
        .merge(dev_sign_in::routes(&config.console_dir))
        .route(
            "/@connections/{id}",
            post(management::post)
                .get(management::get)
                .delete(management::delete)
                .with_state(pusher.clone()),
        )
        .fallback_service(console);

    let policy = crate::security::content_security_policy(&config.console_dir);
    let router = router
        .layer(SetResponseHeaderLayer::if_not_present(
            http::header::CONTENT_SECURITY_POLICY,
            http::HeaderValue::from_str(&policy).context("a header-safe policy")?,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            http::header::X_CONTENT_TYPE_OPTIONS,
            http::HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            http::header::X_FRAME_OPTIONS,
            http::HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            http::header::REFERRER_POLICY,
            http::HeaderValue::from_static("no-referrer"),
        ))
        // Before anything else: a request naming a host this server is not.
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(config.allowed_hosts.clone()),
            refuse_foreign_hosts,
        ));
    let mut stopped = stopping;
    // Frames are small and each is awaited by an agent: sent as soon as written, not held
    // back until the previous one is acknowledged (Nagle), which on loopback meant up to
    // the receiver's 40 ms delayed ACK.
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY on a connection");
        }
    });
    let task = tokio::spawn(async move {
        let served = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stopped.changed().await;
        })
        .await;
        if let Err(error) = served {
            tracing::error!(%error, "the local server stopped");
        }
    });
    Ok(RunningServer {
        addr,
        stop: Some(stop),
        task,
        pusher,
        active,
    })
}

/// Refuses a request whose `Host` this server does not answer to (see
/// [`crate::security::host_allowed`]) with `403 forbidden`, before it reaches anything.
async fn refuse_foreign_hosts(
    axum::extract::State(allowed): axum::extract::State<Arc<Vec<String>>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let host = request
        .headers()
        .get(http::header::HOST)
        .and_then(|value| value.to_str().ok());
    if crate::security::host_allowed(host, &allowed) {
        return next.run(request).await;
    }
    let body = protocol::ErrorBody {
        code: protocol::ErrorCode::Forbidden,
        message: format!(
            "this server answers to localhost and IP addresses (and --allowed-host names), \
             not to Host {}",
            host.unwrap_or("(none)")
        ),
    };
    let mut response = axum::response::IntoResponse::into_response((
        http::StatusCode::FORBIDDEN,
        serde_json::to_string(&body).unwrap_or_default(),
    ));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

/// Opens the embedded store in the data folder, forgets the previous run's connections
/// (no socket survives a restart) and seeds the demo directory into an empty store.
async fn embedded_store(config: &Config) -> anyhow::Result<EmbeddedStore> {
    let store = EmbeddedStore::open(&config.data_dir.join("console.redb"))
        .context("cannot open the embedded store")?;
    store
        .clear_connections()
        .context("cannot reset connections")?;
    if store
        .tenants()
        .await
        .context("cannot read the directory")?
        .is_empty()
    {
        for (tenant, agents) in crate::demo::directory() {
            store
                .put_tenant(&tenant, &agents)
                .await
                .context("cannot seed the demo directory")?;
        }
    }
    Ok(store)
}

/// The local server's handler context: the given store, pushes straight to the sockets,
/// tokens signed with the data folder's key (and the configured OIDC issuer's), and the
/// development sign-in.
fn local_app(
    config: &Config,
    store: Arc<dyn Store>,
    pusher: &Arc<LocalPusher>,
) -> anyhow::Result<App> {
    let mut tokens = TokenAuthority::new(&signing_secret(&config.data_dir)?);
    if let Some(oidc) = &config.oidc {
        let text = std::fs::read_to_string(&oidc.jwks_file)
            .with_context(|| format!("cannot read the JWKS file {}", oidc.jwks_file.display()))?;
        let keys = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a JWKS", oidc.jwks_file.display()))?;
        tokens = tokens
            .with_oidc(OidcIssuer {
                issuer: oidc.issuer.clone(),
                audience: oidc.audience.clone(),
                keys,
                tenant_claim: oidc.tenant_claim.clone(),
                agent_claim: oidc.agent_claim.clone(),
            })
            .refreshing_keys_from(Arc::new(JwksFile(oidc.jwks_file.clone())));
    }
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    Ok(App {
        store,
        pusher: pusher.clone(),
        clock,
        order: Arc::new(crate::order::StripedOrder::new()),
        tokens,
        dev_sign_in: true,
        send_quota: config.send_quota,
    })
}

/// The token signing secret, made once and kept in the data folder so that sign-ins
/// survive a restart.
fn signing_secret(data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    let path = data_dir.join("signing.key");
    if let Ok(existing) = std::fs::read(&path)
        && existing.len() >= 32
    {
        return Ok(existing);
    }
    let secret: Vec<u8> = (0..2)
        .flat_map(|_| *uuid::Uuid::new_v4().as_bytes())
        .collect();
    std::fs::write(&path, &secret).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(secret)
}

/// The identity provider's keys, read again from their file when a token names a key
/// it did not hold (the provider rotated its keys and the file was replaced).
struct JwksFile(std::path::PathBuf);

#[async_trait::async_trait]
impl console_handlers::auth::KeySource for JwksFile {
    async fn fetch(&self) -> Result<console_handlers::auth::JwkSet, String> {
        let text = tokio::fs::read_to_string(&self.0)
            .await
            .map_err(|e| format!("{}: {e}", self.0.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", self.0.display()))
    }
}
