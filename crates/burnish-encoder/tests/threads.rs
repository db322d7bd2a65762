//! `set_cpu_threads` sizes flex's pool (its own process: rayon's global pool starts once).

#[cfg(feature = "flex")]
#[test]
fn the_pool_takes_the_size_once() {
    use burnish_encoder::threads::set_cpu_threads;
    // The process's first use of rayon's global pool: it starts with 3 threads, more than this
    // machine may have cores, so the count is ours, not the default.
    assert_eq!(set_cpu_threads(3).unwrap(), 3);
    // flex's matrix products run on that pool.
    let device = burn::tensor::Device::flex();
    let a = burn::tensor::Tensor::<2>::ones([256, 256], &device);
    let sum = a.clone().matmul(a).sum().into_scalar::<f32>();
    assert_eq!(sum, 256.0 * 256.0 * 256.0);
    // Asking again for the same size, or for "all cores", is no change.
    assert_eq!(set_cpu_threads(3).unwrap(), 3);
    assert_eq!(set_cpu_threads(0).unwrap(), 3);
    // Another size once it runs is an error naming both counts.
    let err = set_cpu_threads(5).unwrap_err().to_string();
    assert!(
        err.contains("cannot use 5") && err.contains("runs with 3"),
        "{err}"
    );
}
