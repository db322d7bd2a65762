//! `TrainConfig`'s class weights and label smoothing (issue 24): balanced weights from the
//! label counts as scikit-learn's `compute_class_weight("balanced")` gives them, weights by
//! label name, and the errors that name the field.

use std::collections::BTreeMap;

use burnish_train::{ClassWeights, TrainConfig, TrainError};

/// The field and reason of a configuration error.
fn field_and_reason(err: TrainError) -> (&'static str, String) {
    match err {
        TrainError::Config { field, reason } => (field, reason),
        other => panic!("not a config error: {other}"),
    }
}

fn labels() -> Vec<String> {
    ["neg", "neu", "pos"].map(String::from).to_vec()
}

#[test]
fn balanced_weights_are_n_over_classes_times_count() {
    let config = TrainConfig {
        class_weights: Some(ClassWeights::Balanced),
        label_smoothing: 0.1,
        ..TrainConfig::default()
    };
    // 100 examples: 80 / 15 / 5. sklearn: 100 / (3 * count).
    let loss = config.class_loss(&labels(), &[80, 15, 5]).unwrap();
    let weights = loss.class_weights.unwrap();
    for (got, want) in weights
        .iter()
        .zip([100.0 / 240.0, 100.0 / 45.0, 100.0 / 15.0])
    {
        assert!((f64::from(*got) - want).abs() < 1e-6, "{weights:?}");
    }
    assert_eq!(loss.label_smoothing, 0.1);
    let err = field_and_reason(config.class_loss(&labels(), &[80, 20, 0]).unwrap_err());
    assert_eq!(err.0, "class_weights");
    assert!(err.1.contains("\"pos\""), "{}", err.1);
}

#[test]
fn weights_by_name_must_cover_the_labels_exactly() {
    let mut given: BTreeMap<String, f64> = [
        ("neg".into(), 1.0),
        ("neu".into(), 2.0),
        ("pos".into(), 9.0),
    ]
    .into();
    let config = |given: &BTreeMap<String, f64>| TrainConfig {
        class_weights: Some(ClassWeights::PerLabel(given.clone())),
        ..TrainConfig::default()
    };
    let loss = config(&given).class_loss(&labels(), &[1, 1, 1]).unwrap();
    assert_eq!(loss.class_weights, Some(vec![1.0, 2.0, 9.0]));

    given.insert("other".into(), 1.0);
    let err = field_and_reason(
        config(&given)
            .class_loss(&labels(), &[1, 1, 1])
            .unwrap_err(),
    );
    assert!(err.1.contains("\"other\" is not a label"), "{}", err.1);
    given.remove("other");
    given.remove("neu");
    let err = field_and_reason(
        config(&given)
            .class_loss(&labels(), &[1, 1, 1])
            .unwrap_err(),
    );
    assert!(err.1.contains("no weight for label \"neu\""), "{}", err.1);
}

#[test]
fn bad_values_are_config_errors_and_toml_reads_both_forms() {
    let smoothing = TrainConfig {
        label_smoothing: 1.0,
        ..TrainConfig::default()
    };
    assert_eq!(smoothing.validate().unwrap_err().0, "label_smoothing");
    let negative = TrainConfig {
        class_weights: Some(ClassWeights::PerLabel([("neg".into(), -1.0)].into())),
        ..TrainConfig::default()
    };
    assert_eq!(negative.validate().unwrap_err().0, "class_weights");

    let balanced: TrainConfig = toml::from_str("class_weights = \"balanced\"").unwrap();
    assert_eq!(balanced.class_weights, Some(ClassWeights::Balanced));
    let given: TrainConfig =
        toml::from_str("label_smoothing = 0.1\nclass_weights = { neg = 1.0, pos = 4.0 }").unwrap();
    assert_eq!(
        given.class_weights,
        Some(ClassWeights::PerLabel(
            [("neg".into(), 1.0), ("pos".into(), 4.0)].into()
        ))
    );
    // And back through JSON, as training_config.json holds it.
    let json = serde_json::to_string(&given).unwrap();
    assert_eq!(serde_json::from_str::<TrainConfig>(&json).unwrap(), given);
}
