//! Logs and saved states that live in AWS, handed to the analyzer as byte
//! streams it reads like local files: objects under an S3 prefix (a
//! CloudWatch Logs export task's layout included) and an RDS instance's log
//! files. Credentials, region and endpoint come from the standard AWS chain,
//! through the collector's client set-up. Nothing is downloaded whole: each
//! stream is fetched as the analyzer reads it.

mod aws;
mod chunks;
mod error;
pub mod rds;
pub mod s3;

pub use aws::Aws;
pub use error::SourceError;
pub use s3::S3Url;
