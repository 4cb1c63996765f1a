//! The connection to PostgreSQL: DSN handling (libpq's sslmode values, the
//! password from the DSN, an environment variable or PGPASSFILE), TLS with
//! rustls, reconnecting with backoff, and queries bounded by their timeout
//! on both the server and the client side.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::{Client, SimpleQueryMessage};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::ConfigError;
use crate::retry::Backoff;

/// libpq's sslmode values; tokio-postgres knows only the first three.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// A parsed DSN, ready to connect, with what may be shown of it.
#[derive(Clone)]
pub struct ConnectSpec {
    config: tokio_postgres::Config,
    tls: TlsMode,
    root_cert: Option<String>,
    /// `postgresql://user@host:port/db`, never with the password.
    pub url: String,
    pub user: String,
    /// As given, for [`ConnectSpec::for_database`].
    dsn: String,
    password_env: Option<String>,
}

impl std::fmt::Debug for ConnectSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectSpec")
            .field("url", &self.url)
            .field("tls", &self.tls)
            .finish()
    }
}

impl ConnectSpec {
    /// Parses `dsn` (key=value or URL form). `password_env` names a variable
    /// holding the password; PGPASSWORD and PGPASSFILE (or ~/.pgpass) are
    /// read as libpq reads them when the DSN has no password.
    pub fn parse(dsn: &str, password_env: Option<&str>) -> Result<ConnectSpec, ConfigError> {
        ConnectSpec::parse_for(dsn, password_env, None)
    }

    /// The same server, user and settings, connecting to `database`; the
    /// password is looked up again as libpq would for that database.
    pub fn for_database(&self, database: &str) -> Result<ConnectSpec, ConfigError> {
        ConnectSpec::parse_for(&self.dsn, self.password_env.as_deref(), Some(database))
    }

    fn parse_for(
        dsn: &str,
        password_env: Option<&str>,
        database: Option<&str>,
    ) -> Result<ConnectSpec, ConfigError> {
        let (rest, extracted) = extract_keys(dsn, &["sslmode", "sslrootcert", "passfile"]);
        let bad = |expected: &str| ConfigError::Invalid {
            key: "dsn".into(),
            value: redact_dsn(dsn),
            expected: expected.into(),
        };
        let mut config = tokio_postgres::Config::from_str(&rest).map_err(|e| {
            bad(&format!(
                "a libpq connection string or postgresql:// URL ({e})"
            ))
        })?;
        if let Some(db) = database {
            config.dbname(db);
        }
        let tls = match extracted.get("sslmode").map(String::as_str) {
            None | Some("prefer") | Some("allow") => TlsMode::Prefer,
            Some("disable") => TlsMode::Disable,
            Some("require") => TlsMode::Require,
            Some("verify-ca") => TlsMode::VerifyCa,
            Some("verify-full") => TlsMode::VerifyFull,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    key: "dsn sslmode".into(),
                    value: other.into(),
                    expected: "disable, allow, prefer, require, verify-ca or verify-full".into(),
                })
            }
        };
        config.ssl_mode(match tls {
            TlsMode::Disable => SslMode::Disable,
            TlsMode::Prefer => SslMode::Prefer,
            _ => SslMode::Require,
        });
        if config.get_application_name().is_none() {
            config.application_name("pglog-collector");
        }
        config.keepalives_idle(Duration::from_secs(30));
        let user = config
            .get_user()
            .map(str::to_string)
            .or_else(|| std::env::var("PGUSER").ok())
            .or_else(|| std::env::var("USER").ok())
            .ok_or_else(|| bad("a connection string with user=..."))?;
        if config.get_user().is_none() {
            config.user(&user);
        }
        if config.get_hosts().is_empty() {
            config.host(std::env::var("PGHOST").unwrap_or_else(|_| "localhost".into()));
        }
        let host = match config.get_hosts().first() {
            Some(Host::Tcp(h)) => h.clone(),
            Some(Host::Unix(p)) => p.display().to_string(),
            None => "localhost".into(),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let dbname = config.get_dbname().unwrap_or(&user).to_string();
        if config.get_password().is_none() {
            let from_env = password_env
                .and_then(|v| std::env::var(v).ok())
                .or_else(|| std::env::var("PGPASSWORD").ok());
            let from_file = || {
                let file = extracted
                    .get("passfile")
                    .cloned()
                    .or_else(|| std::env::var("PGPASSFILE").ok())
                    .or_else(|| std::env::var("HOME").ok().map(|h| format!("{h}/.pgpass")))?;
                let text = std::fs::read_to_string(file).ok()?;
                let lookup_host = if host.starts_with('/') {
                    "localhost"
                } else {
                    &host
                };
                pgpass_lookup(&text, lookup_host, port, &dbname, &user)
            };
            if let Some(p) = from_env.or_else(from_file) {
                config.password(p);
            }
        }
        Ok(ConnectSpec {
            url: format!("postgresql://{user}@{host}:{port}/{dbname}"),
            user,
            config,
            tls,
            root_cert: extracted.get("sslrootcert").cloned(),
            dsn: dsn.to_string(),
            password_env: password_env.map(str::to_string),
        })
    }

    /// The database name the DSN gives (the user's name when it gives none).
    pub fn dbname(&self) -> &str {
        self.config.get_dbname().unwrap_or(&self.user)
    }

    /// A new connection within `timeout`; its driver runs as a task.
    pub(crate) async fn connect(&self, timeout: Duration) -> Result<Client, ConnectError> {
        let tls = self.tls_connector().map_err(ConnectError::Tls)?;
        let mut config = self.config.clone();
        config.connect_timeout(timeout);
        match tokio::time::timeout(timeout, config.connect(tls)).await {
            Ok(Ok((client, connection))) => {
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::debug!("database connection ended: {e}");
                    }
                });
                Ok(client)
            }
            Ok(Err(e)) => Err(ConnectError::Down(describe(&e))),
            Err(_) => Err(ConnectError::Down(format!(
                "no connection within {timeout:?}"
            ))),
        }
    }

    fn tls_connector(&self) -> Result<MakeRustlsConnect, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?;
        let config = match self.tls {
            TlsMode::VerifyCa | TlsMode::VerifyFull => {
                let mut roots = rustls::RootCertStore::empty();
                match &self.root_cert {
                    Some(path) => {
                        let pem =
                            std::fs::read(path).map_err(|e| format!("sslrootcert {path}: {e}"))?;
                        for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
                            let cert = cert.map_err(|e| format!("sslrootcert {path}: {e}"))?;
                            roots
                                .add(cert)
                                .map_err(|e| format!("sslrootcert {path}: {e}"))?;
                        }
                    }
                    None => {
                        for cert in rustls_native_certs::load_native_certs().certs {
                            let _ = roots.add(cert);
                        }
                    }
                }
                let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider.clone(),
                )
                .build()
                .map_err(|e| e.to_string())?;
                if self.tls == TlsMode::VerifyFull {
                    builder.with_webpki_verifier(verifier).with_no_client_auth()
                } else {
                    builder
                        .dangerous()
                        .with_custom_certificate_verifier(Arc::new(tls::ChainOnly(verifier)))
                        .with_no_client_auth()
                }
            }
            // libpq's require and prefer encrypt without checking the certificate.
            _ => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(tls::AnyCert(provider)))
                .with_no_client_auth(),
        };
        Ok(MakeRustlsConnect::new(config))
    }
}

mod tls {
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::client::WebPkiServerVerifier;
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{CertificateError, DigitallySignedStruct, Error, SignatureScheme};
    use std::sync::Arc;

    /// sslmode=require: encrypted, certificate not checked.
    #[derive(Debug)]
    pub struct AnyCert(pub Arc<rustls::crypto::CryptoProvider>);

    impl ServerCertVerifier for AnyCert {
        fn verify_server_cert(
            &self,
            _: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: UnixTime,
        ) -> Result<ServerCertVerified, Error> {
            Ok(ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            m: &[u8],
            c: &CertificateDer<'_>,
            d: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            rustls::crypto::verify_tls12_signature(
                m,
                c,
                d,
                &self.0.signature_verification_algorithms,
            )
        }
        fn verify_tls13_signature(
            &self,
            m: &[u8],
            c: &CertificateDer<'_>,
            d: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            rustls::crypto::verify_tls13_signature(
                m,
                c,
                d,
                &self.0.signature_verification_algorithms,
            )
        }
        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }

    /// sslmode=verify-ca: the chain must lead to a trusted root; the host
    /// name is not compared.
    #[derive(Debug)]
    pub struct ChainOnly(pub Arc<WebPkiServerVerifier>);

    impl ServerCertVerifier for ChainOnly {
        fn verify_server_cert(
            &self,
            e: &CertificateDer<'_>,
            i: &[CertificateDer<'_>],
            n: &ServerName<'_>,
            o: &[u8],
            t: UnixTime,
        ) -> Result<ServerCertVerified, Error> {
            match self.0.verify_server_cert(e, i, n, o, t) {
                Err(Error::InvalidCertificate(CertificateError::NotValidForName))
                | Err(Error::InvalidCertificate(CertificateError::NotValidForNameContext {
                    ..
                })) => Ok(ServerCertVerified::assertion()),
                other => other,
            }
        }
        fn verify_tls12_signature(
            &self,
            m: &[u8],
            c: &CertificateDer<'_>,
            d: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            self.0.verify_tls12_signature(m, c, d)
        }
        fn verify_tls13_signature(
            &self,
            m: &[u8],
            c: &CertificateDer<'_>,
            d: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            self.0.verify_tls13_signature(m, c, d)
        }
        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.supported_verify_schemes()
        }
    }
}

/// Removes `keys` from a key=value or URL DSN and returns them apart.
fn extract_keys(dsn: &str, keys: &[&str]) -> (String, std::collections::HashMap<String, String>) {
    let mut found = std::collections::HashMap::new();
    let trimmed = dsn.trim();
    if trimmed.starts_with("postgres://") || trimmed.starts_with("postgresql://") {
        let Some((base, query)) = trimmed.split_once('?') else {
            return (trimmed.to_string(), found);
        };
        let mut kept = Vec::new();
        for pair in query.split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            if keys.contains(&k) {
                found.insert(
                    k.to_string(),
                    percent_encoding::percent_decode_str(v)
                        .decode_utf8_lossy()
                        .into_owned(),
                );
            } else {
                kept.push(pair);
            }
        }
        let rest = if kept.is_empty() {
            base.to_string()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        return (rest, found);
    }
    let mut rest = String::new();
    for (k, v, raw) in kv_pairs(trimmed) {
        if keys.contains(&k.as_str()) {
            found.insert(k, v);
        } else {
            rest.push_str(raw);
            rest.push(' ');
        }
    }
    (rest, found)
}

/// key=value pairs of a libpq connection string, with each pair's raw text.
fn kv_pairs(s: &str) -> Vec<(String, String, &str)> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let start = i;
        while i < b.len() && b[i] != b'=' && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let key = s[start..i].to_string();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = String::new();
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && b[i] == b'\'' {
                i += 1;
                while i < b.len() && b[i] != b'\'' {
                    if b[i] == b'\\' && i + 1 < b.len() {
                        i += 1;
                    }
                    let ch = s[i..].chars().next().unwrap();
                    value.push(ch);
                    i += ch.len_utf8();
                }
                i += 1;
            } else {
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    if b[i] == b'\\' && i + 1 < b.len() {
                        i += 1;
                    }
                    let ch = s[i..].chars().next().unwrap();
                    value.push(ch);
                    i += ch.len_utf8();
                }
            }
        }
        out.push((key, value, &s[start..i.min(b.len())]));
    }
    out
}

/// The DSN with any password replaced, for error messages.
pub fn redact_dsn(dsn: &str) -> String {
    let t = dsn.trim();
    if t.starts_with("postgres://") || t.starts_with("postgresql://") {
        let scheme_end = t.find("://").unwrap() + 3;
        if let Some(at) = t[scheme_end..].find('@') {
            let userinfo = &t[scheme_end..scheme_end + at];
            if let Some((user, _)) = userinfo.split_once(':') {
                return format!("{}{user}:***{}", &t[..scheme_end], &t[scheme_end + at..]);
            }
        }
        return t.to_string();
    }
    kv_pairs(t)
        .into_iter()
        .map(|(k, _, raw)| {
            if k == "password" {
                "password=***".to_string()
            } else {
                raw.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The password for host:port:db:user in a .pgpass file, as libpq finds it.
pub fn pgpass_lookup(text: &str, host: &str, port: u16, db: &str, user: &str) -> Option<String> {
    let port = port.to_string();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let mut fields = Vec::with_capacity(5);
        let mut cur = String::new();
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let Some(n) = chars.next() {
                        cur.push(n);
                    }
                }
                ':' if fields.len() < 4 => fields.push(std::mem::take(&mut cur)),
                _ => cur.push(c),
            }
        }
        fields.push(cur);
        if fields.len() != 5 {
            continue;
        }
        let ok = |pat: &str, v: &str| pat == "*" || pat == v;
        if ok(&fields[0], host)
            && ok(&fields[1], &port)
            && ok(&fields[2], db)
            && ok(&fields[3], user)
        {
            return Some(fields[4].clone());
        }
    }
    None
}

/// Why [`ConnectSpec::connect`] gave no connection.
#[derive(Debug)]
pub(crate) enum ConnectError {
    /// The TLS settings are wrong (sslrootcert): no attempt was made.
    Tls(String),
    /// The server did not accept or answer.
    Down(String),
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum QueryError {
    #[error("not connected: {0}")]
    Down(String),
    #[error("cancelled by its {0:?} timeout")]
    Timeout(Duration),
    #[error("{0}")]
    Failed(String),
}

/// A row as text, as the simple query protocol returns it; the catalogue's
/// columns may be of any type.
#[derive(Debug, Clone, Default)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

impl Rows {
    pub fn index(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == column)
    }
}

/// What the server says of itself each cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    pub in_recovery: bool,
    pub version_num: u32,
    pub version: String,
    pub started: String,
    pub address: String,
    /// `pg_control_system()`'s: the same for a cluster and the standbys
    /// made from it, different for any other.
    pub system_identifier: String,
}

/// A connection that comes back after the server goes away.
pub struct Source {
    spec: ConnectSpec,
    connect_timeout: Duration,
    client: Option<Client>,
    session_timeout: Option<Duration>,
    backoff: Backoff,
    next_attempt: Instant,
    /// Transactions the collector itself has run, so they can be left out
    /// of the server's transaction counts.
    pub own_transactions: u64,
    /// `own_transactions` when the current connection was made.
    pub own_at_connect: u64,
    pub last_error: Option<String>,
    /// The last connection was dropped because the server stopped answering.
    replacing_stalled: bool,
}

impl Source {
    pub fn new(spec: ConnectSpec, connect_timeout: Duration) -> Source {
        Source {
            spec,
            connect_timeout,
            client: None,
            session_timeout: None,
            backoff: Backoff::new(Duration::from_millis(500), Duration::from_secs(30)),
            next_attempt: Instant::now(),
            own_transactions: 0,
            own_at_connect: 0,
            last_error: None,
            replacing_stalled: false,
        }
    }

    pub fn spec(&self) -> &ConnectSpec {
        &self.spec
    }

    pub fn is_connected(&self) -> bool {
        self.client.as_ref().is_some_and(|c| !c.is_closed())
    }

    /// Closes the connection, keeping the backoff and the last error: the
    /// next query connects again (when the backoff allows).
    pub fn disconnect(&mut self) {
        self.client = None;
        self.session_timeout = None;
    }

    /// Connects if not connected and the backoff allows it.
    pub async fn ensure_connected(&mut self) -> Result<(), QueryError> {
        if self.is_connected() {
            return Ok(());
        }
        self.client = None;
        if Instant::now() < self.next_attempt {
            return Err(QueryError::Down(
                self.last_error
                    .clone()
                    .unwrap_or_else(|| "waiting to reconnect".into()),
            ));
        }
        match self.spec.connect(self.connect_timeout).await {
            Ok(client) => {
                if std::mem::take(&mut self.replacing_stalled) {
                    tracing::info!(url = %self.spec.url, "connected: a new connection replaces the one that stalled");
                } else {
                    tracing::info!(url = %self.spec.url, "connected");
                }
                self.own_at_connect = self.own_transactions;
                // The server counts the transaction that started the
                // session (InitPostgres reads the catalogue in one).
                self.own_transactions += 1;
                self.client = Some(client);
                self.session_timeout = None;
                self.backoff.reset();
                self.last_error = None;
                Ok(())
            }
            Err(ConnectError::Tls(e)) => Err(QueryError::Failed(e)),
            Err(ConnectError::Down(why)) => Err(self.down(why)),
        }
    }

    fn down(&mut self, why: String) -> QueryError {
        self.client = None;
        self.next_attempt = Instant::now() + self.backoff.next_delay();
        if self.last_error.as_deref() != Some(&why) {
            tracing::warn!(url = %self.spec.url, "database unreachable: {why}");
        }
        self.last_error = Some(why.clone());
        QueryError::Down(why)
    }

    /// Runs `sql` (already marked) with `timeout` as its statement_timeout;
    /// the client gives up a second later in case the server cannot answer.
    pub async fn query(&mut self, sql: &str, timeout: Duration) -> Result<Rows, QueryError> {
        self.ensure_connected().await?;
        let client = self.client.as_ref().expect("connected");
        let ms = timeout.as_millis().max(1);
        if self.session_timeout != Some(timeout) {
            let set = format!(
                "{} SET statement_timeout = {ms}",
                pglog_logparse::PGLOG_MARKER
            );
            self.own_transactions += 1;
            match tokio::time::timeout(timeout + Duration::from_secs(1), client.simple_query(&set))
                .await
            {
                Ok(Ok(_)) => self.session_timeout = Some(timeout),
                Ok(Err(e)) => return Err(self.failed(e)),
                Err(_) => return Err(self.stuck(timeout).await),
            }
        }
        let client = self.client.as_ref().expect("connected");
        self.own_transactions += 1;
        match tokio::time::timeout(timeout + Duration::from_secs(1), client.simple_query(sql)).await
        {
            Ok(Ok(messages)) => Ok(rows(messages)),
            Ok(Err(e)) if e.code() == Some(&tokio_postgres::error::SqlState::QUERY_CANCELED) => {
                Err(QueryError::Timeout(timeout))
            }
            Ok(Err(e)) => Err(self.failed(e)),
            Err(_) => Err(self.stuck(timeout).await),
        }
    }

    fn failed(&mut self, e: tokio_postgres::Error) -> QueryError {
        if e.is_closed() || self.client.as_ref().is_some_and(|c| c.is_closed()) {
            self.down(describe(&e))
        } else {
            QueryError::Failed(describe(&e))
        }
    }

    /// The server did not answer in time: cancel on its side and start
    /// over with a new connection, whose state is known.
    async fn stuck(&mut self, timeout: Duration) -> QueryError {
        tracing::warn!(
            url = %self.spec.url,
            "the server gave no answer within {:?} (statement_timeout {timeout:?} and a second): cancelling the query and replacing the connection",
            timeout + Duration::from_secs(1)
        );
        self.replacing_stalled = true;
        if let (Some(client), Ok(tls)) = (self.client.take(), self.spec.tls_connector()) {
            let token = client.cancel_token();
            let _ = tokio::time::timeout(Duration::from_secs(1), token.cancel_query(tls)).await;
        }
        QueryError::Timeout(timeout)
    }

    pub async fn server_info(&mut self) -> Result<ServerInfo, QueryError> {
        let rows = self
            .query(
                "/* pglog */ SELECT pg_is_in_recovery(), current_setting('server_version_num'), current_setting('server_version'), pg_postmaster_start_time()::text, coalesce(host(inet_server_addr()), 'local') || ':' || current_setting('port'), (SELECT system_identifier::text FROM pg_control_system())",
                Duration::from_secs(5),
            )
            .await?;
        let r = rows
            .rows
            .first()
            .ok_or_else(|| QueryError::Failed("no row from the server".into()))?;
        let get = |i: usize| r.get(i).cloned().flatten().unwrap_or_default();
        Ok(ServerInfo {
            in_recovery: get(0) == "t",
            version_num: get(1).parse().unwrap_or(0),
            version: get(2),
            started: get(3),
            address: get(4),
            system_identifier: get(5),
        })
    }
}

pub(crate) fn rows(messages: Vec<SimpleQueryMessage>) -> Rows {
    let mut out = Rows::default();
    for m in messages {
        match m {
            SimpleQueryMessage::RowDescription(cols) => {
                out.columns = cols.iter().map(|c| c.name().to_string()).collect();
                out.rows.clear();
            }
            SimpleQueryMessage::Row(row) => {
                if out.columns.is_empty() {
                    out.columns = row.columns().iter().map(|c| c.name().to_string()).collect();
                }
                out.rows.push(
                    (0..row.len())
                        .map(|i| row.get(i).map(str::to_string))
                        .collect(),
                );
            }
            _ => {}
        }
    }
    out
}

/// The server's message with its SQLSTATE, or the I/O cause.
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => {
            let mut s = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(inner) = src {
                s.push_str(": ");
                s.push_str(&inner.to_string());
                src = inner.source();
            }
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsn_keys_tokio_postgres_lacks_are_taken_out() {
        let s = ConnectSpec::parse("host=db.example port=6432 user=mon dbname=app sslmode=verify-full sslrootcert='/etc/ca.pem' password=s3cret", None).unwrap();
        assert_eq!(s.tls, TlsMode::VerifyFull);
        assert_eq!(s.root_cert.as_deref(), Some("/etc/ca.pem"));
        assert_eq!(s.url, "postgresql://mon@db.example:6432/app");
        assert!(!format!("{s:?}").contains("s3cret"));
        let s = ConnectSpec::parse(
            "postgresql://mon:pw@h:5433/app?sslmode=require&connect_timeout=3",
            None,
        )
        .unwrap();
        assert_eq!(s.tls, TlsMode::Require);
        assert_eq!(s.url, "postgresql://mon@h:5433/app");
        let e = ConnectSpec::parse("host=h user=u sslmode=maybe", None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("sslmode") && e.contains("maybe") && e.contains("verify-full"),
            "{e}"
        );
        assert_eq!(
            redact_dsn("host=h password='a b' user=u"),
            "host=h password=*** user=u"
        );
        assert_eq!(
            redact_dsn("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
    }

    #[test]
    fn pgpass_as_libpq_reads_it() {
        let text = "# comment\nother:5432:*:mon:no\n*:5432:app:mon:pa\\:ss\n*:*:*:*:fallback\n";
        assert_eq!(
            pgpass_lookup(text, "db", 5432, "app", "mon").as_deref(),
            Some("pa:ss")
        );
        assert_eq!(
            pgpass_lookup(text, "db", 5433, "app", "mon").as_deref(),
            Some("fallback")
        );
    }
}
