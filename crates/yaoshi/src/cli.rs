//! Command-line grammar of the `yaoshi` binary (clap derive types only; the
//! behaviour lives in `commands`).

use clap::{ArgGroup, Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Text shown under `yaoshi --help`.
const ROOT_AFTER_HELP: &str = "\
Exit codes: 0 success; 1 failure (connection, I/O, server 5xx), and `compliance check` \
with a failed finding; 2 usage error or client error from the server (4xx), and \
`operator status` on a sealed server; 3 `verify` of an invalid signature.";

/// The `yaoshi` command line.
#[derive(Parser)]
#[command(
    name = "yaoshi",
    version,
    about = "A self-hosted KMS with SM2/SM3/SM4 and a Vault/OpenBao-compatible Transit API",
    after_help = ROOT_AFTER_HELP
)]
pub struct Cli {
    /// Options every command accepts.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options accepted by every command (before or after the command name).
#[derive(Args)]
pub struct GlobalArgs {
    /// Server address. When not given: $YAOSHI_ADDR, then $VAULT_ADDR, then
    /// $BAO_ADDR, then http://127.0.0.1:8200.
    #[arg(long, global = true, value_name = "URL")]
    pub addr: Option<String>,
    /// Token sent as X-Vault-Token. When not given: $YAOSHI_TOKEN, then
    /// $VAULT_TOKEN, then $BAO_TOKEN (prefer the environment: arguments are
    /// visible to other local users).
    #[arg(long, global = true, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Print the JSON result (the `data` of the server's answer, `{}` when it
    /// has none) instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Extra CA certificate(s) (PEM) to trust for https addresses, in
    /// addition to the system roots.
    #[arg(long, global = true, value_name = "PATH")]
    pub ca_cert: Option<PathBuf>,
}

/// Top-level commands.
#[derive(Subcommand)]
pub enum Command {
    /// Run the yaoshi server.
    Server(ServerArgs),
    /// Initialise, unseal, seal and inspect the server.
    Operator {
        /// Operator action.
        #[command(subcommand)]
        command: OperatorCommand,
    },
    /// Create, list, show, rotate, configure and delete Transit keys.
    Key {
        /// Key action.
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Encrypt data with a Transit key; prints the ciphertext.
    Encrypt(EncryptArgs),
    /// Decrypt a ciphertext; writes the plaintext bytes to stdout.
    Decrypt(DecryptArgs),
    /// Sign data with an asymmetric key; prints the signature.
    Sign(SignArgs),
    /// Verify a signature; prints true or false (exit 0 when valid, 3 when not).
    Verify(VerifyArgs),
    /// Generate a data key, wrapped by a Transit key.
    Datakey(DatakeyArgs),
    /// Compute an HMAC of data with a Transit key.
    Hmac(HmacArgs),
    /// Manage principals (application identities with roles and grants).
    Principal {
        /// Principal action.
        #[command(subcommand)]
        command: PrincipalCommand,
    },
    /// The audit log: public key, checkpoints, export, offline and online
    /// verification, proofs.
    Audit {
        /// Audit action.
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// The compliance profile the deployment runs under: show or change it.
    Profile {
        /// Profile action.
        #[command(subcommand)]
        command: ProfileCommand,
    },
    /// Dual control: list, show, approve or reject parked requests.
    Approval {
        /// Approval action.
        #[command(subcommand)]
        command: ApprovalCommand,
    },
    /// Compliance: findings against the profile in force, and the monthly
    /// report (JSON + HTML).
    Compliance {
        /// Compliance action.
        #[command(subcommand)]
        command: ComplianceCommand,
    },
    /// Benchmarks on this machine.
    Bench {
        /// What to measure.
        #[command(subcommand)]
        what: BenchCommand,
    },
}

/// Text shown under `yaoshi server --help`.
const SERVER_AFTER_HELP: &str = "\
Modes:
  yaoshi server --dev [--listen ADDR] [--dev-root-token TOKEN] [--storage URL]
  yaoshi server --storage URL [--listen ADDR] [--tls-cert C --tls-key K [--tls-client-ca CA]]
  yaoshi server --config FILE

--config FILE takes every setting from the TOML file (keys: listen, storage, log_format, profile,
[tls] cert/key/client_ca, [dev] root_token, [audit], [ha], [residency], and
[seal.pkcs11] module_path/token_label/key_label/pin for a PKCS#11 seal that unseals the node at
start; $YAOSHI_PKCS11_PIN overrides `pin`); giving any other server flag together with
--config is an error, so what runs is exactly what the file says.";

/// `yaoshi server` options.
#[derive(Args)]
#[command(after_help = SERVER_AFTER_HELP)]
pub struct ServerArgs {
    /// Read all settings from this TOML file (cannot be combined with other server flags).
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = [
            "dev", "listen", "dev_root_token", "storage",
            "tls_cert", "tls_key", "tls_client_ca", "log_json", "profile",
            "jurisdiction", "storage_location", "backup_target",
        ]
    )]
    pub config: Option<PathBuf>,
    /// Development mode: in-memory root key, initialised, unsealed, transit/
    /// mounted, root token printed. Never use for real keys.
    #[arg(long)]
    pub dev: bool,
    /// Address to listen on [default: 127.0.0.1:8200].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Root token to issue in dev mode (random when not given).
    #[arg(long, value_name = "TOKEN", requires = "dev")]
    pub dev_root_token: Option<String>,
    /// Storage URL: sqlite://PATH, sqlite::memory: or postgres://... (required
    /// outside dev mode; dev mode defaults to a temporary SQLite file).
    #[arg(long, value_name = "URL", required_unless_present_any = ["dev", "config"])]
    pub storage: Option<String>,
    /// TLS certificate chain (PEM, leaf first); enables https.
    #[arg(long, value_name = "PATH", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, value_name = "PATH", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Require client certificates issued by this CA (PEM).
    #[arg(long, value_name = "PATH", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// Log one JSON object per line instead of text.
    #[arg(long)]
    pub log_json: bool,
    /// Compliance profile: default, gb39786-l2, gb39786-l3, gb39786-l4, or a
    /// TOML file of your own [default: default].
    #[arg(long, value_name = "NAME|FILE")]
    pub profile: Option<String>,
    /// Jurisdiction the deployment's data stays in, e.g. CN.
    #[arg(long, value_name = "CODE")]
    pub jurisdiction: Option<String>,
    /// Location tag of a storage endpoint (primary or replica), e.g.
    /// cn-shanghai-a; repeat for each data centre.
    #[arg(long, value_name = "LOCATION")]
    pub storage_location: Vec<String>,
    /// A backup target clients may name as destination=NAME:
    /// NAME=LOCATION or NAME=LOCATION:DIR (DIR receives audit archives);
    /// repeatable.
    #[arg(long, value_name = "NAME=LOCATION[:DIR]")]
    pub backup_target: Vec<String>,
}

/// `yaoshi operator` actions.
#[derive(Subcommand)]
pub enum OperatorCommand {
    /// Initialise a new server: split the root key into unseal key shares and
    /// issue the initial root token (PUT /v1/sys/init).
    Init {
        /// Number of unseal key shares.
        #[arg(long, value_name = "N", default_value_t = 5,
              value_parser = clap::value_parser!(u32).range(1..=255))]
        shares: u32,
        /// Shares needed to unseal.
        #[arg(long, value_name = "T", default_value_t = 3,
              value_parser = clap::value_parser!(u32).range(1..=255))]
        threshold: u32,
    },
    /// Submit one unseal key share (PUT /v1/sys/unseal); prints the progress.
    Unseal {
        /// The key share (hex or base64); `-` or omitted reads one line from stdin.
        #[arg(value_name = "KEY", conflicts_with = "reset")]
        key: Option<String>,
        /// Discard the shares submitted so far.
        #[arg(long)]
        reset: bool,
    },
    /// Seal the server (PUT /v1/sys/seal).
    Seal,
    /// Show the seal status (GET /v1/sys/seal-status); exit 0 unsealed, 2 sealed.
    Status,
    /// Back the whole deployment up (GET /v1/sys/backup): every key, the
    /// configuration and the audit log, sealed under the root key and
    /// signed with the audit key. Roles: root, sys-admin.
    Backup {
        /// File to write (created with mode 0600; replaced atomically).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Backup target the file is for (required when the profile
        /// restricts locations).
        #[arg(long, value_name = "TARGET")]
        destination: Option<String>,
    },
    /// Restore a backup into a server whose store was never initialised
    /// (POST /v1/sys/restore); then unseal it with the backup's unseal keys.
    Restore {
        /// The backup file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Check a backup file offline against the deployment's audit public
    /// key (no server needed); exit 0 valid, 3 not.
    VerifyBackup {
        /// The backup file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// The audit public key (PEM file, from `yaoshi audit public-key`).
        #[arg(long, value_name = "PEM")]
        public_key: PathBuf,
    },
}

/// The Transit mount to address.
#[derive(Args)]
pub struct MountArg {
    /// Path the Transit engine is mounted at.
    #[arg(long, value_name = "PATH", default_value = "transit")]
    pub mount: String,
}

/// A key name plus the mount.
#[derive(Args)]
pub struct KeyNameArgs {
    /// Key name.
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Mount.
    #[command(flatten)]
    pub mount: MountArg,
}

/// `yaoshi key` actions.
#[derive(Subcommand)]
pub enum KeyCommand {
    /// Create a key (POST /v1/{mount}/keys/NAME).
    Create(KeyCreateArgs),
    /// List key names (LIST /v1/{mount}/keys).
    List(MountArg),
    /// Show a key's settings and versions (GET /v1/{mount}/keys/NAME).
    Show(KeyNameArgs),
    /// Add a new key version (POST /v1/{mount}/keys/NAME/rotate).
    Rotate(KeyNameArgs),
    /// Change a key's settings (POST /v1/{mount}/keys/NAME/config).
    Config(KeyConfigArgs),
    /// Delete a key; needs deletion_allowed=true (DELETE /v1/{mount}/keys/NAME).
    Delete(KeyNameArgs),
}

/// `yaoshi key create` options.
#[derive(Args)]
pub struct KeyCreateArgs {
    /// Key name.
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Key type: aes128-gcm96, aes256-gcm96, chacha20-poly1305, sm4-gcm96,
    /// ed25519, ecdsa-p256, ecdsa-p384, ecdsa-p521, rsa-2048, rsa-3072,
    /// rsa-4096, sm2, hmac.
    #[arg(long = "type", value_name = "TYPE", default_value = "aes256-gcm96")]
    pub key_type: String,
    /// Allow the key to be exported.
    #[arg(long)]
    pub exportable: bool,
    /// Derive a key per context (encrypt/decrypt then need --context).
    #[arg(long)]
    pub derived: bool,
    /// Rotate automatically at this period (e.g. 24h, 30d; 0 disables).
    #[arg(long, value_name = "PERIOD")]
    pub auto_rotate_period: Option<String>,
    /// Mount.
    #[command(flatten)]
    pub mount: MountArg,
}

/// `yaoshi key config` options (at least one change is required).
#[derive(Args)]
#[command(group(
    ArgGroup::new("change")
        .required(true)
        .multiple(true)
        .args([
            "min_decryption_version", "min_encryption_version",
            "deletion_allowed", "exportable", "auto_rotate_period",
        ])
))]
pub struct KeyConfigArgs {
    /// Key name.
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Oldest version that may still decrypt.
    #[arg(long, value_name = "N")]
    pub min_decryption_version: Option<u64>,
    /// Version used to encrypt (0 = latest).
    #[arg(long, value_name = "N")]
    pub min_encryption_version: Option<u64>,
    /// Whether `key delete` is allowed.
    #[arg(long, value_name = "BOOL")]
    pub deletion_allowed: Option<bool>,
    /// Make the key exportable (cannot be undone).
    #[arg(long)]
    pub exportable: bool,
    /// Rotate automatically at this period (e.g. 24h; 0 disables).
    #[arg(long, value_name = "PERIOD")]
    pub auto_rotate_period: Option<String>,
    /// Mount.
    #[command(flatten)]
    pub mount: MountArg,
}

/// Options shared by data commands of derived or versioned keys.
#[derive(Args)]
pub struct ContextArg {
    /// Derivation context (base64), for keys created with --derived.
    #[arg(long, value_name = "B64")]
    pub context: Option<String>,
}

/// `yaoshi encrypt` options.
#[derive(Args)]
pub struct EncryptArgs {
    /// Key name.
    #[arg(value_name = "KEY")]
    pub key: String,
    /// Plaintext: literal text, @PATH to read a file, or `-`/omitted for stdin.
    /// Sent base64-encoded.
    #[arg(value_name = "DATA")]
    pub data: Option<String>,
    /// Read the plaintext from this file.
    #[arg(long, value_name = "PATH", conflicts_with = "data")]
    pub file: Option<PathBuf>,
    /// Associated data (authenticated, not encrypted); sent base64-encoded.
    #[arg(long, value_name = "TEXT")]
    pub associated_data: Option<String>,
    /// Encrypt with this key version instead of the latest.
    #[arg(long, value_name = "N")]
    pub key_version: Option<u64>,
    /// Context.
    #[command(flatten)]
    pub context: ContextArg,
    /// Mount.
    #[command(flatten)]
    pub mount: MountArg,
}

/// `yaoshi decrypt` options.
#[derive(Args)]
pub struct DecryptArgs {
    /// Key name.
    #[arg(value_name = "KEY")]
    pub key: String,
    /// Ciphertext (`vault:v1:...`): literal, @PATH, or `-`/omitted for stdin.
    #[arg(value_name = "CIPHERTEXT")]
    pub ciphertext: Option<String>,
    /// Read the ciphertext from this file.
    #[arg(long, value_name = "PATH", conflicts_with = "ciphertext")]
    pub file: Option<PathBuf>,
    /// Associated data given at encryption.
    #[arg(long, value_name = "TEXT")]
    pub associated_data: Option<String>,
    /// Context.
    #[command(flatten)]
    pub context: ContextArg,
    /// Mount.
    #[command(flatten)]
    pub mount: MountArg,
}

/// Signature options shared by sign and verify.
#[derive(Args)]
pub struct SignatureOptions {
    /// Hash algorithm: sha2-224, sha2-256, sha2-384, sha2-512, sha3-*, sm3 (the
    /// server's default when omitted; SM2 keys always use sm3).
    #[arg(long, value_name = "ALG")]
    pub hash_algorithm: Option<String>,
    /// DATA is already a digest of the hash algorithm.
    #[arg(long)]
    pub prehashed: bool,
    /// RSA padding: pss or pkcs1v15.
    #[arg(long, value_name = "ALG")]
    pub signature_algorithm: Option<String>,
}

/// `yaoshi sign` options.
#[derive(Args)]
pub struct SignArgs {
    /// Key name.
    #[arg(value_name = "KEY")]
    pub key: String,
    /// Data: literal text, @PATH, or `-`/omitted for stdin. Sent base64-encoded.
    #[arg(value_name = "DATA")]
    pub data: Option<String>,
    /// Read the data from this file.
    #[arg(long, value_name = "PATH", conflicts_with = "data")]
    pub file: Option<PathBuf>,
    /// Sign with this key version instead of the latest.
    #[arg(long, value_name = "N")]
    pub key_version: Option<u64>,
    /// Signature options.
    #[command(flatten)]
    pub options: SignatureOptions,
    /// Context.
    #[command(flatten)]
    pub context: ContextArg,
    /// Mount.
    #[command(flatten)]
    pub mount: MountArg,
}

/// `yaoshi verify` options.
#[derive(Args)]
pub struct VerifyArgs {
    /// Key name.
    #[arg(value_name = "KEY")]
    pub key: String,
    /// Data: literal text, @PATH, or `-`/omitted for stdin.
    #[arg(value_name = "DATA")]
    pub data: Option<String>,
    /// Read the data from this file.
    #[arg(long, value_name = "PATH", conflicts_with = "data")]
    pub file: Option<PathBuf>,
    /// The signature (`vault:v1:...`), or @PATH to read it from a file.
    #[arg(long, value_name = "SIG")]
    pub signature: String,
    /// Signature options.
    #[command(flatten)]
    pub options: SignatureOptions,
    /// Context.
    #[command(flatten)]
    pub context: ContextArg,
    /// Mount.
    #[command(flatten)]
    pub mount: MountArg,
}

/// `yaoshi datakey` options.
#[derive(Args)]
pub struct DatakeyArgs {
    /// Key name.
    #[arg(value_name = "KEY")]
    pub key: String,
    /// Also return the data key in plaintext (otherwise only wrapped).
    #[arg(long)]
    pub plaintext: bool,
    /// Data key length in bits.
    #[arg(long, value_name = "BITS", default_value_t = 256, value_parser = parse_bits)]
    pub bits: u32,
    /// Context.
    #[command(flatten)]
    pub context: ContextArg,
    /// Mount.
    #[command(flatten)]
    pub mount: MountArg,
}

/// `yaoshi hmac` options.
#[derive(Args)]
pub struct HmacArgs {
    /// Key name.
    #[arg(value_name = "KEY")]
    pub key: String,
    /// Data: literal text, @PATH, or `-`/omitted for stdin. Sent base64-encoded.
    #[arg(value_name = "DATA")]
    pub data: Option<String>,
    /// Read the data from this file.
    #[arg(long, value_name = "PATH", conflicts_with = "data")]
    pub file: Option<PathBuf>,
    /// Hash algorithm: sha2-224, sha2-256, sha2-384, sha2-512, sha3-*, sm3.
    #[arg(long, value_name = "ALG", default_value = "sha2-256")]
    pub algorithm: String,
    /// Use this key version instead of the latest.
    #[arg(long, value_name = "N")]
    pub key_version: Option<u64>,
    /// Mount.
    #[command(flatten)]
    pub mount: MountArg,
}

/// `yaoshi principal` actions.
#[derive(Subcommand)]
pub enum PrincipalCommand {
    /// Create a principal and issue its token (POST /v1/sys/principals/NAME).
    Create {
        /// Principal name.
        #[arg(value_name = "NAME")]
        name: String,
        /// Role to hold (repeatable).
        #[arg(long = "role", value_name = "ROLE", required = true)]
        roles: Vec<String>,
        /// Per-key grant PATTERN:OPS, e.g. `app-*:encrypt,decrypt` (repeatable).
        #[arg(long = "grant", value_name = "PATTERN:OPS", value_parser = parse_grant)]
        grants: Vec<String>,
    },
    /// List principals (GET /v1/sys/principals?list=true).
    List,
    /// Revoke a principal and its tokens (DELETE /v1/sys/principals/NAME).
    Revoke {
        /// Principal name.
        #[arg(value_name = "NAME")]
        name: String,
    },
}

/// Checks the `PATTERN:OPS` shape of a grant (the server checks the names).
pub fn parse_grant(s: &str) -> Result<String, String> {
    let Some((pattern, ops)) = s.rsplit_once(':') else {
        return Err("expected PATTERN:OPS, e.g. app-*:encrypt,decrypt".into());
    };
    if pattern.is_empty() {
        return Err("the key pattern before ':' is empty".into());
    }
    if ops.split(',').any(|op| op.trim().is_empty()) {
        return Err("expected a comma-separated list of operations after ':'".into());
    }
    Ok(s.to_string())
}

/// Accepts the data key lengths Transit offers.
fn parse_bits(s: &str) -> Result<u32, String> {
    match s {
        "128" => Ok(128),
        "256" => Ok(256),
        "512" => Ok(512),
        _ => Err("expected 128, 256 or 512".into()),
    }
}

/// `yaoshi approval` actions.
#[derive(Subcommand)]
pub enum ApprovalCommand {
    /// Every parked request.
    List,
    /// One request (the requester also sees the executed reply with --json).
    Show {
        /// Approval id.
        id: String,
    },
    /// Approve; the approval that completes the quorum runs the request.
    Approve {
        /// Approval id.
        id: String,
    },
    /// Reject; the request will never run.
    Reject {
        /// Approval id.
        id: String,
    },
}

/// `yaoshi compliance` actions (roles: root, audit-admin, auditor).
#[derive(Subcommand)]
pub enum ComplianceCommand {
    /// Evaluate the live deployment against its profile and print every
    /// finding with its evidence (--json: the findings as JSON); exit 0 when
    /// none fails (warnings included), 1 when one does.
    Check,
    /// Write the monthly report as DIR/report.json and DIR/report.html
    /// (self-contained, printable) and print both paths.
    Report {
        /// The month, YYYY-MM (UTC).
        #[arg(long, value_name = "YYYY-MM")]
        month: String,
        /// Directory to write into (created when missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

/// `yaoshi audit` actions.
#[derive(Subcommand)]
pub enum AuditCommand {
    /// Print the audit signing public key (PEM).
    PublicKey,
    /// Print the latest signed checkpoint (JSON); signs one first if records
    /// arrived since the last.
    Checkpoint,
    /// Write the log as JSON Lines (records and checkpoints) to a file.
    Export {
        /// Output file.
        #[arg(long)]
        out: PathBuf,
        /// First sequence number (default: the oldest stored record).
        #[arg(long)]
        from: Option<u64>,
    },
    /// Verify an export offline (exit 0 intact, 3 naming the first bad
    /// sequence number), or with --online have the server verify its log.
    Verify {
        /// The export file.
        file: Option<PathBuf>,
        /// The audit public key (PEM), from `yaoshi audit public-key`.
        #[arg(long)]
        public_key: Option<PathBuf>,
        /// A checkpoint saved earlier: the file must extend it.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// Ask the server to verify its whole stored log.
        #[arg(long, conflicts_with_all = ["file", "public_key", "checkpoint"])]
        online: bool,
    },
    /// Print the latest records.
    Tail {
        /// How many.
        #[arg(short = 'n', long, default_value_t = 20)]
        lines: u32,
    },
    /// Fetch and check the inclusion proof of record SEQ.
    Proof {
        /// Sequence number.
        seq: u64,
    },
    /// Remove records older than the profile's retention period, up to a
    /// signed checkpoint, after the server archived and verified them on a
    /// backup target (parked for approval under dual control).
    Prune {
        /// Backup target (declared with a directory) receiving the archive.
        #[arg(long, value_name = "TARGET")]
        destination: String,
        /// Prune only records below this sequence number.
        #[arg(long, value_name = "SEQ")]
        before_seq: Option<u64>,
    },
}

/// `yaoshi profile` actions.
#[derive(Subcommand)]
pub enum ProfileCommand {
    /// Print the profile in force (TOML; --json for its fields).
    Show,
    /// Change the deployment's profile to a shipped one or a TOML file
    /// (parked for approval when the profile in force says so).
    Set {
        /// A shipped profile: default, gb39786-l2, gb39786-l3, gb39786-l4.
        #[arg(
            value_name = "NAME",
            required_unless_present = "file",
            conflicts_with = "file"
        )]
        name: Option<String>,
        /// A profile file of your own.
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
    },
}

/// `yaoshi bench` targets.
#[derive(Subcommand)]
pub enum BenchCommand {
    /// Primitive throughput and operation rates, single core (like `openssl speed`);
    /// --json prints one JSON object instead of a table.
    Crypto {
        /// Seconds to spend measuring each primitive (0.05 to 30).
        #[arg(long, default_value_t = 1.0)]
        seconds: f64,
        /// Also run `openssl speed` for SM4, SM3, AES-256-GCM and SM2 in the
        /// same run and print yaoshi/OpenSSL ratios.
        #[arg(long)]
        openssl: bool,
    },
    /// Encrypt throughput over HTTP with the audit log written by group
    /// commit vs one transaction per request (in-process server, SQLite).
    Audit {
        /// Seconds to run each mode (0.1 to 120).
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// Concurrent clients (1 to 512).
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
    },
    /// Encrypt throughput over HTTP with 1, 2 and 3 in-process nodes on one
    /// PostgreSQL database (a scratch database is created on the server and
    /// dropped afterwards).
    Nodes {
        /// A database URL on the PostgreSQL server to use (one host; the
        /// user must be allowed to create databases; PostgreSQL 13+).
        #[arg(long, value_name = "URL")]
        postgres: String,
        /// Seconds to run each node count (0.1 to 120).
        #[arg(long, default_value_t = 5.0)]
        seconds: f64,
        /// Concurrent clients, spread evenly over the nodes (3 to 512).
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn grammar_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn grants_need_pattern_and_ops() {
        assert!(parse_grant("app-*:encrypt,decrypt").is_ok());
        assert!(parse_grant("a:b:sign").is_ok());
        assert!(parse_grant("app-*").is_err());
        assert!(parse_grant(":encrypt").is_err());
        assert!(parse_grant("app:").is_err());
        assert!(parse_grant("app:encrypt,,decrypt").is_err());
    }

    #[test]
    fn config_conflicts_with_other_server_flags() {
        let r = Cli::try_parse_from(["yaoshi", "server", "--config", "f.toml", "--dev"]);
        assert!(r.is_err());
        let r = Cli::try_parse_from(["yaoshi", "server", "--config", "f.toml"]);
        assert!(r.is_ok());
    }

    #[test]
    fn global_options_after_the_command() {
        let cli = Cli::try_parse_from([
            "yaoshi",
            "key",
            "list",
            "--json",
            "--addr",
            "http://x:1",
            "--mount",
            "t2",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(cli.global.json);
        assert_eq!(cli.global.addr.as_deref(), Some("http://x:1"));
        match cli.command {
            Command::Key {
                command: KeyCommand::List(m),
            } => assert_eq!(m.mount, "t2"),
            _ => panic!("wrong command"),
        }
    }
}
