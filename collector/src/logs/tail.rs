//! Follows a PostgreSQL log directory: finds its files (rotation makes new
//! ones; `log_truncate_on_rotation` empties old ones), reads what each has
//! gained since the checkpoint, and cuts it into records with the
//! analyzer's own reader, so a shipped event is exactly one record as the
//! analyzer sees it. The last record of a file is held back until it is
//! known to be whole: a csv/json line ended by its newline, or a file that
//! has been quiet for the hold time.

use std::collections::HashMap;
use std::fs::File;
use std::io::Cursor;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use pglog_logparse::{Classifier, InputFormat, Item, Prefix, ReaderBuilder};

use super::signals::{self, Signal};

use super::checkpoint::{self, Checkpoint, FileMark, HEAD_BYTES};

/// How much of a file one poll reads at most: two PutLogEvents batches'
/// worth, which bounds the memory a busy log costs.
const MAX_CHUNK: u64 = 2 << 20;

/// The chunk shared by the reader and the event cutter.
struct Shared(std::sync::Arc<Vec<u8>>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// One log record, ready to ship.
#[derive(Debug, Clone)]
pub struct LogEvent {
    pub timestamp_ms: i64,
    pub message: String,
    /// The file offset just past this record.
    pub end: u64,
    /// What the record counts for in the live log metrics.
    pub signal: Option<Signal>,
}

/// New records of one file.
#[derive(Debug)]
pub struct FileBatch {
    pub key: String,
    pub stream: String,
    pub events: Vec<LogEvent>,
    /// Stretches that were not records (shipped as they are, and counted).
    pub malformed: u64,
}

struct Tracked {
    path: PathBuf,
    file: File,
    dev: u64,
    ino: u64,
    offset: u64,
    stream: String,
    format: Option<InputFormat>,
    prefix: Option<Prefix>,
    seen: bool,
    classifier: Classifier,
}

pub struct Tailer {
    dir: PathBuf,
    format: InputFormat,
    prefix: Option<Prefix>,
    instance: String,
    hold: Duration,
    files: HashMap<String, Tracked>,
    /// The last poll held back a record not known to be whole yet.
    pub holding: bool,
    /// Statements at least this slow count as SlowQueries.
    pub slow_ms: f64,
}

impl Tailer {
    pub fn new(
        dir: PathBuf,
        format: InputFormat,
        prefix: Option<Prefix>,
        instance: String,
        hold: Duration,
    ) -> Tailer {
        Tailer {
            dir,
            format,
            prefix,
            instance,
            hold,
            files: HashMap::new(),
            holding: false,
            slow_ms: 1000.0,
        }
    }

    /// Reads what every file has gained; `marks` says where shipping got to.
    pub fn poll(&mut self, marks: &Checkpoint) -> std::io::Result<Vec<FileBatch>> {
        for t in self.files.values_mut() {
            t.seen = false;
        }
        self.holding = false;
        let mut entries: Vec<(SystemTime, PathBuf)> = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if !is_log_name(&name) {
                continue;
            }
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_file() {
                entries.push((meta.modified().unwrap_or(SystemTime::UNIX_EPOCH), path));
            }
        }
        entries.sort();
        for (_, path) in &entries {
            let Ok(file) = File::open(path) else { continue };
            let meta = file.metadata()?;
            let key = checkpoint::key(meta.dev(), meta.ino());
            if let Some(t) = self.files.get_mut(&key) {
                t.seen = true;
                t.path = path.clone();
                continue;
            }
            let offset = match marks.files.get(&key) {
                Some(m) if meta.len() >= m.offset && head_hash(&file, m.head_len)? == m.head => {
                    m.offset
                }
                _ => 0,
            };
            let name = path.file_name().unwrap().to_string_lossy();
            self.files.insert(
                key,
                Tracked {
                    path: path.clone(),
                    file,
                    dev: meta.dev(),
                    ino: meta.ino(),
                    offset,
                    stream: format!("{}/{}", self.instance, name),
                    format: None,
                    prefix: None,
                    seen: true,
                    classifier: Classifier::new(),
                },
            );
        }
        let newest = entries.last().map(|(_, p)| p.clone());
        let mut out = Vec::new();
        let keys: Vec<String> = self.files.keys().cloned().collect();
        for key in keys {
            let t = self.files.get_mut(&key).unwrap();
            let meta = t.file.metadata()?;
            // Truncated in place (log_truncate_on_rotation): start over.
            if meta.len() < t.offset
                || (t.offset > 0
                    && marks
                        .files
                        .get(&key)
                        .is_some_and(|m| head_hash(&t.file, m.head_len).ok() != Some(m.head)))
            {
                t.offset = 0;
                t.format = None;
            }
            let quiet = meta
                .modified()
                .map(|m| m.elapsed().unwrap_or_default() >= self.hold)
                .unwrap_or(true);
            let (batch, held) = read_new(
                t,
                &self.format,
                &self.prefix,
                quiet,
                meta.len(),
                self.slow_ms,
            )?;
            self.holding |= held;
            let gone = !t.seen;
            let finished = gone && quiet && t.offset >= meta.len();
            if let Some(b) = batch {
                out.push(FileBatch {
                    key: key.clone(),
                    ..b
                });
            }
            // A file deleted or renamed away is followed through its open
            // handle until it is read to the end, then forgotten.
            if finished
                || (gone
                    && newest.as_ref() != Some(&t.path)
                    && meta.nlink() == 0
                    && t.offset >= meta.len())
            {
                self.files.remove(&key);
            }
        }
        Ok(out)
    }

    /// Records that `key` has been shipped up to `end`; returns its mark.
    pub fn shipped(&mut self, key: &str, end: u64) -> std::io::Result<Option<FileMark>> {
        let Some(t) = self.files.get_mut(key) else {
            return Ok(None);
        };
        t.offset = end;
        let head_len = (end as usize).min(HEAD_BYTES);
        Ok(Some(FileMark {
            path: t.path.clone(),
            dev: t.dev,
            ino: t.ino,
            head: head_hash(&t.file, head_len)?,
            head_len,
            offset: end,
            stream: t.stream.clone(),
        }))
    }
}

fn is_log_name(name: &str) -> bool {
    !name.starts_with('.')
        && !name.ends_with(".gz")
        && !name.ends_with(".zst")
        && !name.ends_with(".bz2")
        && !name.ends_with(".xz")
        && !name.ends_with(".tmp")
}

fn head_hash(file: &File, len: usize) -> std::io::Result<u64> {
    let mut buf = vec![0u8; len];
    let mut got = 0;
    while got < len {
        let n = file.read_at(&mut buf[got..], got as u64)?;
        if n == 0 {
            break;
        }
        got += n;
    }
    Ok(checkpoint::fnv1a(&buf[..got]))
}

/// The records between the file's offset and its end that are whole.
fn read_new(
    t: &mut Tracked,
    format: &InputFormat,
    prefix: &Option<Prefix>,
    quiet: bool,
    len: u64,
    slow_ms: f64,
) -> std::io::Result<(Option<FileBatch>, bool)> {
    if len <= t.offset {
        return Ok((None, false));
    }
    if t.format.is_none() {
        // The format and prefix come from the file's start, whatever the offset.
        let mut head = vec![0u8; 64 << 10];
        let n = t.file.read_at(&mut head, 0)?;
        head.truncate(n);
        let mut b = ReaderBuilder::new();
        b.format(*format).prefix(prefix.clone());
        match b.build(Box::new(Cursor::new(head))) {
            Ok(r) => {
                t.format = Some(r.format());
                t.prefix = r.prefix().cloned();
            }
            // Not enough of the file yet to tell: try again next poll.
            Err(_) if !quiet => return Ok((None, true)),
            Err(_) => {
                t.format = Some(InputFormat::Stderr);
                t.prefix = prefix.clone().or_else(|| Prefix::parse("%m [%p] ").ok());
            }
        }
    }
    let want = (len - t.offset).min(MAX_CHUNK) as usize;
    let mut buf = vec![0u8; want];
    let mut got = 0;
    while got < want {
        let n = t.file.read_at(&mut buf[got..], t.offset + got as u64)?;
        if n == 0 {
            break;
        }
        got += n;
    }
    buf.truncate(got);
    let base = t.offset;
    let mut b = ReaderBuilder::new();
    b.format(t.format.unwrap())
        .prefix(t.prefix.clone())
        .base_offset(base);
    let buf = std::sync::Arc::new(buf);
    let Ok(mut reader) = b.build(Box::new(Cursor::new(Shared(buf.clone())))) else {
        return Ok((None, !quiet));
    };
    let mut items: Vec<(u64, Option<i64>, Option<pglog_logparse::LogRecord>)> = Vec::new();
    while let Ok(Some(item)) = reader.next_item() {
        match item {
            Item::Record(r) => items.push((r.offset, r.time.map(|t| t.epoch_ms), Some(r))),
            Item::Malformed(m) => items.push((m.offset, None, None)),
        }
    }
    items.sort_by_key(|i| i.0);
    items.dedup_by_key(|i| i.0);
    let end_of_chunk = base + buf.len() as u64;
    let whole_file_read = end_of_chunk == len;
    let line_based = matches!(t.format, Some(InputFormat::Csv | InputFormat::Json));
    let mut events = Vec::new();
    let mut malformed = 0;
    let mut last_time = None;
    let mut held = false;
    let starts: Vec<u64> = items.iter().map(|i| i.0).collect();
    for (i, (start, time, record)) in items.into_iter().enumerate() {
        let is_record = record.is_some();
        let end = starts.get(i + 1).copied().unwrap_or(end_of_chunk);
        let raw = &buf[(start - base) as usize..(end - base) as usize];
        let is_last = i + 1 == starts.len();
        if is_last {
            let terminated = raw.ends_with(b"\n");
            let whole = (line_based && terminated && is_record)
                || (quiet && whole_file_read && terminated)
                || (quiet && whole_file_read && !line_based);
            if !whole {
                held = true;
                break;
            }
        }
        let text = String::from_utf8_lossy(raw);
        let text = text.trim_end_matches(['\n', '\r']);
        if text.trim().is_empty() {
            continue;
        }
        if !is_record {
            malformed += 1;
        }
        let ts = time.or(last_time).unwrap_or_else(signals::now_ms);
        last_time = Some(ts);
        let signal = record.and_then(|r| signals::signal(&t.classifier.classify(r), slow_ms));
        events.push(LogEvent {
            signal,
            timestamp_ms: ts,
            message: pglog_logparse::redact::redact(text).into_owned(),
            end,
        });
    }
    if events.is_empty() {
        return Ok((None, held));
    }
    Ok((
        Some(FileBatch {
            key: String::new(),
            stream: t.stream.clone(),
            events,
            malformed,
        }),
        held,
    ))
}
