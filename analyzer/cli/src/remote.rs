//! Inputs that live in AWS: `s3://` URLs among the paths (logs for
//! `analyze`, saved states for `merge`) and `--rds-instance`. They become
//! streams the engine reads like local files; the AWS client is only set up
//! when one is named.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use pglog_analyzer::{load_state, read_state, Analysis, AnalyzeOptions};
use pglog_sources::{rds, s3, Aws, S3Url};

use crate::cli::AnalyzeArgs;

/// Moves the `s3://` paths of `opts.inputs` to `opts.streams`, one stream
/// per object, and adds the RDS instance's log files.
pub fn add_streams(args: &AnalyzeArgs, opts: &mut AnalyzeOptions) -> anyhow::Result<()> {
    let mut aws = None;
    let (urls, local): (Vec<String>, Vec<String>) =
        opts.inputs.drain(..).partition(|p| S3Url::is_s3(p));
    opts.inputs = local;
    for u in urls {
        let url = S3Url::parse(&u)?;
        opts.streams.extend(s3::objects(connect(&mut aws)?, &url)?);
    }
    if let Some(instance) = &args.rds_instance {
        opts.streams
            .extend(rds::log_files(connect(&mut aws)?, instance, args.since()?)?);
    }
    Ok(())
}

/// Calls `each` with every state in order: files, and each object under an
/// `s3://` prefix, read as it is downloaded.
pub fn for_each_state(paths: &[PathBuf], mut each: impl FnMut(Analysis)) -> anyhow::Result<()> {
    let mut aws = None;
    for p in paths {
        let Some(url) = p.to_str().filter(|s| S3Url::is_s3(s)) else {
            each(load_state(p)?);
            continue;
        };
        for object in s3::objects(connect(&mut aws)?, &S3Url::parse(url)?)? {
            let body = (object.open)().with_context(|| format!("cannot open {}", object.name))?;
            each(read_state(BufReader::new(body), Path::new(&object.name))?);
        }
    }
    Ok(())
}

fn connect(aws: &mut Option<Arc<Aws>>) -> anyhow::Result<&Arc<Aws>> {
    if aws.is_none() {
        *aws = Some(Arc::new(Aws::connect()?));
    }
    Ok(aws.as_ref().expect("just set"))
}
