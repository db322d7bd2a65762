//! Every parameter of a freshly initialised model trains, whether it is built on a plain device
//! and moved to an autodiff one (as `burnish pretrain` and the trainer do) or built on the
//! autodiff device and used as it is (as a library user may): each float parameter requires a
//! gradient. (Built on an autodiff device, a parameter rebuilt with `Param::map` from its
//! initialised value was a derived tensor that did not: the word embeddings and GPT-2's
//! residual projections, until a `fork` made them leaves again.)

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor};
use burnish_encoder::BertConfig;
use burnish_encoder::family::{
    Family, bert::BERT, distilbert::DISTILBERT, gpt2::GPT2, roberta::ROBERTA,
};
use burnish_heads::{
    BertForMaskedLM, BertForPreTraining, BertForQuestionAnswering, BertLMHeadModel, Gpt2LMHeadModel,
};

/// Paths of the float parameters that do not require a gradient.
fn frozen<M: Module>(model: &M) -> Vec<String> {
    struct Frozen {
        path: Vec<String>,
        frozen: Vec<String>,
        seen: usize,
    }
    impl ModuleVisitor for Frozen {
        fn enter_module(&mut self, name: &str, _container_type: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container_type: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.seen += 1;
            if !param.val().is_require_grad() {
                self.frozen.push(self.path.join("."));
            }
        }
    }
    let mut v = Frozen {
        path: Vec::new(),
        frozen: Vec::new(),
        seen: 0,
    };
    model.visit(&mut v);
    assert!(v.seen > 10, "only {} parameters visited", v.seen);
    v.frozen
}

fn prepare<M: Module>(model: M, ad: Option<&Device>) -> M {
    match ad {
        Some(ad) => model.fork(ad).train(),
        None => model,
    }
}

fn config(family: &'static Family) -> BertConfig {
    BertConfig {
        family,
        vocab_size: 40,
        hidden_size: 8,
        num_hidden_layers: 2,
        num_attention_heads: 2,
        intermediate_size: 16,
        max_position_embeddings: 32,
        pad_token_id: 1,
        ..BertConfig::default()
    }
}

/// A fresh model of each kind built on `build`, then forked to `ad` and put in training mode,
/// or (`ad` = `None`) used as built.
fn check_all(build: &Device, ad: Option<&Device>, how: &str) {
    let mut models = Vec::new();
    for family in [&BERT, &ROBERTA, &DISTILBERT] {
        let c = config(family);
        models.extend([
            (
                family,
                "pre-training",
                frozen(&prepare(BertForPreTraining::new(&c, build), ad)),
            ),
            (
                family,
                "masked LM",
                frozen(&prepare(BertForMaskedLM::new(&c, build), ad)),
            ),
            (
                family,
                "causal LM",
                frozen(&prepare(BertLMHeadModel::new(&c, build), ad)),
            ),
            (
                family,
                "QA",
                frozen(&prepare(BertForQuestionAnswering::new(&c, build), ad)),
            ),
        ]);
    }
    let gpt2 = config(&GPT2);
    let lm = frozen(&prepare(Gpt2LMHeadModel::new(&gpt2, build), ad));
    models.push((&GPT2, "LM", lm));
    for (family, what, frozen) in models {
        assert!(
            frozen.is_empty(),
            "{family:?} {what} ({how}): frozen {frozen:?}"
        );
    }
}

#[test]
fn every_parameter_of_a_fresh_model_trains() {
    let plain = Device::flex();
    let ad = plain.clone().autodiff();
    check_all(
        &plain,
        Some(&ad),
        "built on a plain device, forked to autodiff",
    );
    check_all(&ad, Some(&ad), "built on the autodiff device, forked");
    check_all(&ad, None, "built on the autodiff device");
}
