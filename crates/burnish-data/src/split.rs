//! Seeded train/validation splits, plain or stratified by class, for datasets that come without
//! a validation file.
//!
//! Both return sorted index lists, `(train, valid)`, that depend only on their arguments.

use std::collections::BTreeMap;

use crate::error::{DataError, Result};
use crate::rng::Rng;

/// Checks a validation fraction: finite and in `[0, 1)`.
fn check_fraction(valid_fraction: f64) -> Result<()> {
    if (0.0..1.0).contains(&valid_fraction) {
        Ok(())
    } else {
        Err(DataError::options(format!(
            "the validation fraction {valid_fraction} is not in [0, 1)"
        )))
    }
}

/// How many of `n` items go to validation: `round(n * fraction)`, leaving at least one for
/// training.
fn valid_count(n: usize, valid_fraction: f64) -> usize {
    // n * fraction < n, so the rounded value fits back into usize.
    let count = (n as f64 * valid_fraction).round() as usize;
    count.min(n.saturating_sub(1))
}

/// Splits indices `0..n` at random: `round(n * valid_fraction)` of them go to validation (but
/// at least one stays in training), the rest to training. Both lists are sorted.
///
/// # Errors
/// [`DataError::InvalidOptions`] if `valid_fraction` is not in `[0, 1)`.
pub fn train_valid_split(
    n: usize,
    valid_fraction: f64,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>)> {
    check_fraction(valid_fraction)?;
    let mut order: Vec<usize> = (0..n).collect();
    Rng::new(seed).shuffle(&mut order);
    let mut valid = order.split_off(n - valid_count(n, valid_fraction));
    order.sort_unstable();
    valid.sort_unstable();
    Ok((order, valid))
}

/// Splits indices `0..classes.len()` so that each class keeps its proportion:
/// `round(count * valid_fraction)` of each class go to validation, but every class keeps at
/// least one example in training (a class with a single example stays in training). Both lists
/// are sorted.
///
/// `classes[i]` is the class of example `i` (a class id, a name, ...).
///
/// # Errors
/// [`DataError::InvalidOptions`] if `valid_fraction` is not in `[0, 1)`.
pub fn stratified_split<K: Ord>(
    classes: &[K],
    valid_fraction: f64,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>)> {
    check_fraction(valid_fraction)?;
    let mut by_class: BTreeMap<&K, Vec<usize>> = BTreeMap::new();
    for (i, class) in classes.iter().enumerate() {
        by_class.entry(class).or_default().push(i);
    }
    let mut rng = Rng::new(seed);
    let mut train = Vec::with_capacity(classes.len());
    let mut valid = Vec::new();
    for mut members in by_class.into_values() {
        rng.shuffle(&mut members);
        let count = valid_count(members.len(), valid_fraction);
        valid.extend(members.drain(..count));
        train.extend(members);
    }
    train.sort_unstable();
    valid.sort_unstable();
    Ok((train, valid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_split_is_seeded_and_complete() {
        let (train, valid) = train_valid_split(1000, 0.1, 3).unwrap();
        assert_eq!((train.len(), valid.len()), (900, 100));
        let mut all: Vec<usize> = train.iter().chain(&valid).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
        assert_eq!(
            train_valid_split(1000, 0.1, 3).unwrap(),
            (train.clone(), valid.clone())
        );
        assert_ne!(train_valid_split(1000, 0.1, 4).unwrap().1, valid);
        // Edge cases: nothing to validate on, tiny sets keep one for training.
        assert_eq!(train_valid_split(5, 0.0, 1).unwrap().1, Vec::<usize>::new());
        assert_eq!(train_valid_split(2, 0.9, 1).unwrap().0.len(), 1);
        assert_eq!(train_valid_split(0, 0.5, 1).unwrap(), (vec![], vec![]));
        for bad in [1.0, -0.1, f64::NAN, f64::INFINITY] {
            assert!(train_valid_split(10, bad, 1).is_err(), "{bad}");
        }
    }

    #[test]
    fn stratified_split_keeps_proportions() {
        // 700 of class 0, 200 of class 1, 100 of class 2, interleaved; one singleton class.
        let mut classes: Vec<u32> = (0..1000)
            .map(|i| match i % 10 {
                0..=6 => 0,
                7 | 8 => 1,
                _ => 2,
            })
            .collect();
        classes.push(3);
        let (train, valid) = stratified_split(&classes, 0.2, 11).unwrap();
        let count = |indices: &[usize], class: u32| {
            indices.iter().filter(|&&i| classes[i] == class).count()
        };
        assert_eq!([0, 1, 2, 3].map(|c| count(&valid, c)), [140, 40, 20, 0]);
        assert_eq!([0, 1, 2, 3].map(|c| count(&train, c)), [560, 160, 80, 1]);
        assert_eq!(train.len() + valid.len(), classes.len());
        assert_eq!(
            stratified_split(&classes, 0.2, 11).unwrap(),
            (train, valid.clone())
        );
        assert_ne!(stratified_split(&classes, 0.2, 12).unwrap().1, valid);
        // Works with names as classes too.
        let names = ["pos", "neg", "pos", "neg", "pos", "neg"];
        let (_, valid) = stratified_split(&names, 0.34, 0).unwrap();
        assert_eq!(valid.len(), 2);
        assert_eq!(valid.iter().filter(|&&i| names[i] == "pos").count(), 1);
    }
}
