//! The AWS SDK set up the standard way (credentials and region from the
//! default chain, endpoint from AWS_ENDPOINT_URL*), with the SDK's own
//! retries off so the sinks' backoff and buffer decide, and timeouts so a
//! slow AWS cannot hold a sink. Each request runs under the sink's own
//! deadline ([`attempt`]); the SDK's attempt timeout is only a backstop.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cloudwatch::config::http::HttpResponse;
use aws_sdk_cloudwatch::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::tls;

use super::ShipError;

/// The attempt timeout when none is configured.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// `attempt_timeout` bounds every request the SDK makes.
pub async fn sdk_config(region: Option<&str>, attempt_timeout: Duration) -> SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(attempt_timeout)
                .build(),
        );
    if let Some(r) = region {
        loader = loader.region(Region::new(r.to_string()));
    }
    loader.load().await
}

/// The region the standard AWS chain gives (environment, profile, instance
/// metadata), as the collector would use it.
pub async fn default_region() -> Option<String> {
    sdk_config(None, DEFAULT_ATTEMPT_TIMEOUT)
        .await
        .region()
        .map(|r| r.to_string())
}

/// Runs one request under `deadline`: a request still unanswered then is
/// dropped and reported as timed out.
pub async fn attempt<T, E: ProvideErrorMetadata + std::error::Error + 'static>(
    what: &str,
    deadline: Duration,
    request: impl std::future::Future<Output = Result<T, SdkError<E, HttpResponse>>>,
) -> Result<T, ShipError> {
    match tokio::time::timeout(deadline, request).await {
        Ok(r) => r.map_err(|e| classify(what, &e)),
        Err(_) => Err(ShipError {
            retryable: true,
            timed_out: true,
            message: format!("{what}: no answer within {deadline:?}"),
        }),
    }
}

/// Throttling, server errors, timeouts and transport failures are worth
/// another try; a rejected request is not.
pub fn classify<E: ProvideErrorMetadata + std::error::Error + 'static>(
    what: &str,
    e: &SdkError<E, HttpResponse>,
) -> ShipError {
    let timed_out = matches!(e, SdkError::TimeoutError(_));
    let (retryable, detail) = match e {
        SdkError::TimeoutError(_) => (true, "timed out".to_string()),
        SdkError::DispatchFailure(d) => (
            true,
            format!(
                "could not send: {}",
                chain(d.as_connector_error().map(|c| c as &dyn std::error::Error))
            ),
        ),
        SdkError::ResponseError(_) => (true, "unreadable response".to_string()),
        SdkError::ServiceError(s) => {
            let err = s.err();
            let code = err.code().unwrap_or("unknown");
            let status = s.raw().status().as_u16();
            let retry = status >= 500
                || status == 429
                || matches!(
                    code,
                    "Throttling"
                        | "ThrottlingException"
                        | "ThrottledException"
                        | "RequestLimitExceeded"
                        | "TooManyRequestsException"
                        | "ServiceUnavailable"
                        | "InternalFailure"
                        | "InternalServiceError"
                        | "InternalServiceFault"
                );
            (
                retry,
                format!("{code} (HTTP {status}): {}", err.message().unwrap_or("")),
            )
        }
        other => (false, format!("{other:?}")),
    };
    ShipError {
        retryable,
        timed_out,
        message: format!("{what}: {detail}"),
    }
}

fn chain(e: Option<&dyn std::error::Error>) -> String {
    let mut out = String::new();
    let mut cur = e;
    while let Some(err) = cur {
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&err.to_string());
        cur = err.source();
    }
    if out.is_empty() {
        "connection failed".into()
    } else {
        out
    }
}
