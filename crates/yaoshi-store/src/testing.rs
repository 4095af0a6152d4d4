//! Test support (feature `testing`): a throwaway PostgreSQL cluster.
//!
//! [`PgCluster::start`] runs `initdb` into a fresh temporary directory and
//! starts a server on a free loopback port with its socket in that
//! directory; dropping the cluster stops it (`pg_ctl stop -m immediate`) and
//! deletes the directory. It never touches a server already running on the
//! machine. PostgreSQL refuses to run as root, so when the tests run as root
//! the server binaries run as the `postgres` OS user (`runuser`), which owns
//! the directory. Authentication is `trust`; clients connect as `postgres`.
//!
//! Binaries are looked up in `$YAOSHI_PG_BIN`, then
//! `/usr/lib/postgresql/<newest>/bin`, then `PATH`.

use std::io;
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// A free TCP port on the loopback interface (never 5432).
///
/// The port is free when this returns; another process could take it before
/// it is used, so callers that bind it should be ready to retry.
pub fn free_port() -> io::Result<u16> {
    loop {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
            .local_addr()?
            .port();
        if port != 5432 {
            return Ok(port);
        }
    }
}

/// A private PostgreSQL server for one test; stopped and deleted on drop.
#[derive(Debug)]
pub struct PgCluster {
    dir: TempDir,
    bin: PathBuf,
    port: u16,
    /// `Some((uid, gid))` of the `postgres` user when running as root.
    run_as: Option<(u32, u32)>,
}

impl PgCluster {
    /// Creates and starts a cluster on a free loopback port.
    ///
    /// `initdb`'s defaults already allow streaming replicas
    /// (`wal_level=replica`, `max_wal_senders`, `trust` for `replication`
    /// from 127.0.0.1), so [`PgCluster::start_replica`] works on it.
    pub fn start() -> io::Result<Self> {
        let mut cluster = Self::empty()?;
        let data = cluster.data_dir();
        cluster.run_server_tool(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "--auth=trust".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--locale=C".as_ref(),
                "--no-sync".as_ref(),
            ],
        )?;
        cluster.start_on_free_port()?;
        Ok(cluster)
    }

    /// Creates a streaming replica of this (running) cluster with
    /// `pg_basebackup -R` into a fresh temporary directory and starts it, as
    /// a hot standby, on another free loopback port.
    pub fn start_replica(&self) -> io::Result<PgCluster> {
        let mut replica = Self::empty()?;
        let data = replica.data_dir();
        let port = self.port.to_string();
        replica.run_server_tool(
            "pg_basebackup",
            &[
                "-h".as_ref(),
                "127.0.0.1".as_ref(),
                "-p".as_ref(),
                port.as_ref(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "-D".as_ref(),
                data.as_os_str(),
                "-R".as_ref(),
                "-X".as_ref(),
                "stream".as_ref(),
                "-c".as_ref(),
                "fast".as_ref(),
                "--no-sync".as_ref(),
            ],
        )?;
        replica.start_on_free_port()?;
        Ok(replica)
    }

    /// Promotes a replica to primary (`pg_ctl promote`, waiting until it
    /// accepts writes).
    pub fn promote(&self) -> io::Result<()> {
        let data = self.data_dir();
        self.run_server_tool(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
                "promote".as_ref(),
            ],
        )
    }

    /// Runs one SQL statement with `psql` as `postgres` on database
    /// `postgres` and returns its output (unaligned, tuples only, trimmed).
    pub fn psql(&self, sql: &str) -> io::Result<String> {
        let port = self.port.to_string();
        let out = Command::new(self.bin.join("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-d",
                "postgres",
            ])
            .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .current_dir(self.dir.path())
            .output()?;
        check("psql", &out)?;
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// Waits until `replica` has replayed all the WAL this server has
    /// written so far (so everything committed here is on the replica),
    /// for at most `limit`.
    pub fn wait_replayed_by(&self, replica: &PgCluster, limit: Duration) -> io::Result<()> {
        let lsn = self.psql("SELECT pg_current_wal_lsn()")?;
        let valid = !lsn.is_empty() && lsn.chars().all(|c| c.is_ascii_hexdigit() || c == '/');
        if !valid {
            return Err(io::Error::other(format!("unexpected WAL position {lsn:?}")));
        }
        let caught_up = format!("SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn");
        let started = Instant::now();
        while replica.psql(&caught_up)? != "t" {
            if started.elapsed() > limit {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("replica did not replay up to {lsn} within {limit:?}"),
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// A cluster value with a fresh directory (owned by `postgres` when we
    /// are root) and its socket directory, but no data and no server yet.
    fn empty() -> io::Result<Self> {
        let bin = find_bin_dir()?;
        let run_as = if running_as_root()? {
            Some((id_of("-u")?, id_of("-g")?))
        } else {
            None
        };
        let dir = tempfile::Builder::new().prefix("yaoshi-pg-").tempdir()?;
        let sock = dir.path().join("sock");
        std::fs::create_dir(&sock)?;
        if let Some((uid, gid)) = run_as {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))?;
            std::os::unix::fs::chown(&sock, Some(uid), Some(gid))?;
        }
        Ok(PgCluster {
            dir,
            bin,
            port: 0,
            run_as,
        })
    }

    /// Starts the server on a free port; a port found free can be taken
    /// before the server binds it, so this retries a few times.
    fn start_on_free_port(&mut self) -> io::Result<()> {
        let sock = self.dir.path().join("sock");
        let mut last_error = None;
        for _ in 0..5 {
            self.port = free_port()?;
            match self.pg_ctl_start(&sock) {
                Ok(()) => return Ok(()),
                Err(e) => last_error = Some(e),
            }
        }
        self.port = 0;
        Err(last_error.unwrap_or_else(|| io::Error::other("PostgreSQL did not start")))
    }

    /// The loopback port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The cluster's data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A connection URL for database `dbname`, as user `postgres`.
    pub fn url(&self, dbname: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{dbname}", self.port)
    }

    /// Creates database `name` (letters, digits, `_`) and returns its URL.
    pub fn create_database(&self, name: &str) -> io::Result<String> {
        let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "database names are limited to letters, digits and '_'",
            ));
        }
        let port = self.port.to_string();
        let out = Command::new(self.bin.join("createdb"))
            .args(["-h", "127.0.0.1", "-p", &port, "-U", "postgres", name])
            .current_dir(self.dir.path())
            .output()?;
        check("createdb", &out)?;
        Ok(self.url(name))
    }

    /// Stops the server (`pg_ctl stop -m fast`: sessions are terminated),
    /// keeping the data directory so [`PgCluster::restart`] can bring the
    /// same cluster back on the same port.
    pub fn stop(&self) -> io::Result<()> {
        let data = self.data_dir();
        self.run_server_tool(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-m".as_ref(),
                "fast".as_ref(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
                "stop".as_ref(),
            ],
        )
    }

    /// Starts a server stopped with [`PgCluster::stop`] again, on the same
    /// port and data directory.
    pub fn restart(&self) -> io::Result<()> {
        self.pg_ctl_start(&self.dir.path().join("sock"))
    }

    fn pg_ctl_start(&self, sock: &Path) -> io::Result<()> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            sock.display()
        );
        let data = self.data_dir();
        let log = self.dir.path().join("postgres.log");
        self.run_server_tool(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-o".as_ref(),
                options.as_ref(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
                "start".as_ref(),
            ],
        )
        .map_err(|e| {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            io::Error::other(format!("{e}\n--- postgres.log ---\n{log}"))
        })
    }

    /// Runs a server binary, as `postgres` when we are root.
    fn run_server_tool(&self, tool: &str, args: &[&std::ffi::OsStr]) -> io::Result<()> {
        let program = self.bin.join(tool);
        let mut cmd = if self.run_as.is_some() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        let out = cmd.args(args).current_dir(self.dir.path()).output()?;
        check(tool, &out)
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if self.port != 0 {
            let data = self.data_dir();
            let _ = self.run_server_tool(
                "pg_ctl",
                &[
                    "-D".as_ref(),
                    data.as_os_str(),
                    "-m".as_ref(),
                    "immediate".as_ref(),
                    "-w".as_ref(),
                    "stop".as_ref(),
                ],
            );
        }
        // `dir` (a TempDir) is removed after this.
    }
}

fn check(tool: &str, out: &Output) -> io::Result<()> {
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "{tool} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )))
    }
}

fn running_as_root() -> io::Result<bool> {
    // /proc/self belongs to the process's effective user.
    Ok(std::fs::metadata("/proc/self")?.uid() == 0)
}

fn id_of(flag: &str) -> io::Result<u32> {
    let out = Command::new("id").args([flag, "postgres"]).output()?;
    check("id", &out)?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| io::Error::other("`id` printed no number for user postgres"))
}

fn find_bin_dir() -> io::Result<PathBuf> {
    let has_tools = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("YAOSHI_PG_BIN") {
        let dir = PathBuf::from(dir);
        if has_tools(&dir) {
            return Ok(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, d)| has_tools(d))
        .collect();
    versions.sort();
    if let Some((_, dir)) = versions.pop() {
        return Ok(dir);
    }
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        if has_tools(&dir) {
            // Resolve symlinks so pg_ctl finds its `postgres` next to it.
            let initdb = std::fs::canonicalize(dir.join("initdb"))?;
            return Ok(initdb.parent().map_or(dir, Path::to_path_buf));
        }
    }
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        "PostgreSQL server binaries (initdb, pg_ctl) not found; set YAOSHI_PG_BIN",
    ))
}
