//! Multi-host PostgreSQL URLs, libpq style.
//!
//! `postgres://user:pw@h1:5432,h2:5433/db?target_session_attrs=read-write`
//! names several servers of one cluster (a primary and its streaming
//! replicas). `sqlx` connects to one host only, so the list is split here
//! into one single-host URL per server, in order, each keeping the user,
//! password, database and every other parameter. [`crate::failover`]
//! connects to the first of them that is writable and moves to another
//! after a promotion.
//!
//! `target_session_attrs` may be `read-write` (the default: yaoshi writes),
//! its synonym here `primary`, or `any` (accept the first host that answers,
//! even a read-only one). Modes that prefer standbys are refused.
//!
//! Errors never repeat the URL or any part of the user information (it may
//! hold a password).

use yaoshi_core::store::StoreError;

/// Port used for a host listed without one (libpq's default).
const DEFAULT_PORT: u16 = 5432;

/// Which servers a node may use (`target_session_attrs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionAttrs {
    /// Only a server that accepts writes (not in recovery, not read-only).
    ReadWrite,
    /// Any server that accepts connections.
    Any,
}

/// A parsed multi-host PostgreSQL URL.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct PgHosts {
    /// One single-host URL per listed server, in the listed order.
    urls: Vec<String>,
    /// `host:port` of each server (no credentials), for messages.
    names: Vec<String>,
    attrs: SessionAttrs,
}

impl std::fmt::Debug for PgHosts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URLs may hold a password: show the hosts only.
        f.debug_struct("PgHosts")
            .field("hosts", &self.names)
            .field("attrs", &self.attrs)
            .finish_non_exhaustive()
    }
}

fn bad(why: &str) -> StoreError {
    StoreError::Unavailable(format!("invalid PostgreSQL store URL: {why}"))
}

impl PgHosts {
    /// Parses `url` if it lists more than one host; `Ok(None)` for a
    /// single-host URL (used unchanged, exactly as before) or a URL that is
    /// not PostgreSQL.
    pub(crate) fn parse(url: &str) -> Result<Option<Self>, StoreError> {
        let Some((scheme, rest)) = url.split_once("://") else {
            return Ok(None);
        };
        if scheme != "postgres" && scheme != "postgresql" {
            return Ok(None);
        }
        // The authority ends at the path or the query; the user information
        // ends at its last '@' (a literal '@' in a password is `%40`).
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let (userinfo, hostlist) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        if !hostlist.contains(',') {
            return Ok(None);
        }
        let (path, query) = match tail.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (tail, None),
        };
        let mut attrs = SessionAttrs::ReadWrite;
        let mut params = Vec::new();
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "target_session_attrs" => {
                    attrs = match value {
                        "read-write" | "primary" => SessionAttrs::ReadWrite,
                        "any" => SessionAttrs::Any,
                        "read-only" | "standby" | "prefer-standby" => {
                            return Err(bad(
                                "target_session_attrs must allow writes (read-write, primary or any)",
                            ));
                        }
                        _ => return Err(bad("unknown target_session_attrs value")),
                    }
                }
                "host" | "hostaddr" | "port" => {
                    return Err(bad(
                        "a URL with several hosts cannot also set host, hostaddr or port parameters",
                    ));
                }
                _ => params.push(pair),
            }
        }
        let mut urls = Vec::new();
        let mut names = Vec::new();
        for entry in hostlist.split(',') {
            let (host, port) = split_host_port(entry)?;
            let name = format!("{host}:{port}");
            let credentials = userinfo.map(|u| format!("{u}@")).unwrap_or_default();
            let mut one = format!("{scheme}://{credentials}{name}{path}");
            if !params.is_empty() {
                one.push('?');
                one.push_str(&params.join("&"));
            }
            urls.push(one);
            names.push(name);
        }
        Ok(Some(PgHosts { urls, names, attrs }))
    }

    /// The single-host URLs, in order.
    pub(crate) fn urls(&self) -> &[String] {
        &self.urls
    }

    /// `host:port` of server `i`, safe to show.
    pub(crate) fn name(&self, i: usize) -> &str {
        &self.names[i]
    }

    /// Which servers are acceptable.
    pub(crate) fn attrs(&self) -> SessionAttrs {
        self.attrs
    }
}

/// Splits `host:port`, `host` or `[v6]:port`.
fn split_host_port(entry: &str) -> Result<(&str, u16), StoreError> {
    let (host, port) = if let Some(v6) = entry.strip_prefix('[') {
        let (addr, after) = v6
            .split_once(']')
            .ok_or_else(|| bad("an IPv6 host is missing its ']'"))?;
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| bad("unexpected text after an IPv6 host"))?,
            ),
        };
        (&entry[..addr.len() + 2], port)
    } else {
        match entry.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (entry, None),
        }
    };
    let host_ok = !host.is_empty()
        && host.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '[' | ']' | ':' | '%')
        });
    if !host_ok {
        return Err(bad("an empty or malformed host in the host list"));
    }
    let port = match port {
        None => DEFAULT_PORT,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| bad("a port in the host list is not a number from 1 to 65535"))?,
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_host_urls_are_left_alone() {
        for url in [
            "postgres://u:p@h:5432/db",
            "postgresql://h/db?target_session_attrs=read-write",
            "sqlite:///tmp/a.db",
            "postgres://u:a,b@h/db",
        ] {
            assert_eq!(PgHosts::parse(url).unwrap(), None, "{url}");
        }
    }

    #[test]
    fn splits_hosts_keeping_credentials_database_and_parameters() {
        let h = PgHosts::parse(
            "postgres://yaoshi:s3cr%40t@10.0.0.1:5433,db2.example,[::1]:6000/kms\
             ?sslmode=require&target_session_attrs=read-write&application_name=n1",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            h.urls(),
            [
                "postgres://yaoshi:s3cr%40t@10.0.0.1:5433/kms?sslmode=require&application_name=n1",
                "postgres://yaoshi:s3cr%40t@db2.example:5432/kms?sslmode=require&application_name=n1",
                "postgres://yaoshi:s3cr%40t@[::1]:6000/kms?sslmode=require&application_name=n1",
            ]
        );
        assert_eq!(h.name(1), "db2.example:5432");
        assert_eq!(h.attrs(), SessionAttrs::ReadWrite);
        assert!(
            !format!("{h:?}").contains("s3cr"),
            "Debug hides the password"
        );
    }

    #[test]
    fn session_attrs_default_to_read_write_and_accept_any() {
        let plain = PgHosts::parse("postgresql://a:1,b:2").unwrap().unwrap();
        assert_eq!(plain.attrs(), SessionAttrs::ReadWrite);
        assert_eq!(plain.urls(), ["postgresql://a:1", "postgresql://b:2"]);
        let any = PgHosts::parse("postgres://a:1,b:2/d?target_session_attrs=any")
            .unwrap()
            .unwrap();
        assert_eq!(any.attrs(), SessionAttrs::Any);
        assert_eq!(any.urls(), ["postgres://a:1/d", "postgres://b:2/d"]);
        let primary = PgHosts::parse("postgres://a,b/d?target_session_attrs=primary")
            .unwrap()
            .unwrap();
        assert_eq!(primary.attrs(), SessionAttrs::ReadWrite);
    }

    #[test]
    fn bad_input_is_refused_without_echoing_the_password() {
        for url in [
            "postgres://u:hunter2@a:1,/db",
            "postgres://u:hunter2@a:1,b:x/db",
            "postgres://u:hunter2@a:1,b:0/db",
            "postgres://u:hunter2@a:1,b:70000/db",
            "postgres://u:hunter2@a:1,[::1/db",
            "postgres://u:hunter2@a:1,[::1]x/db",
            "postgres://u:hunter2@a:1,b c:2/db",
            "postgres://u:hunter2@a:1,b:2/db?target_session_attrs=standby",
            "postgres://u:hunter2@a:1,b:2/db?target_session_attrs=hunter2",
            "postgres://u:hunter2@a:1,b:2/db?port=5",
        ] {
            let err = PgHosts::parse(url).unwrap_err();
            assert!(matches!(err, StoreError::Unavailable(_)), "{url}");
            let msg = err.to_string();
            assert!(msg.contains("invalid PostgreSQL store URL"), "{msg}");
            assert!(!msg.contains("hunter2"), "{msg}");
        }
    }
}
