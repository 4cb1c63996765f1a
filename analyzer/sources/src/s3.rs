//! Every object under an S3 prefix as a stream: ListObjectsV2 page by page,
//! then each object's GetObject body read as it arrives. Compression is the
//! analyzer's business (it sniffs the first bytes), so plain, gzip (as
//! CloudWatch Logs export tasks write `PREFIX/TASK/STREAM/000000.gz`) and
//! zstd objects are all read the same way.

use std::io::{self, Read};
use std::sync::Arc;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use pglog_analyzer::StreamInput;

use crate::aws::{explain, with_retries};
use crate::chunks::{self, ChunkReader};
use crate::{Aws, SourceError};

/// The object a CloudWatch Logs export task writes first to check it may
/// write to the bucket ("Permission Check Successful"): not a log.
const EXPORT_MARKER: &str = "aws-logs-write-test";

/// `s3://BUCKET/PREFIX`: the bucket, and the start of the keys to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    pub bucket: String,
    pub prefix: String,
}

impl S3Url {
    pub fn is_s3(arg: &str) -> bool {
        arg.starts_with("s3://")
    }

    pub fn parse(arg: &str) -> Result<S3Url, SourceError> {
        let rest = arg
            .strip_prefix("s3://")
            .ok_or_else(|| SourceError::BadUrl {
                arg: arg.to_string(),
            })?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(SourceError::BadUrl {
                arg: arg.to_string(),
            });
        }
        Ok(S3Url {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        })
    }

    fn object(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }
}

impl std::fmt::Display for S3Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// One stream per object under the prefix, in key order. A key equal to
/// the prefix names that one object alone.
pub fn objects(aws: &Arc<Aws>, url: &S3Url) -> Result<Vec<StreamInput>, SourceError> {
    let client = client(aws);
    let listed = aws.block_on(list(&client, url))?;
    let keys: Vec<(String, Option<u64>)> = match listed.iter().find(|(k, _)| *k == url.prefix) {
        Some(exact) => vec![exact.clone()],
        None => listed,
    };
    if keys.is_empty() {
        return Err(SourceError::NoObjects {
            target: url.to_string(),
        });
    }
    Ok(keys
        .into_iter()
        .map(|(key, size)| {
            let aws = Arc::clone(aws);
            let client = client.clone();
            let bucket = url.bucket.clone();
            StreamInput::new(url.object(&key), size, move || {
                open(&aws, &client, &bucket, &key).map(|r| Box::new(r) as Box<dyn Read + Send>)
            })
        })
        .collect())
}

fn client(aws: &Aws) -> Client {
    let conf = aws_sdk_s3::config::Builder::from(&aws.sdk)
        .force_path_style(aws.custom_endpoint())
        .build();
    Client::from_conf(conf)
}

/// The keys under the prefix with their sizes, leaving out "folders" and
/// export-task markers.
async fn list(client: &Client, url: &S3Url) -> Result<Vec<(String, Option<u64>)>, SourceError> {
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = with_retries("S3 ListObjectsV2", || {
            client
                .list_objects_v2()
                .bucket(&url.bucket)
                .prefix(&url.prefix)
                .set_continuation_token(token.clone())
                .send()
        })
        .await
        .map_err(|e| SourceError::Aws {
            target: url.to_string(),
            problem: explain("S3 ListObjectsV2", &e, "s3:ListBucket"),
        })?;
        for o in page.contents() {
            let Some(key) = o.key() else { continue };
            if key.ends_with('/') || key.rsplit('/').next() == Some(EXPORT_MARKER) {
                continue;
            }
            keys.push((
                key.to_string(),
                o.size().and_then(|s| u64::try_from(s).ok()),
            ));
        }
        match page.next_continuation_token() {
            Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_string()),
            _ => break,
        }
    }
    Ok(keys)
}

/// Starts the object's download; its body is read as the reader asks.
fn open(aws: &Aws, client: &Client, bucket: &str, key: &str) -> io::Result<ChunkReader> {
    let got = aws
        .block_on(with_retries("S3 GetObject", || {
            client.get_object().bucket(bucket).key(key).send()
        }))
        .map_err(|e| io::Error::other(explain("S3 GetObject", &e, "s3:GetObject")))?;
    let name = format!("s3://{bucket}/{key}");
    Ok(pump(aws, name, got.body))
}

/// Moves the body's chunks into the reader's channel as it takes them.
fn pump(aws: &Aws, name: String, mut body: ByteStream) -> ChunkReader {
    let (tx, reader) = chunks::channel();
    aws.handle().spawn(async move {
        while let Some(chunk) = body.next().await {
            let chunk =
                chunk.map_err(|e| io::Error::other(format!("{name}: the download broke off: {e}")));
            let failed = chunk.is_err();
            if tx.send(chunk).await.is_err() || failed {
                break;
            }
        }
    });
    reader
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_bucket_and_a_prefix() {
        let u = S3Url::parse("s3://logs/exports/task-1/").unwrap();
        assert_eq!(
            (u.bucket.as_str(), u.prefix.as_str()),
            ("logs", "exports/task-1/")
        );
        let u = S3Url::parse("s3://logs").unwrap();
        assert_eq!((u.bucket.as_str(), u.prefix.as_str()), ("logs", ""));
        for bad in ["s3://", "s3:///key", "logs/key"] {
            let e = S3Url::parse(bad).unwrap_err().to_string();
            assert!(e.contains("s3://BUCKET/PREFIX"), "{bad}: {e}");
        }
    }
}
