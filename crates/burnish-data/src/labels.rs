//! Label maps (class id <-> name) and the task they belong to.
//!
//! A [`LabelMap`] is built once, from the training records: integer labels keep their numeric
//! order (labels `0, 1, 2` get ids `0, 1, 2`), any other labels are sorted by name. It is saved
//! with the model as Hugging Face's `id2label` / `label2id` ([`LabelMap::to_hf_json`]) and read
//! back from a `config.json` ([`LabelMap::from_hf_config`]). A label the map does not know (a
//! validation label never seen in training) is an error naming the file, the line and the known
//! labels, never a silent new class.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{DataError, Result};
use crate::reader::{Dataset, LabelKind, RawLabel, Record};

/// A label as the model sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum Label {
    /// A class id (single-label classification).
    Class(u32),
    /// A multi-hot vector over the classes (multi-label classification): 1.0 for each class the
    /// record has, 0.0 for the others.
    Multi(Vec<f32>),
    /// A regression target.
    Value(f32),
    /// No label (prediction input).
    None,
}

/// A bijection between class ids `0..n` and class names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct LabelMap {
    /// The names, by id.
    names: Vec<String>,
    /// The ids, by name.
    ids: HashMap<String, u32>,
}

impl LabelMap {
    /// A map with these names, in id order.
    ///
    /// # Errors
    /// [`DataError::LabelMap`] if there are no names, a name is empty or appears twice, or
    /// there are more than `u32::MAX` names.
    pub fn new(names: Vec<String>) -> Result<Self> {
        if names.is_empty() {
            return Err(DataError::label_map("no labels"));
        }
        if u32::try_from(names.len()).is_err() {
            return Err(DataError::label_map(format!(
                "{} labels are too many",
                names.len()
            )));
        }
        let mut ids = HashMap::with_capacity(names.len());
        for (id, name) in (0u32..).zip(&names) {
            if name.is_empty() {
                return Err(DataError::label_map(format!(
                    "label {id} has an empty name"
                )));
            }
            if let Some(first) = ids.insert(name.clone(), id) {
                return Err(DataError::label_map(format!(
                    "label {name:?} appears twice (ids {first} and {id})"
                )));
            }
        }
        Ok(Self { names, ids })
    }

    /// The map of a set of label names: if every name is an integer they are ordered
    /// numerically, otherwise by name. Repeated names count once.
    ///
    /// # Errors
    /// [`DataError::LabelMap`] if there are no names or one is empty.
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self> {
        let unique: BTreeSet<&str> = names.into_iter().collect();
        let numeric: Option<Vec<(i128, &str)>> = unique
            .iter()
            .map(|name| name.parse::<i128>().ok().map(|n| (n, *name)))
            .collect();
        let ordered: Vec<String> = match numeric {
            Some(mut numbers) => {
                numbers.sort();
                numbers
                    .into_iter()
                    .map(|(_, name)| name.to_owned())
                    .collect()
            }
            None => unique.into_iter().map(str::to_owned).collect(),
        };
        Self::new(ordered)
    }

    /// The map of the class labels of `records` (single- or multi-label).
    ///
    /// # Errors
    /// [`DataError::LabelMap`] if the records have no class labels at all.
    pub fn from_records(records: &[Record]) -> Result<Self> {
        let names = records
            .iter()
            .filter_map(|record| record.label.as_ref())
            .flat_map(|label| match label {
                RawLabel::Class(name) => std::slice::from_ref(name),
                RawLabel::Multi(names) => names.as_slice(),
                RawLabel::Value(_) => &[],
            })
            .map(String::as_str);
        Self::from_names(names)
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no labels (never true: a map has at least one).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The names, by id.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The name of id `id`.
    pub fn name(&self, id: u32) -> Option<&str> {
        self.names.get(id as usize).map(String::as_str)
    }

    /// The id of `name`.
    pub fn id(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    /// The id of the label `name` of the record at `path:line`.
    ///
    /// # Errors
    /// [`DataError::UnknownLabel`] (with the known labels) if the map does not have it.
    pub fn lookup(&self, name: &str, path: &Path, line: usize) -> Result<u32> {
        self.id(name).ok_or_else(|| DataError::UnknownLabel {
            path: path.to_owned(),
            line,
            label: name.to_owned(),
            known: self.names.clone(),
        })
    }

    /// Hugging Face's `{"id2label": {"0": name, ...}, "label2id": {name: 0, ...}}`, to merge
    /// into a `config.json`.
    pub fn to_hf_json(&self) -> Value {
        let mut id2label = Map::new();
        let mut label2id = Map::new();
        for (id, name) in self.names.iter().enumerate() {
            id2label.insert(id.to_string(), Value::from(name.as_str()));
            label2id.insert(name.clone(), Value::from(id));
        }
        let mut out = Map::new();
        out.insert("id2label".to_owned(), Value::Object(id2label));
        out.insert("label2id".to_owned(), Value::Object(label2id));
        Value::Object(out)
    }

    /// Reads the map from a Hugging Face `config.json` (its `id2label`, checked against its
    /// `label2id` when there is one).
    ///
    /// # Errors
    /// [`DataError::LabelMap`] if `id2label` is missing or not an object, its keys are not the
    /// ids `0..n`, a name is not a string, or `label2id` disagrees.
    pub fn from_hf_config(config: &Value) -> Result<Self> {
        let id2label = config
            .get("id2label")
            .ok_or_else(|| DataError::label_map("config has no `id2label`"))?
            .as_object()
            .ok_or_else(|| DataError::label_map("`id2label` is not an object"))?;
        let mut names: Vec<Option<String>> = vec![None; id2label.len()];
        for (key, value) in id2label {
            let id: usize = key
                .trim()
                .parse()
                .ok()
                .filter(|&id| id < names.len())
                .ok_or_else(|| {
                    DataError::label_map(format!(
                        "`id2label` key {key:?} is not an id in 0..{}",
                        names.len()
                    ))
                })?;
            let name = value.as_str().ok_or_else(|| {
                DataError::label_map(format!("`id2label` value for {key:?} is not a string"))
            })?;
            if names[id].replace(name.to_owned()).is_some() {
                return Err(DataError::label_map(format!(
                    "`id2label` has id {id} twice"
                )));
            }
        }
        // n distinct keys in 0..n: every id is there.
        let names: Vec<String> = names.into_iter().flatten().collect();
        let map = Self::new(names)?;
        if let Some(label2id) = config.get("label2id") {
            let label2id = label2id
                .as_object()
                .ok_or_else(|| DataError::label_map("`label2id` is not an object"))?;
            for (name, id) in label2id {
                let id = id.as_u64();
                if id != map.id(name).map(u64::from) {
                    return Err(DataError::label_map(format!(
                        "`label2id` maps {name:?} to {}, but `id2label` {}",
                        id.map_or("a non-id".to_owned(), |id| id.to_string()),
                        map.id(name)
                            .map_or("does not have it".to_owned(), |id| format!("to {id}"))
                    )));
                }
            }
            if label2id.len() != map.len() {
                return Err(DataError::label_map(format!(
                    "`label2id` has {} labels, `id2label` {}",
                    label2id.len(),
                    map.len()
                )));
            }
        }
        Ok(map)
    }
}

impl TryFrom<Vec<String>> for LabelMap {
    type Error = DataError;

    fn try_from(names: Vec<String>) -> Result<Self> {
        Self::new(names)
    }
}

impl From<LabelMap> for Vec<String> {
    fn from(map: LabelMap) -> Self {
        map.names
    }
}

/// What a sequence-classification model predicts, and with which labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Task {
    /// One class per text (softmax + cross-entropy).
    SingleLabel(LabelMap),
    /// Any number of classes per text (sigmoid + binary cross-entropy per class).
    MultiLabel(LabelMap),
    /// One number per text (mean squared error).
    Regression,
}

impl Task {
    /// The task for labels of kind `kind`, with the label map built from `dataset` (the
    /// training data).
    ///
    /// # Errors
    /// [`DataError::LabelMap`] if a classification dataset has no labels.
    pub fn from_dataset(kind: LabelKind, dataset: &Dataset) -> Result<Self> {
        Ok(match kind {
            LabelKind::Class => Self::SingleLabel(LabelMap::from_records(&dataset.records)?),
            LabelKind::MultiLabel => Self::MultiLabel(LabelMap::from_records(&dataset.records)?),
            LabelKind::Regression => Self::Regression,
        })
    }

    /// Reads the task from a Hugging Face `config.json`: its `problem_type`, or, when that is
    /// missing, regression for one label and single-label classification otherwise (as
    /// `transformers` decides).
    ///
    /// # Errors
    /// [`DataError::LabelMap`] for an unknown `problem_type` or an unusable `id2label`.
    pub fn from_hf_config(config: &Value) -> Result<Self> {
        let problem_type = match config.get("problem_type") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(_) => return Err(DataError::label_map("`problem_type` is not a string")),
        };
        match problem_type {
            Some("regression") => Ok(Self::Regression),
            Some("multi_label_classification") => {
                Ok(Self::MultiLabel(LabelMap::from_hf_config(config)?))
            }
            Some("single_label_classification") => {
                Ok(Self::SingleLabel(LabelMap::from_hf_config(config)?))
            }
            Some(other) => Err(DataError::label_map(format!(
                "unknown `problem_type` {other:?} (expected single_label_classification, \
                 multi_label_classification or regression)"
            ))),
            None => {
                let map = LabelMap::from_hf_config(config)?;
                Ok(if map.len() == 1 {
                    Self::Regression
                } else {
                    Self::SingleLabel(map)
                })
            }
        }
    }

    /// Hugging Face's `problem_type`: `single_label_classification`,
    /// `multi_label_classification` or `regression`.
    pub fn problem_type(&self) -> &'static str {
        match self {
            Self::SingleLabel(_) => "single_label_classification",
            Self::MultiLabel(_) => "multi_label_classification",
            Self::Regression => "regression",
        }
    }

    /// How many outputs the head has: the number of classes, or 1 for regression.
    pub fn num_labels(&self) -> usize {
        self.label_map().map_or(1, LabelMap::len)
    }

    /// The label map (none for regression).
    pub fn label_map(&self) -> Option<&LabelMap> {
        match self {
            Self::SingleLabel(map) | Self::MultiLabel(map) => Some(map),
            Self::Regression => None,
        }
    }

    /// How labels of this task are read from a data file.
    pub fn label_kind(&self) -> LabelKind {
        match self {
            Self::SingleLabel(_) => LabelKind::Class,
            Self::MultiLabel(_) => LabelKind::MultiLabel,
            Self::Regression => LabelKind::Regression,
        }
    }

    /// The `config.json` entries of this task: `problem_type`, `id2label` and `label2id`
    /// (`{"0": "LABEL_0"}` for regression, as `transformers` writes it).
    pub fn to_hf_json(&self) -> Value {
        let mut out = match self.label_map() {
            Some(map) => map.to_hf_json(),
            None => LabelMap {
                names: vec!["LABEL_0".to_owned()],
                ids: HashMap::from([("LABEL_0".to_owned(), 0)]),
            }
            .to_hf_json(),
        };
        if let Value::Object(object) = &mut out {
            object.insert("problem_type".to_owned(), Value::from(self.problem_type()));
        }
        out
    }

    /// The label of the record at `path:line` as the model sees it: a class id, a multi-hot
    /// vector or a value; [`Label::None`] for a record without a label.
    ///
    /// # Errors
    /// [`DataError::UnknownLabel`] for a class the map does not have, [`DataError::Label`] for a
    /// label of the wrong kind (e.g. a list for single-label classification).
    pub fn label(&self, label: Option<&RawLabel>, path: &Path, line: usize) -> Result<Label> {
        let Some(label) = label else {
            return Ok(Label::None);
        };
        match (self, label) {
            (Self::SingleLabel(map), RawLabel::Class(name)) => {
                map.lookup(name, path, line).map(Label::Class)
            }
            (Self::MultiLabel(map), RawLabel::Multi(names)) => {
                let mut hot = vec![0.0; map.len()];
                for name in names {
                    hot[map.lookup(name, path, line)? as usize] = 1.0;
                }
                Ok(Label::Multi(hot))
            }
            // Checked finite as f32 when read.
            (Self::Regression, RawLabel::Value(value)) => Ok(Label::Value(*value as f32)),
            (task, label) => {
                let found = match label {
                    RawLabel::Class(name) => format!("a class label {name:?}"),
                    RawLabel::Multi(_) => "a list of labels".to_owned(),
                    RawLabel::Value(value) => format!("a number {value}"),
                };
                Err(DataError::Label {
                    path: path.to_owned(),
                    line,
                    reason: format!(
                        "{} needs {}, found {found}",
                        task.problem_type(),
                        match task {
                            Self::SingleLabel(_) => "a class label",
                            Self::MultiLabel(_) => "a list of labels",
                            Self::Regression => "a number",
                        }
                    ),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(map: &LabelMap) -> Vec<&str> {
        map.names().iter().map(String::as_str).collect()
    }

    #[test]
    fn integers_keep_numeric_order_and_strings_sort() {
        let map = LabelMap::from_names(["10", "2", "0", "1", "2", "-1"]).unwrap();
        assert_eq!(names(&map), ["-1", "0", "1", "2", "10"]);
        let map = LabelMap::from_names(["positive", "negative", "neutral", "10"]).unwrap();
        assert_eq!(names(&map), ["10", "negative", "neutral", "positive"]);
        assert_eq!(map.id("neutral"), Some(2));
        assert_eq!(map.name(3), Some("positive"));
        assert_eq!(map.name(4), None);
        assert!(LabelMap::from_names([]).is_err());
    }

    #[test]
    fn new_rejects_duplicates_and_empty_names() {
        let error = LabelMap::new(vec!["a".into(), "b".into(), "a".into()]).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("\"a\" appears twice (ids 0 and 2)"),
            "{error}"
        );
        assert!(LabelMap::new(vec![String::new()]).is_err());
        assert!(LabelMap::new(vec![]).is_err());
    }

    #[test]
    fn hf_json_round_trips() {
        let map = LabelMap::from_names(["neg", "pos"]).unwrap();
        let json = map.to_hf_json();
        assert_eq!(
            json,
            serde_json::json!({
                "id2label": {"0": "neg", "1": "pos"},
                "label2id": {"neg": 0, "pos": 1},
            })
        );
        assert_eq!(LabelMap::from_hf_config(&json).unwrap(), map);
        // label2id is optional.
        let only = serde_json::json!({"id2label": {"1": "b", "0": "a"}});
        assert_eq!(names(&LabelMap::from_hf_config(&only).unwrap()), ["a", "b"]);
    }

    #[test]
    fn bad_hf_configs_are_errors() {
        for (config, expected) in [
            (serde_json::json!({}), "no `id2label`"),
            (
                serde_json::json!({"id2label": {"0": "a", "2": "b"}}),
                "not an id in 0..2",
            ),
            (serde_json::json!({"id2label": {"0": 1}}), "not a string"),
            (
                serde_json::json!({"id2label": {"0": "a", "1": "b"}, "label2id": {"a": 1, "b": 0}}),
                "maps \"a\" to 1",
            ),
            (
                serde_json::json!({"id2label": {"0": "a"}, "label2id": {"a": 0, "z": 1}}),
                "\"z\"",
            ),
        ] {
            let error = LabelMap::from_hf_config(&config).unwrap_err().to_string();
            assert!(error.contains(expected), "{error} (expected {expected})");
        }
    }

    #[test]
    fn serde_is_the_list_of_names() {
        let map = LabelMap::from_names(["x", "y"]).unwrap();
        let json = serde_json::to_string(&map).unwrap();
        assert_eq!(json, r#"["x","y"]"#);
        assert_eq!(serde_json::from_str::<LabelMap>(&json).unwrap(), map);
        assert!(serde_json::from_str::<LabelMap>(r#"["x","x"]"#).is_err());
    }

    #[test]
    fn tasks_have_hf_problem_types() {
        let map = LabelMap::from_names(["a", "b", "c"]).unwrap();
        let single = Task::SingleLabel(map.clone());
        let multi = Task::MultiLabel(map);
        assert_eq!(single.problem_type(), "single_label_classification");
        assert_eq!(multi.problem_type(), "multi_label_classification");
        assert_eq!(Task::Regression.problem_type(), "regression");
        assert_eq!(single.num_labels(), 3);
        assert_eq!(Task::Regression.num_labels(), 1);
        for task in [single, multi, Task::Regression] {
            assert_eq!(Task::from_hf_config(&task.to_hf_json()).unwrap(), task);
        }
        // No problem_type: one label is regression, more are single-label.
        let config = serde_json::json!({"id2label": {"0": "LABEL_0"}});
        assert_eq!(Task::from_hf_config(&config).unwrap(), Task::Regression);
        let config = serde_json::json!({"id2label": {"0": "LABEL_0", "1": "LABEL_1"}});
        assert!(matches!(
            Task::from_hf_config(&config).unwrap(),
            Task::SingleLabel(_)
        ));
    }

    #[test]
    fn labels_map_to_ids_multi_hot_and_values() {
        let path = Path::new("valid.csv");
        let map = LabelMap::from_names(["a", "b", "c"]).unwrap();
        let single = Task::SingleLabel(map.clone());
        let multi = Task::MultiLabel(map);
        assert_eq!(
            single
                .label(Some(&RawLabel::Class("b".into())), path, 3)
                .unwrap(),
            Label::Class(1)
        );
        assert_eq!(
            multi
                .label(
                    Some(&RawLabel::Multi(vec!["c".into(), "a".into()])),
                    path,
                    3
                )
                .unwrap(),
            Label::Multi(vec![1.0, 0.0, 1.0])
        );
        assert_eq!(
            Task::Regression
                .label(Some(&RawLabel::Value(0.5)), path, 3)
                .unwrap(),
            Label::Value(0.5)
        );
        assert_eq!(single.label(None, path, 3).unwrap(), Label::None);

        let error = single
            .label(Some(&RawLabel::Class("d".into())), path, 9)
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            r#"valid.csv:9: unknown label "d" (known: "a", "b", "c")"#
        );
        let error = single
            .label(Some(&RawLabel::Value(1.0)), path, 4)
            .unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("valid.csv:4: single_label_classification needs a class label"),
            "{error}"
        );
    }
}
