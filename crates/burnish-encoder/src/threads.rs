//! How many CPU threads the CPU backends use: flex's pool (rayon's global pool, on which
//! burn-flex, its gemm and burnish's own flex kernels run) and LibTorch's intra-op pool.
//!
//! Both default to every core. [`set_cpu_threads`] sizes them, once per process and before the
//! first tensor operation on flex: rayon's global pool cannot be resized after it starts.
//! `burnish bench --threads N` gives burnish's side and PyTorch's the same count this way.

use crate::error::Result;

/// Sizes the CPU backends' thread pools to `threads` (0: leave every core, the default) and
/// returns the number flex's pool runs with.
///
/// # Errors
/// [`EncoderError::ThreadPool`](crate::error::EncoderError::ThreadPool) when flex's pool has
/// already started with another size (a tensor operation ran on flex before this call, or an
/// earlier call asked for another count).
pub fn set_cpu_threads(threads: usize) -> Result<usize> {
    #[cfg(feature = "tch")]
    if threads > 0 {
        tch::set_num_threads(i32::try_from(threads).unwrap_or(i32::MAX));
    }
    #[cfg(feature = "flex")]
    {
        if threads > 0
            && rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build_global()
                .is_err()
            && rayon::current_num_threads() != threads
        {
            return Err(crate::error::EncoderError::ThreadPool {
                wanted: threads,
                running: rayon::current_num_threads(),
            });
        }
        Ok(rayon::current_num_threads())
    }
    #[cfg(not(feature = "flex"))]
    Ok(if threads > 0 {
        threads
    } else {
        std::thread::available_parallelism().map_or(1, usize::from)
    })
}
