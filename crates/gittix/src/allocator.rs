//! How the process's allocator returns memory.

/// Allocations of this size and above get pages of their own, returned to the system when freed.
const OWN_PAGES_FROM_BYTES: i32 = 1 << 20;

/// Makes large allocations go back to the system when freed.
///
/// An argon2id hash takes a 19 MiB buffer. glibc's malloc raises its mmap threshold to the size
/// of the last large block freed, so from the second hash on the buffer comes from the thread's
/// arena and stays there once freed: hashes on several threads left the process hundreds of MiB
/// larger for good. A fixed threshold turns off that adjustment.
pub fn return_large_allocations() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; any threshold is valid.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, OWN_PAGES_FROM_BYTES);
    }
}
