//! What the hostile-server tests share: a global allocator that counts the bytes live and
//! their peak, and a lock so that one test at a time is measured.
//!
//! The peak covers the whole process (the client, the scripted peer, the test), so a bound
//! on it is a bound on what the client held.

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};

/// [`System`], counting.
pub struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = LIVE.fetch_add(by, Ordering::Relaxed).saturating_add(by);
    PEAK.fetch_max(now, Ordering::Relaxed);
}

fn shrank(by: usize) {
    LIVE.fetch_sub(by, Ordering::Relaxed);
}

// SAFETY: every call is passed on to `System` unchanged; the counters only observe.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's guarantees for `layout` are passed on.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this layout (every allocation goes there).
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`, and the caller's guarantees for `new_size`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// One measured test at a time: the counters are process-wide.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs `f` and returns its output and the most bytes live at once meanwhile, above what was
/// live when it started.
pub async fn peak_during<F: Future>(f: F) -> (F::Output, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f.await;
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    eprintln!("peak allocated: {peak} bytes");
    (out, peak)
}

/// Bytes in a mebibyte, for bounds.
pub const MIB: usize = 1 << 20;

/// Runs `call` within `bound`; its result and the peak of memory meanwhile.
pub async fn measured<T>(bound: std::time::Duration, call: impl Future<Output = T>) -> (T, usize) {
    let (result, peak) = peak_during(tokio::time::timeout(bound, call)).await;
    (result.expect("the call ended within the bound"), peak)
}

/// Whether `result` failed with `LimitExceeded` for `what` at `limit`.
pub fn exceeded<T>(result: &Result<T, mailbag::Error>, what: &str, limit: usize) -> bool {
    matches!(result, Err(mailbag::Error::LimitExceeded { what: w, limit: l }) if *w == what && *l == limit as u64)
}
