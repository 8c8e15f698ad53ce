//! The client's window size, shared by the connection handler (which writes it), the session
//! (which draws at it) and the session table (which shows it).

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// The client's latest window size, written by the connection handler and read by the
/// session: a flood of window changes leaves one size here and one `Resized` in the queue.
#[derive(Debug)]
pub(crate) struct ClientSize {
    /// cols << 16 | rows
    packed: AtomicU32,
    /// A `Resized` is in the session's queue.
    queued: AtomicBool,
}

impl ClientSize {
    pub fn new(size: (u16, u16)) -> Self {
        ClientSize {
            packed: AtomicU32::new(Self::pack(size)),
            queued: AtomicBool::new(false),
        }
    }

    fn pack((w, h): (u16, u16)) -> u32 {
        (u32::from(w) << 16) | u32::from(h)
    }

    /// Records `size`; true when the session must be told (no `Resized` is queued).
    pub fn set(&self, size: (u16, u16)) -> bool {
        self.packed.store(Self::pack(size), Ordering::SeqCst);
        !self.queued.swap(true, Ordering::SeqCst)
    }

    /// The latest size (without re-arming).
    pub fn current(&self) -> (u16, u16) {
        let p = self.packed.load(Ordering::SeqCst);
        ((p >> 16) as u16, p as u16)
    }

    /// The `Resized` could not be queued.
    pub fn unqueue(&self) {
        self.queued.store(false, Ordering::SeqCst);
    }

    /// The latest size, re-arming `set` (called by the session on `Resized`).
    pub fn take(&self) -> (u16, u16) {
        self.queued.store(false, Ordering::SeqCst);
        let p = self.packed.load(Ordering::SeqCst);
        ((p >> 16) as u16, p as u16)
    }
}
