//! Transparent huge pages for large, freshly allocated trace columns (Linux).
//!
//! A trace writes about 180 bytes per event into columns allocated up front. With
//! 4 KiB pages every page costs a fault on its first write, which dominates long runs
//! (measured in this project's microVM: ~60 of ~250 ns per event at 5M events).
//! [`with_capacity`] asks the kernel (`madvise(MADV_HUGEPAGE)`) to back the 2 MiB-aligned
//! interior of every untouched allocation of at least [`MIN_BYTES`] with huge pages,
//! which takes effect when transparent huge pages are in `madvise` (or `always`) mode.
//! It is advice only: contents, and so results, never change. Elsewhere it does nothing.

/// Allocations smaller than this are left alone.
pub const MIN_BYTES: usize = 4 << 20;

#[cfg(target_os = "linux")]
const HUGE_PAGE: usize = 2 << 20;

/// `Vec::with_capacity(capacity)`, with the huge-page advice for a large allocation.
#[must_use]
pub fn with_capacity<T>(capacity: usize) -> Vec<T> {
    let v: Vec<T> = Vec::with_capacity(capacity);
    advise(
        v.as_ptr().cast::<u8>(),
        v.capacity().saturating_mul(size_of::<T>()),
    );
    v
}

/// `vec![T::default(); len]` (a zero-filled allocation for numbers and `bool`), with
/// the huge-page advice for a large allocation (given before any page is touched:
/// a large zeroed allocation comes straight from the kernel).
#[must_use]
pub fn zeroed<T: Clone + Default>(len: usize) -> Vec<T> {
    let v: Vec<T> = vec![T::default(); len];
    advise(
        v.as_ptr().cast::<u8>(),
        v.capacity().saturating_mul(size_of::<T>()),
    );
    v
}

#[cfg(target_os = "linux")]
fn advise(ptr: *const u8, bytes: usize) {
    if bytes < MIN_BYTES {
        return;
    }
    let start = ptr as usize;
    let first = start.next_multiple_of(HUGE_PAGE);
    let end = (start + bytes) / HUGE_PAGE * HUGE_PAGE;
    if end > first {
        // SAFETY: `first..end` lies inside the live allocation of `bytes` bytes at `ptr`
        // (both ends rounded inwards). `madvise(MADV_HUGEPAGE)` only advises the kernel
        // how to back these pages; it never changes their contents, and a failure
        // (e.g. THP unsupported) is harmless, so its result is ignored.
        unsafe {
            libc::madvise(
                ptr.with_addr(first).cast_mut().cast::<libc::c_void>(),
                end - first,
                libc::MADV_HUGEPAGE,
            );
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise(_ptr: *const u8, _bytes: usize) {}

#[cfg(test)]
mod tests {
    #[test]
    fn large_and_small_allocations_work_as_usual() {
        let mut big: Vec<f64> = super::with_capacity(1 << 20); // 8 MiB: advised
        big.extend((0..1 << 20).map(f64::from));
        assert!((big[12345] - 12345.0).abs() < 0.5);
        let small: Vec<u8> = super::with_capacity(10);
        assert!(small.capacity() >= 10);
        let empty: Vec<u64> = super::with_capacity(0);
        assert!(empty.is_empty());
    }
}
