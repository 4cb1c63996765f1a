//! One AWS client set-up for every source: the collector's SDK config (the
//! standard chain; its attempt timeout), a small runtime the blocking
//! readers call into, and retries of what is worth another try.

use std::future::Future;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use pglog_collector::retry::Backoff;
use pglog_collector::sink::aws::{classify, sdk_config};

use crate::SourceError;

/// How long one request may go unanswered. A streamed body is not bound by
/// it: only the wait for the response head is.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// Tries of a request that failed in a way worth trying again.
const ATTEMPTS: u32 = 4;

pub struct Aws {
    runtime: tokio::runtime::Runtime,
    pub(crate) sdk: SdkConfig,
}

impl Aws {
    pub fn connect() -> Result<Aws, SourceError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("pglog-aws")
            .enable_all()
            .build()
            .map_err(SourceError::Runtime)?;
        let sdk = runtime.block_on(sdk_config(None, ATTEMPT_TIMEOUT));
        if sdk.region().is_none() {
            return Err(SourceError::NoRegion);
        }
        Ok(Aws { runtime, sdk })
    }

    /// Runs `f` to completion from a thread outside the runtime.
    pub(crate) fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    pub(crate) fn handle(&self) -> &tokio::runtime::Handle {
        self.runtime.handle()
    }

    /// An endpoint other than AWS's own (AWS_ENDPOINT_URL): S3-compatible
    /// servers take the bucket in the path, not in the host name.
    pub(crate) fn custom_endpoint(&self) -> bool {
        self.sdk.endpoint_url().is_some()
    }
}

/// Sends `call` again after throttling, server errors, timeouts and
/// connection failures, with backoff; anything else is returned at once.
pub(crate) async fn with_retries<T, E, F, Fut>(
    what: &str,
    mut call: F,
) -> Result<T, SdkError<E, HttpResponse>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
{
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
    loop {
        match call().await {
            Ok(v) => return Ok(v),
            Err(e)
                if backoff.attempts() + 1 < ATTEMPTS
                    && !lacks_credentials(&e)
                    && classify(what, &e).retryable =>
            {
                tokio::time::sleep(backoff.next_delay()).await
            }
            Err(e) => return Err(e),
        }
    }
}

/// What went wrong, in words that say what to change.
pub(crate) fn explain<E>(what: &str, e: &SdkError<E, HttpResponse>, permission: &str) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    if lacks_credentials(e) {
        return "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, \
                or AWS_PROFILE, or run with an instance or task role"
            .to_string();
    }
    let code = match e {
        SdkError::ServiceError(s) => s.err().code().unwrap_or(""),
        _ => "",
    };
    let status = e.raw_response().map(|r| r.status().as_u16());
    let detail = classify(what, e).message;
    match code {
        "NoSuchBucket" => format!(
            "no such bucket; check the bucket name, and the region (AWS_REGION) and endpoint (AWS_ENDPOINT_URL) ({detail})"
        ),
        "NoSuchKey" => format!("no such object; was it deleted since it was listed? ({detail})"),
        "InvalidObjectState" => format!(
            "the object is archived (S3 Glacier storage class); restore it first (aws s3api restore-object) ({detail})"
        ),
        "DBInstanceNotFound" | "DBInstanceNotFoundFault" => format!(
            "no such DB instance; check --rds-instance (the DB instance identifier) and the region (AWS_REGION) ({detail})"
        ),
        "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "ExpiredToken" | "InvalidClientTokenId"
        | "UnrecognizedClientException" => format!(
            "the AWS credentials were refused; check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or AWS_PROFILE ({detail})"
        ),
        "AccessDenied" | "AccessDeniedException" | "AccessDeniedFault" => {
            format!("access denied; the credentials need the {permission} permission ({detail})")
        }
        _ if status == Some(403) => {
            format!("access denied; the credentials need the {permission} permission ({detail})")
        }
        _ => detail,
    }
}

/// The default chain found no credentials: trying again will not help.
fn lacks_credentials<E, R>(e: &SdkError<E, R>) -> bool
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let mut cur: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = cur {
        let text = err.to_string();
        if text.contains("no credentials") || text.contains("credentials provider was not enabled")
        {
            return true;
        }
        cur = err.source();
    }
    false
}
