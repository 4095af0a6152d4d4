//! Start-up and shutdown: opens storage, builds the `Kms`, brings a dev
//! server up (init, unsealed, `transit/` mounted) or unseals with the
//! device seal, binds the listener, and runs until Ctrl-C/SIGTERM or
//! [`RunningServer::shutdown`].

use crate::app::{AppState, router, uuid_v4};
use crate::device_seal::{self, DeviceSeal};
use crate::metrics::Metrics;
use crate::scheduler::Scheduler;
use crate::settings::{LogFormat, ServerSettings};
use crate::wire::unix_now;
use crate::{ServerError, listener};
use secrecy::{ExposeSecret, SecretString};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;
use yaoshi_core::audit::AuditSettings;
use yaoshi_core::kms::{InitRequest, InitSeal};
use yaoshi_core::{Kms, KmsOptions};

/// A server that is listening.
pub struct RunningServer {
    /// The bound address (useful with port 0).
    pub addr: SocketAddr,
    /// `https` or `http`.
    pub scheme: &'static str,
    /// The dev root token (dev mode only).
    pub root_token: Option<SecretString>,
    /// The service, for in-process callers.
    pub kms: Arc<Kms>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    checkpointer: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    /// The base address, e.g. `http://127.0.0.1:8200`.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// Stops accepting, finishes in-flight requests, and waits.
    /// The audit log gets a final signed checkpoint.
    pub async fn shutdown(self) -> Result<(), ServerError> {
        let _ = self.shutdown.send(true);
        let served = self
            .task
            .await
            .map_err(|e| ServerError::Startup(format!("server task failed: {e}")))?
            .map_err(|e| ServerError::Startup(format!("server failed: {e}")));
        let _ = self.checkpointer.await;
        served
    }

    /// Waits until the listener stops (after a shutdown request).
    pub async fn wait(self) -> Result<(), ServerError> {
        self.task
            .await
            .map_err(|e| ServerError::Startup(format!("server task failed: {e}")))?
            .map_err(|e| ServerError::Startup(format!("server failed: {e}")))
    }
}

/// Installs the global log subscriber once (later calls are no-ops).
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("YAOSHI_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Starts a server in the background of the current tokio runtime.
pub async fn start(settings: ServerSettings) -> Result<RunningServer, ServerError> {
    settings.validate()?;
    let storage = settings
        .storage
        .clone()
        .unwrap_or_else(|| "sqlite::memory:".to_string());
    let store = yaoshi_store::open_cached(&storage)
        .await
        .map_err(|e| ServerError::Startup(format!("cannot open storage: {e}")))?;
    let storage_type = store.backend();
    let audit = &settings.audit;
    let profile = settings.load_profile()?;
    tracing::info!(profile = %profile.name, "compliance profile");
    if profile.min_data_centres > settings.residency.distinct_data_centres() {
        tracing::warn!(
            profile = %profile.name,
            declared = settings.residency.distinct_data_centres(),
            required = profile.min_data_centres,
            "storage spans fewer data centres than the profile requires (a failed compliance finding)"
        );
    }
    let options = KmsOptions {
        barrier: profile.barrier_algorithm(),
        profile,
        residency: settings.residency.clone(),
        tls_enabled: settings.tls.is_some(),
        audit: AuditSettings {
            node: audit.node.clone().unwrap_or_else(host_name),
            group_commit: audit.group_commit,
            checkpoint_every_records: audit.checkpoint_every_records,
            checkpoint_interval_secs: audit.checkpoint_interval_secs,
            ..AuditSettings::default()
        },
        ..KmsOptions::default()
    };
    let scheduler = Arc::new(Scheduler::new(
        store.clone(),
        &options.audit.node,
        settings.ha.lease_ttl_secs,
    ));
    let kms = Arc::new(Kms::new(store, options));
    kms.reconcile_profile()
        .await
        .map_err(|e| ServerError::Startup(e.to_string()))?;
    let device = DeviceSeal::from_settings(&settings.seal).map(Arc::new);
    match &device {
        // Stops here when the HSM, token, PIN or key fails, or the store is
        // sealed another way.
        Some(device) => device.unseal_at_start(&kms).await?,
        None => device_seal::refuse_device_store(&kms).await?,
    }
    let mut root_token = None;
    if let Some(dev) = &settings.dev {
        let status = kms
            .seal_status()
            .await
            .map_err(|e| ServerError::Startup(e.to_string()))?;
        if status.initialized {
            return Err(ServerError::Startup(
                "dev mode needs fresh storage, and this storage is already initialised".into(),
            ));
        }
        let result = kms
            .init(InitRequest {
                seal: InitSeal::Dev,
                root_token: dev.root_token.clone(),
            })
            .await
            .map_err(|e| ServerError::Startup(format!("dev init failed: {e}")))?;
        root_token = Some(result.root_token);
    }
    let tls = match &settings.tls {
        Some(t) => Some(listener::tls_config(t).map_err(ServerError::Startup)?),
        None => None,
    };
    let tcp = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| ServerError::Startup(format!("cannot listen on {}: {e}", settings.listen)))?;
    let addr = tcp
        .local_addr()
        .map_err(|e| ServerError::Startup(e.to_string()))?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let state = Arc::new(AppState {
        kms: kms.clone(),
        metrics: Metrics::new(),
        storage_type,
        cluster_id: uuid_v4(),
        body_timeout: std::time::Duration::from_secs(settings.body_timeout_secs),
        scheduler: scheduler.clone(),
        device_seal: device.clone(),
    });
    let seal = match &device {
        Some(d) => d.kind(),
        None if settings.dev.is_some() => "dev",
        None => "shamir",
    };
    let (shutdown, receiver) = watch::channel(false);
    let rotation_check = i64::try_from(settings.ha.rotation_check_secs).unwrap_or(i64::MAX);
    let retention = settings
        .scheduled_prune_target(&kms.profile())?
        .map(|target| Retention {
            target,
            keep_days: settings.audit.prune_keep_days,
            every: i64::try_from(settings.audit.prune_check_secs).unwrap_or(i64::MAX),
        });
    let checkpointer = tokio::spawn(periodic_work(
        kms.clone(),
        scheduler,
        device,
        rotation_check,
        retention,
        receiver.clone(),
    ));
    let task = tokio::spawn(listener::serve(tcp, router(state), tls, receiver));
    tracing::info!(%addr, scheme, storage = storage_type, dev = settings.dev.is_some(), seal, "yaoshi listening");
    Ok(RunningServer {
        addr,
        scheme,
        root_token,
        kms,
        shutdown,
        task,
        checkpointer,
    })
}

/// Once a second until shutdown: with a device seal, unseals a sealed node
/// whose store another node initialised (one attempt per tick, each
/// distinct failure logged once); takes or renews the scheduler lease (only
/// while unsealed) and,
/// on the lease holder only, signs an audit checkpoint when the cadence
/// says one is due and runs auto-rotation every `rotation_check`; on every
/// node, picks up a profile changed through another node. At shutdown, one
/// more checkpoint over everything written, then the lease is released.
async fn periodic_work(
    kms: Arc<Kms>,
    scheduler: Arc<Scheduler>,
    device: Option<Arc<DeviceSeal>>,
    rotation_check: i64,
    retention: Option<Retention>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut last_prune_pass: Option<i64> = None;
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_rotation_pass: Option<i64> = None;
    let mut last_unseal_error: Option<String> = None;
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if let Some(device) = &device {
                    auto_unseal(device, &kms, &mut last_unseal_error).await;
                }
                let now = unix_now();
                let leads = if kms.is_sealed() {
                    scheduler.stand_down(now).await;
                    false
                } else {
                    scheduler.try_lead(now).await
                };
                if leads {
                    if let Err(e) = kms.checkpoint_if_due().await {
                        tracing::warn!(error = %e, "audit checkpoint failed");
                    }
                    let due = last_rotation_pass.is_none_or(|t| now - t >= rotation_check);
                    if due {
                        last_rotation_pass = Some(now);
                        auto_rotate(&kms, now).await;
                    }
                    if let Some(r) = &retention
                        && last_prune_pass.is_none_or(|t| now - t >= r.every)
                    {
                        last_prune_pass = Some(now);
                        prune_audit(&kms, r).await;
                    }
                } else {
                    // Should this node lead again later, it runs at once.
                    last_rotation_pass = None;
                    last_prune_pass = None;
                }
                match kms.refresh_profile().await {
                    Ok(true) => tracing::info!(profile = %kms.profile().name, "profile changed by another node"),
                    Ok(false) => {}
                    Err(e) => tracing::warn!(error = %e, "reading the stored profile failed"),
                }
            }
            _ = async { shutdown.wait_for(|s| *s).await.map(|_| ()) } => break,
        }
    }
    if !kms.is_sealed()
        && let Err(e) = kms.checkpoint_now().await
    {
        tracing::warn!(error = %e, "final audit checkpoint failed");
    }
    scheduler.release().await;
}

/// Scheduled audit retention (`[audit] prune_destination`).
struct Retention {
    target: yaoshi_core::residency::BackupTarget,
    keep_days: u64,
    every: i64,
}

/// One retention pass: archive and prune what is old enough.
async fn prune_audit(kms: &Kms, retention: &Retention) {
    match kms
        .scheduled_audit_prune(&retention.target, retention.keep_days)
        .await
    {
        Ok(Some(done)) => tracing::info!(
            from = done.plan.from,
            to = done.plan.to,
            archive = %done.archive.display(),
            "audit records archived and pruned"
        ),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "scheduled audit pruning failed"),
    }
}

/// One auto-unseal attempt; a failure is logged when it differs from the
/// previous one, so a lasting problem is one log line, not one a second.
async fn auto_unseal(device: &DeviceSeal, kms: &Kms, last_error: &mut Option<String>) {
    match device.try_auto_unseal(kms).await {
        Ok(true) => *last_error = None,
        Ok(false) => {}
        Err(e) => {
            let message = e.to_string();
            if last_error.as_deref() != Some(message.as_str()) {
                tracing::error!(error = %message, "auto-unseal failed; retrying every second");
                *last_error = Some(message);
            }
        }
    }
}

/// One auto-rotation pass over every mount, logged key by key.
async fn auto_rotate(kms: &Kms, now: i64) {
    match kms.auto_rotate_mounts(now).await {
        Ok(done) => {
            for r in done {
                match r.result {
                    Ok(version) => {
                        tracing::info!(mount = %r.mount, key = %r.key, version, "key auto-rotated")
                    }
                    Err(e) => {
                        tracing::warn!(mount = %r.mount, key = %r.key, error = %e, "auto-rotation failed")
                    }
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "auto-rotation pass failed"),
    }
}

/// The machine's host name (the default node name in audit records).
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "yaoshi".into())
}

/// Runs until Ctrl-C or SIGTERM; prints the address and, in dev mode, the
/// root token to stdout.
pub async fn run(settings: ServerSettings) -> Result<(), ServerError> {
    init_logging(settings.log_format);
    let dev = settings.dev.is_some();
    let server = start(settings).await?;
    if dev {
        println!("yaoshi dev server (in-memory root key; everything is lost at exit)");
        println!();
        println!("    export YAOSHI_ADDR='{}'", server.url());
        println!("    export VAULT_ADDR='{}'", server.url());
        if let Some(token) = &server.root_token {
            println!("    Root Token: {}", token.expose_secret());
        }
        println!();
        println!("transit/ is mounted. The server is initialised and unsealed.");
    } else {
        println!("yaoshi listening on {}", server.url());
    }
    shutdown_signal().await;
    tracing::info!("shutting down");
    server.shutdown().await
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
