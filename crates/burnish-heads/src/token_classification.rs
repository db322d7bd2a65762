//! `BertForTokenClassification`: one label per word piece (NER, BIO/IOB2 tagging), as in
//! `transformers`.

use std::path::Path;

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear};
use burn::tensor::{Device, Int, Tensor};
use burnish_encoder::config::BertConfig;
use burnish_encoder::model::{BertInput, BertModel};
use burnish_encoder::pretrained::encoder_config;
use burnish_encoder::pretrained::save_hf_folder;
use burnish_encoder::weights::{Checkpoint, LoadReport, LoadSpec, NameMap, load_checkpoint};
use burnish_encoder::{CONFIG_FILE, EncoderError, Result};

use crate::loss::ClassLoss;
use crate::{head_linear, loss};

/// The label `transformers` (and PyTorch's `CrossEntropyLoss`) ignores: special tokens,
/// padding and the non-first pieces of a word.
pub const IGNORE_INDEX: i64 = -100;

/// BERT with a linear layer on every token's hidden state (HF `BertForTokenClassification`).
///
/// The encoder has no pooler (`add_pooling_layer=False` in `transformers`): a checkpoint that
/// has one (a bare `BertModel`, a sequence classifier) loads with the pooler tensors listed in
/// the report's `unused`.
#[derive(Module, Debug)]
pub struct BertForTokenClassification {
    /// The encoder, without pooler (HF prefix `bert.`).
    pub bert: BertModel,
    /// `classifier_dropout` (or `hidden_dropout_prob`), on the hidden states; DistilBERT's
    /// `dropout` (HF `DistilBertForTokenClassification` does not use `seq_classif_dropout`).
    pub dropout: Dropout,
    /// `H -> num_labels` (HF `classifier`).
    pub classifier: Linear,
    /// Number of labels.
    #[module(skip)]
    pub num_labels: usize,
    /// Class weights and label smoothing of the loss (default: plain cross-entropy); set by
    /// the trainer from its config, not saved.
    #[module(skip)]
    pub class_loss: ClassLoss,
}

impl BertForTokenClassification {
    /// A fresh model (encoder without pooler and head initialised as `transformers` does).
    pub fn new(config: &BertConfig, num_labels: usize, device: &Device) -> Self {
        Self::with_encoder(
            BertModel::new_with_pooler(config, false, device),
            config,
            num_labels,
            device,
        )
    }

    /// A new head on an existing encoder. An encoder with a pooler keeps it, unused by
    /// [`Self::forward`] and saved with the model (`transformers` then reports it as unexpected
    /// weights); build it with `BertModel::new_with_pooler(config, false, ..)` to match
    /// `transformers`' layout.
    pub fn with_encoder(
        bert: BertModel,
        config: &BertConfig,
        num_labels: usize,
        device: &Device,
    ) -> Self {
        let classifier = head_linear(config, num_labels, device);
        Self {
            bert,
            dropout: DropoutConfig::new(token_dropout_prob(config)).init(),
            classifier,
            num_labels,
            class_loss: ClassLoss::default(),
        }
    }

    /// Loads a model folder: a `BertForTokenClassification` checkpoint (head included) or any
    /// other BERT checkpoint (`BertModel`, `BertForMaskedLM`, ...), which gets a fresh head,
    /// listed in the report's `newly_initialized`. A checkpoint's pooler (and any other tensor
    /// this model has no place for) is not an error: it is listed in the report's `unused`, as
    /// `transformers` warns about unused weights.
    ///
    /// `num_labels` defaults to the config's `id2label` size (or 2, `transformers`' default). A
    /// checkpoint `classifier` of another size is an error naming `classifier.weight`; one of
    /// the same size (from a `BertForSequenceClassification`, say) is loaded, as
    /// `transformers` does.
    ///
    /// # Errors
    /// [`EncoderError::ConfigValue`] for `num_labels == 0`; otherwise as
    /// [`burnish_encoder::pretrained::load_folder`].
    pub fn from_pretrained(
        dir: impl AsRef<Path>,
        num_labels: Option<usize>,
        device: &Device,
    ) -> Result<(Self, BertConfig, LoadReport)> {
        let dir = dir.as_ref();
        let config_path = dir.join(CONFIG_FILE);
        let config = encoder_config(dir)?;
        let num_labels = num_labels.or(config_labels(&config)).unwrap_or(2);
        if num_labels == 0 {
            return Err(EncoderError::ConfigValue {
                path: config_path,
                field: "num_labels",
                reason: "a token classifier needs at least one label".into(),
            });
        }
        let checkpoint = Checkpoint::for_config(dir, &config)?;
        let mut model = Self::new(&config, num_labels, device);
        let report = load_checkpoint(
            &mut model,
            &checkpoint,
            LoadSpec {
                encoder_prefix: "bert.",
                may_be_fresh: &|name| name.starts_with("classifier."),
                names: NameMap::new(config.family),
            },
        )?;
        Ok((model, config, report))
    }

    /// Logits `[B, S, num_labels]` for a batch of `[B, S]` inputs (padded positions included;
    /// mask them out with the attention mask or `-100` labels).
    pub fn forward(&self, input: BertInput) -> Tensor<3> {
        self.forward_hidden(self.bert.encode(input))
    }

    /// The head alone: `[B, S, num_labels]` logits from the `[B, S, H]` last hidden state.
    pub fn forward_hidden(&self, last_hidden_state: Tensor<3>) -> Tensor<3> {
        burnish_encoder::fused::linear(
            &self.classifier,
            burnish_encoder::fused::dropout(&self.dropout, last_hidden_state),
        )
    }

    /// Mean cross-entropy of `[B, S, num_labels]` logits against `[B, S]` labels over the
    /// positions whose label is not [`IGNORE_INDEX`] (`-100`), as `transformers`'
    /// `CrossEntropyLoss()` on the flattened batch (with [`Self::class_loss`]' class weights
    /// and label smoothing). Returns `[1]`; 0 when every position is
    /// ignored (where PyTorch gives NaN).
    ///
    /// # Panics
    /// If the shapes disagree, or a label other than `-100` is outside `0..num_labels`
    /// (labels are validated when data is read).
    pub fn loss(&self, logits: Tensor<3>, labels: Tensor<2, Int>) -> Tensor<1> {
        let [batch, seq_len, classes] = logits.dims();
        assert_eq!(
            labels.dims(),
            [batch, seq_len],
            "labels must be [B, S] like the logits' first two dimensions"
        );
        loss::cross_entropy_with(
            logits.reshape([batch * seq_len, classes]),
            labels.reshape([batch * seq_len]),
            Some(IGNORE_INDEX),
            &self.class_loss,
        )
    }

    /// Writes `config.json` (architecture `BertForTokenClassification`, and
    /// `id2label`/`label2id` as `LABEL_i` when the config has none of `num_labels`' size) and
    /// `model.safetensors` in `transformers`' layout, atomically.
    ///
    /// # Errors
    /// [`EncoderError::Io`] or [`EncoderError::Serialize`] naming the file.
    pub fn save_pretrained(&self, config: &BertConfig, dir: impl AsRef<Path>) -> Result<()> {
        let mut config = config.clone();
        config.set_architecture("ForTokenClassification");
        ensure_label_maps(&mut config, self.num_labels);
        save_hf_folder(self, &config, dir.as_ref())
    }
}

/// The size of the config's `id2label`, if it has one.
pub(crate) fn config_labels(config: &BertConfig) -> Option<usize> {
    config
        .extra
        .get("id2label")
        .and_then(|v| v.as_object())
        .map(|m| m.len())
}

/// Sets `id2label`/`label2id` to `LABEL_0..` unless `id2label` already has `num_labels`
/// entries (`transformers` derives `num_labels` from `id2label`).
pub(crate) fn ensure_label_maps(config: &mut BertConfig, num_labels: usize) {
    if config_labels(config) == Some(num_labels) {
        return;
    }
    let id2label: serde_json::Map<String, serde_json::Value> = (0..num_labels)
        .map(|i| (i.to_string(), format!("LABEL_{i}").into()))
        .collect();
    let label2id: serde_json::Map<String, serde_json::Value> = (0..num_labels)
        .map(|i| (format!("LABEL_{i}"), i.into()))
        .collect();
    config.extra.insert("id2label".into(), id2label.into());
    config.extra.insert("label2id".into(), label2id.into());
}

/// The dropout before the token classifier, as `transformers` picks it: DistilBERT's
/// `dropout` (here `hidden_dropout_prob`), otherwise `classifier_dropout` or else
/// `hidden_dropout_prob`.
pub fn token_dropout_prob(config: &BertConfig) -> f64 {
    if config.family.heads.token_dropout_is_hidden {
        config.hidden_dropout_prob
    } else {
        config.classifier_dropout_prob()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distilbert_token_dropout_is_its_dropout_not_seq_classif_dropout() {
        let path = Path::new("config.json");
        let distil = BertConfig::from_json_str(
            r#"{"model_type": "distilbert", "dropout": 0.3, "seq_classif_dropout": 0.2}"#,
            path,
        )
        .unwrap();
        assert_eq!(token_dropout_prob(&distil), 0.3);
        let bert = BertConfig::from_json_str(
            r#"{"hidden_dropout_prob": 0.1, "classifier_dropout": 0.25}"#,
            path,
        )
        .unwrap();
        assert_eq!(token_dropout_prob(&bert), 0.25);
        let model = BertForTokenClassification::new(&distil, 3, &burn::tensor::Device::flex());
        assert_eq!(model.dropout.prob, 0.3);
    }
}
