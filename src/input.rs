//! What the CLI takes from people, and its bounds (issue 16).
//!
//! **Numbers** (item 5). Every numeric argument has a clap value range, so a value out of it
//! is a usage error (exit 2) before anything runs, never a panic further down (sea-query's
//! binder panicked on a `u64` limit above `i64::MAX`). The bounds of lists, offsets and leases
//! are here; stock and quantities use the domain's own (`MAX_STOCK`, `MAX_LINE_QUANTITY`).
//!
//! **Files and stdin** (item 4). Every input read from a file or stdin has a limit, and no
//! reader takes more than the limit plus one byte of it: a body file or SSH key file larger
//! than its limit is refused after reading at most that much (a regular file whose size is
//! known is refused before reading anything), so neither `--body-file /dev/zero` nor a 300 MB
//! file can make the process grow. Only what can end is read at all: regular files, pipes and
//! sockets (`--body-file /dev/stdin` from a pipe) and terminals; a device that never ends
//! (`/dev/zero`, `/dev/urandom`), a block device or a directory is refused at once, from the
//! open file's own metadata. Opening never waits: a named pipe nobody writes to reads as empty
//! at once instead of blocking the command for ever.
//!
//! | input | limit |
//! |---|---|
//! | `node create/update/translate --body-file` | [`MAX_BODY_BYTES`] (4,000,000 bytes: 1,000,000 characters of 4 bytes) |
//! | `staff add --ssh-key` | [`MAX_SSH_KEY_FILE_BYTES`] (16 KiB) |
//! | `serve --host-key` | [`MAX_HOST_KEY_FILE_BYTES`] (64 KiB) |
//! | the console's settings files | [`MAX_SETTINGS_FILE_BYTES`] (1 MiB) |
//! | one line of `rustok script` on stdin | [`MAX_SCRIPT_LINE_BYTES`] (8 MiB) |

/// Most rows a list or search may ask for (`--limit`; `events tail --last`).
pub const MAX_LIST_LIMIT: u64 = 1_000_000;

/// Most entries `audit log --limit` shows at once.
pub const MAX_AUDIT_LOG_LIMIT: u64 = 10_000;

/// Largest `--offset`: what both databases can take (a signed 64-bit integer).
pub const MAX_OFFSET: u64 = i64::MAX as u64;

/// Longest relay lease of `rustok script --lease-ms`: a day.
pub const MAX_LEASE_MS: u64 = 86_400_000;

use rustok_domain::text::printable;
use std::io::Read;
use std::path::Path;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt};

pub use rustok_domain::content::MAX_BODY_BYTES;

/// An SSH public key file: one key a line. The longest OpenSSH public key line (RSA 16384)
/// is under 3 KB, an ed25519 line about 100 bytes: 16 KiB holds a handful of the largest
/// keys and some 150 ed25519 keys.
pub const MAX_SSH_KEY_FILE_BYTES: u64 = 16 * 1024;

/// The server's host key file: an OpenSSH private key; the largest (RSA 16384) is under
/// 13 KB.
pub const MAX_HOST_KEY_FILE_BYTES: u64 = 64 * 1024;

/// A settings file of the console (config, keymap, theme): TOML of a few kilobytes.
pub const MAX_SETTINGS_FILE_BYTES: u64 = 1 << 20;

/// One line of the hidden `rustok script` mode: a command as JSON. The largest command holds
/// a body of 1,000,000 characters, at most 6 bytes each when JSON escapes them (`\u001b`):
/// 6,000,000 bytes plus the other fields fit in 8 MiB.
pub const MAX_SCRIPT_LINE_BYTES: u64 = 8 * 1024 * 1024;

/// Why a bounded read failed, without the path (the caller names the input).
#[derive(Debug)]
pub enum ReadError {
    /// Opening or reading failed (not found, permission denied, ...).
    Io(std::io::Error),
    /// Something that is not a regular file, pipe, socket or terminal: `kind` says what.
    NotReadable { kind: &'static str },
    /// More than `limit` bytes; `size` when known (a regular file's).
    TooLarge { limit: u64, size: Option<u64> },
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::NotReadable { kind } => {
                write!(f, "it is {kind}, not a file, a pipe or a terminal")
            }
            ReadError::TooLarge {
                limit,
                size: Some(size),
            } => write!(f, "it is {size} bytes, more than the limit of {limit}"),
            ReadError::TooLarge { limit, size: None } => {
                write!(f, "it is more than the limit of {limit} bytes")
            }
        }
    }
}

impl ReadError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Io(e) if e.kind() == std::io::ErrorKind::NotFound)
    }
}

/// What kind of file the metadata describes, when it is one that may never end.
#[cfg(unix)]
fn unreadable_kind(file: &std::fs::File, meta: &std::fs::Metadata) -> Option<&'static str> {
    use std::io::IsTerminal;
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_file() || t.is_fifo() || t.is_socket() {
        None
    } else if t.is_dir() {
        Some("a directory")
    } else if t.is_char_device() {
        // A terminal ends when the user types ^D; /dev/zero and /dev/urandom never do.
        (!file.is_terminal()).then_some("a character device")
    } else if t.is_block_device() {
        Some("a block device")
    } else {
        Some("a special file")
    }
}

/// Opens `path` for reading without waiting for a writer: opening a named pipe (FIFO) that
/// nobody writes to blocks for ever otherwise. The file is opened non-blocking and then set
/// back to blocking, so a pipe with a writer is read to its end as before, and one with no
/// writer reads as empty at once (POSIX: a FIFO with no writer reads end-of-file).
#[cfg(unix)]
fn open_without_waiting(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor this function owns, with integer arguments only.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(file)
}

#[cfg(not(unix))]
fn open_without_waiting(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

#[cfg(not(unix))]
fn unreadable_kind(_file: &std::fs::File, meta: &std::fs::Metadata) -> Option<&'static str> {
    (!meta.is_file()).then_some("not a regular file")
}

/// Reads at most `limit` bytes from `path`: refused with [`ReadError::TooLarge`] after at most
/// `limit + 1` bytes were read (before reading anything when a regular file's size already
/// says so), and refused at once when `path` is a device, a directory or anything else that
/// might never end.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = open_without_waiting(path).map_err(ReadError::Io)?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    if let Some(kind) = unreadable_kind(&file, &meta) {
        return Err(ReadError::NotReadable { kind });
    }
    if meta.is_file() && meta.len() > limit {
        return Err(ReadError::TooLarge {
            limit,
            size: Some(meta.len()),
        });
    }
    // The size of a regular file is a good first guess; a pipe's is unknown (0).
    let guess = if meta.is_file() { meta.len() } else { 0 };
    let mut bytes = Vec::with_capacity(usize::try_from(guess.min(limit)).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        // A file that grew while being read, or a pipe: how much more there was is unknown.
        return Err(ReadError::TooLarge { limit, size: None });
    }
    Ok(bytes)
}

/// Why an input could not be taken: one line, for the user. Paths are shown terminal-safe.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("cannot read {path} ({what}): {reason}")]
    File {
        path: String,
        what: String,
        reason: ReadError,
    },
    #[error("{path} is not valid UTF-8 (first bad byte at offset {offset})")]
    NotUtf8 { path: String, offset: usize },
    #[error("cannot read stdin: {0}")]
    Stdin(std::io::Error),
    #[error("a line on stdin is longer than {limit} bytes")]
    LineTooLong { limit: u64 },
    #[error("a line on stdin is not valid UTF-8")]
    LineNotUtf8,
}

/// [`read_bounded`] for UTF-8 text. Errors are one line, for the user: `cannot read PATH
/// (WHAT): REASON` or `PATH is not valid UTF-8 (first bad byte at offset N)`; `what` names
/// the input ("body file", "SSH key file").
pub fn read_text(path: &Path, limit: u64, what: &str) -> Result<String, InputError> {
    let shown = printable(&path.display().to_string());
    let bytes = read_bounded(path, limit).map_err(|reason| InputError::File {
        path: shown.clone(),
        what: what.to_string(),
        reason,
    })?;
    String::from_utf8(bytes).map_err(|e| InputError::NotUtf8 {
        path: shown,
        offset: e.utf8_error().valid_up_to(),
    })
}

/// One line of at most `limit` bytes (its `\n` or `\r\n` not counted, nor returned) from
/// `reader`; `None` at the end of input. A longer line is refused after reading `limit + 1`
/// bytes of it, so one endless line cannot make the process grow.
pub async fn read_line_bounded<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    limit: u64,
) -> Result<Option<String>, InputError> {
    let mut buf = Vec::new();
    // The line, its "\r\n", and one byte more to tell a line over the limit.
    let n = (&mut *reader)
        .take(limit.saturating_add(3))
        .read_until(b'\n', &mut buf)
        .await
        .map_err(InputError::Stdin)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    }
    if buf.len() as u64 > limit {
        return Err(InputError::LineTooLong { limit });
    }
    String::from_utf8(buf)
        .map(Some)
        .map_err(|_| InputError::LineNotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A named pipe nobody writes to reads as empty at once (it blocked for ever).
    #[cfg(unix)]
    #[test]
    fn a_fifo_without_a_writer_does_not_block() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("body");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let (tx, rx) = std::sync::mpsc::channel();
        let path = fifo.clone();
        std::thread::spawn(move || tx.send(read_bounded(&path, 100).map(|b| b.len())));
        let got = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("reading a FIFO with no writer returned");
        assert_eq!(got.unwrap(), 0);
        // A pipe with a writer is still read to its end (the shell's `--body-file
        // /dev/stdin` tests in tests/cli cover it).
    }

    #[test]
    fn bounded_reads() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        std::fs::write(&f, b"12345").unwrap();
        assert_eq!(read_bounded(&f, 5).unwrap(), b"12345");
        assert!(matches!(
            read_bounded(&f, 4),
            Err(ReadError::TooLarge {
                limit: 4,
                size: Some(5)
            })
        ));
        assert!(matches!(
            read_bounded(dir.path(), 4),
            Err(ReadError::NotReadable {
                kind: "a directory"
            })
        ));
        assert!(
            read_bounded(&dir.path().join("nope"), 4)
                .unwrap_err()
                .is_not_found()
        );
        #[cfg(unix)]
        assert!(matches!(
            read_bounded(Path::new("/dev/zero"), 4),
            Err(ReadError::NotReadable {
                kind: "a character device"
            })
        ));
        let err = read_text(Path::new("/dev/zero"), 4, "body file")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "cannot read /dev/zero (body file): it is a character device, not a file, a pipe or a terminal"
        );
    }

    #[tokio::test]
    async fn bounded_lines() {
        let input: &[u8] = b"one\r\ntwo\n\nthree-is-long\nfour";
        let mut r = tokio::io::BufReader::new(input);
        assert_eq!(read_line_bounded(&mut r, 5).await.unwrap().unwrap(), "one");
        assert_eq!(read_line_bounded(&mut r, 5).await.unwrap().unwrap(), "two");
        assert_eq!(read_line_bounded(&mut r, 5).await.unwrap().unwrap(), "");
        assert!(read_line_bounded(&mut r, 5).await.is_err());
        let mut r = tokio::io::BufReader::new(&b"four"[..]);
        assert_eq!(read_line_bounded(&mut r, 4).await.unwrap().unwrap(), "four");
        assert!(read_line_bounded(&mut r, 4).await.unwrap().is_none());
    }
}
