use std::io;

/// Why a source could not be listed. Each names the bucket/prefix or the
/// instance, and says what to change.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{arg}: not an S3 URL; write s3://BUCKET/PREFIX")]
    BadUrl { arg: String },
    #[error(
        "no AWS region: set AWS_REGION (e.g. AWS_REGION=us-east-1), or a region in the AWS profile"
    )]
    NoRegion,
    #[error("cannot start the AWS client: {0}")]
    Runtime(io::Error),
    /// An AWS call failed; `target` is what it was about.
    #[error("{target}: {problem}")]
    Aws { target: String, problem: String },
    #[error("{target}: no objects under this prefix (the listing is of keys that start with it)")]
    NoObjects { target: String },
    #[error("RDS instance {instance}: no log file{window}")]
    NoLogFiles { instance: String, window: String },
}
