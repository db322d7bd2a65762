//! The embeddings' padding rows are frozen as in `transformers`: `nn.Embedding(padding_idx=
//! pad_token_id)` gives the `[PAD]` word row (and RoBERTa's padding position row) no
//! gradient, while every other looked-up row gets one and the forward values do not change.

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use burnish_encoder::BertConfig;
use burnish_encoder::family::{Family, bert::BERT, roberta::ROBERTA};
use burnish_encoder::model::BertEmbeddings;

fn tiny(family: &'static Family) -> BertConfig {
    BertConfig {
        family,
        vocab_size: 12,
        hidden_size: 4,
        max_position_embeddings: 16,
        type_vocab_size: 2,
        pad_token_id: 1,
        hidden_dropout_prob: 0.0,
        ..BertConfig::default()
    }
}

/// `[rows, H]` gradient of an embedding table as rows of floats.
fn rows(grad: Tensor<2>) -> Vec<Vec<f32>> {
    let [_, h] = grad.dims();
    let v = grad
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap();
    v.chunks(h).map(<[f32]>::to_vec).collect()
}

fn nonzero(row: &[f32]) -> bool {
    row.iter().any(|x| *x != 0.0)
}

#[test]
fn padding_rows_get_no_gradient() {
    let device = Device::flex().autodiff();
    for family in [&BERT, &ROBERTA] {
        device.seed(3);
        let embeddings = BertEmbeddings::new(&tiny(family), &device);
        // Two rows: the second padded with the pad id 1.
        let ids = Tensor::<2, Int>::from_data(
            TensorData::new(vec![0i64, 5, 7, 2, 0, 5, 1, 1], [2, 4]),
            &device,
        );
        let types = Tensor::<2, Int>::zeros([2, 4], &device);
        let out = embeddings.forward(ids.clone(), types.clone());
        // The forward is the plain lookup's: compare with the no-autodiff path (whose
        // LayerNorm rounds differently).
        let plain = embeddings
            .clone()
            .valid()
            .forward(ids.clone().inner(), types.inner());
        let diff = (out.clone().inner() - plain)
            .abs()
            .max()
            .into_scalar::<f32>();
        assert!(diff < 1e-6, "{family:?}: forward changed by {diff}");
        // A loss that depends on every position, padding included.
        let weights = Tensor::<3>::random([2, 4, 4], burn::tensor::Distribution::Default, &device);
        let grads = (out * weights).sum().backward();
        let word = rows(
            embeddings
                .word_embeddings
                .weight
                .grad(&grads)
                .expect("word embeddings train"),
        );
        assert!(
            !nonzero(&word[1]),
            "{family:?}: the [PAD] row got {:?}",
            word[1]
        );
        for id in [0, 2, 5, 7] {
            assert!(nonzero(&word[id]), "{family:?}: row {id} got no gradient");
        }
        let positions = rows(
            embeddings
                .position_embeddings
                .weight
                .grad(&grads)
                .expect("position embeddings train"),
        );
        if family == &BERT {
            // Positions 0..4 are all used.
            assert!((0..4).all(|p| nonzero(&positions[p])));
        } else {
            // Real tokens at 2, 3, ...; padding at padding_idx 1, which stays frozen.
            assert!(
                !nonzero(&positions[1]),
                "RoBERTa's padding position trained"
            );
            assert!((2..6).all(|p| nonzero(&positions[p])));
        }
    }
}
