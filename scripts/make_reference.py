#!/usr/bin/env python3
"""Reference outputs from PyTorch + transformers, for burnish's parity tests.

What it writes (all under tests/fixtures/, relative to the repository root):

  reference/minilm.json     outputs of the real all-MiniLM-L6-v2 (assets/all-MiniLM-L6-v2, made by
                            scripts/fetch-assets.sh) for MINILM_CASES, plus a padded "batch" entry.
  tiny-bert/                BertModel, hidden 16, 2 layers, 4 heads, intermediate 32, gelu,
                            model.safetensors + config.json + tokenizer files + reference.json.
  tiny-bert-bin/            BertForSequenceClassification (3 labels), gelu_new, layer_norm_eps 1e-7,
                            pytorch_model.bin (keys prefixed "bert.") + config.json + tokenizer files
                            + reference.json (encoder outputs of .bert and "logits").
  tiny-bert-relu/           BertModel, relu, model.safetensors with the old LayerNorm names
                            (LayerNorm.gamma / LayerNorm.beta) + config.json + tokenizer files
                            + reference.json.
  tiny-bert-ner/            BertForTokenClassification (5 labels O/B-PER/I-PER/B-LOC/I-LOC), gelu,
                            model.safetensors (no pooler, keys prefixed "bert.") + config.json +
                            tokenizer files + reference.json (encoder outputs and per-token "logits";
                            the batch also has "labels" and transformers' "loss").
  tiny-bert-qa/             BertForQuestionAnswering, gelu, model.safetensors (no pooler) + config.json
                            + tokenizer files + reference.json (encoder outputs, "start_logits" and
                            "end_logits"; the batch also has "start_positions", "end_positions" and
                            transformers' "loss").
  tiny-bert-mlm/            BertForMaskedLM, gelu, model.safetensors exactly as transformers writes it
                            (cls.predictions.bias; the tied decoder.weight/.bias left out) + config.json
                            + tokenizer files + reference.json over MLM_CASES (texts with [MASK]):
                            encoder outputs and full "logits" [tokens][160]; the batch also has MLM
                            "labels" (-100 except at [MASK] and position 1) and transformers' "loss".
  tiny-bert-pretraining/    BertForPreTraining, gelu_new, pytorch_model.bin as transformers writes it
                            (with the tied cls.predictions.decoder.weight/.bias, sharing storage) +
                            config.json + tokenizer files + reference.json over MLM_CASES:
                            "prediction_logits" and "seq_relationship_logits"; the batch also has
                            "labels", "next_sentence_label", the total "loss", "mlm_loss", "nsp_loss".
  tiny-bert-clm/            BertLMHeadModel with is_decoder=True (causal), gelu, model.safetensors plus
                            the tied cls.predictions.decoder.weight (as older checkpoints carry it) +
                            config.json + tokenizer files + reference.json over CLM_CASES: causal
                            encoder outputs and "logits"; the batch also has "labels" (input_ids with
                            -100 at padding; transformers shifts them inside) and transformers' "loss".

  tiny-roberta/             RobertaForSequenceClassification (3 labels), gelu, layer_norm_eps 1e-5,
                            pad_token_id 1 (positions start at 2), one token type, model.safetensors
                            + config.json + a byte-level BPE tokenizer (300 entries) trained on
                            BPE_TEXTS with the `tokenizers` package (tokenizer.json, vocab.json,
                            merges.txt, ...) + reference.json (encoder outputs, "logits", and each
                            case's character "offsets").
  tiny-distilbert/          DistilBertForSequenceClassification (3 labels), gelu, model.safetensors +
                            config.json (DistilBERT's field names) + the TINY_VOCAB WordPiece as a
                            DistilBertTokenizerFast + reference.json (as tiny-roberta; token_type_ids
                            all 0, the model has none).
  tiny-roberta-ner/, tiny-distilbert-ner/  as tiny-bert-ner, for RobertaForTokenClassification and
                            DistilBertForTokenClassification (labels -100 at <s>, </s>, <pad>).
  tiny-roberta-qa/, tiny-distilbert-qa/    as tiny-bert-qa, for RobertaForQuestionAnswering and
                            DistilBertForQuestionAnswering.
  tiny-roberta-mlm/, tiny-distilbert-mlm/  as tiny-bert-mlm, for RobertaForMaskedLM (lm_head, over
                            ROBERTA_MLM_CASES with <mask>) and DistilBertForMaskedLM (vocab_transform,
                            vocab_layer_norm, vocab_projector).
  tiny-gpt2/                GPT2LMHeadModel (causal, pre-LayerNorm, gelu_new, n_inner null = 4 x 16,
                            layer_norm_epsilon 1e-5; Conv1D weights stored [in, out]; the LM head tied
                            to transformer.wte, so model.safetensors has no lm_head.weight) +
                            config.json (GPT-2's field names: n_embd, n_layer, n_head, n_positions,
                            ...) + a byte-level BPE tokenizer (GPT2TokenizerFast, trained on BPE_TEXTS,
                            <|endoftext|> = id 0 as bos/eos/unk/pad) + reference.json over CLM_CASES
                            (pairs are simply concatenated, as GPT-2's tokenizer does): hidden states
                            after ln_f and "logits"; the batch also has "labels" and transformers' "loss".
  tiny-gpt2-cls/            GPT2ForSequenceClassification (3 labels, n_inner 32, pad_token_id 0: the
                            logits are those of the last non-padding token of each row) + the same
                            tokenizer + reference.json over TINY_CASES (as tiny-roberta; the batch
                            also has "left": the same texts padded on the left, with their logits).

  tiny-xlm-roberta/         XLMRobertaForSequenceClassification (3 labels), RoBERTa's sizes (as tiny-roberta)
                            + a SentencePiece Unigram tokenizer trained on UNIGRAM_TEXTS with the
                            `tokenizers` package (NFKC, Metaspace "▁", XLM-R's ids <s> 0, <pad> 1,
                            </s> 2, <unk> 3 and <mask> last; post-processor <s> $A </s> /
                            <s> $A </s> </s> $B </s>) saved as XLMRobertaTokenizerFast (tokenizer.json,
                            tokenizer_config.json, special_tokens_map.json) + reference.json (as
                            tiny-roberta).
  tiny-camembert/           CamembertForSequenceClassification, the same with CamemBERT's ids
                            (<s>NOTUSED 0, <pad> 1, </s>NOTUSED 2, <unk> 3, <unk>NOTUSED 4, <s> 5,
                            </s> 6, <mask> last) as CamembertTokenizerFast.
  tiny-xlm-roberta-ner/, tiny-xlm-roberta-qa/, tiny-camembert-ner/, tiny-camembert-qa/
                            as tiny-bert-ner / tiny-bert-qa, for XLMRobertaFor{Token
                            Classification,QuestionAnswering} and CamembertFor... with those
                            families' tokenizers.
  tiny-electra/             ElectraForSequenceClassification (3 labels), TINY_SIZES with embedding_size 8
                            (so `electra.embeddings_project` maps 8 -> 16), tiny-bert's WordPiece
                            tokenizer + reference.json; tiny-electra-ner / -qa / -mlm: the token
                            classification, question answering and generator masked-LM heads
                            (with their losses, as tiny-bert-ner / -qa / -mlm).

  reference/bpe-words.json  words already split (CoNLL-style, WORD_CASES) encoded with
                            is_split_into_words=True by the byte-level BPE tokenizers of tiny-roberta
                            and tiny-gpt2 loaded with add_prefix_space=True (as transformers requires
                            for them, and its run_ner.py does): "input_ids" and "word_ids" per case.

The tiny models are random-initialised (seeds 0 to 7, 10 to 17, 20, 21, 30 and 31; all weights normal(0, 0.2), then
normal(0, 0.1) noise on every bias and LayerNorm weight/bias) and share one hand-made 160-entry WordPiece vocab
(TINY_VOCAB) chosen so that TINY_CASES tokenize into real pieces, "##" pieces and one [UNK].

Reference JSON format (floats rounded to 7 significant digits):

  {"model": str, "class": str, "torch": str, "transformers": str,
   "cases": [{"text": str, "text_pair": str | null,
              "input_ids": [int], "token_type_ids": [int],
              "last_hidden_state": [[float]],      # tokens x hidden
              "pooler_output": [float],            # hidden
              "sentence_embedding": [float],       # masked mean over tokens, then L2-normalised
              "logits": [float],                   # sequence head: [labels]; token head:
                                                   # [tokens][labels]; LM heads: [tokens][vocab]
              "prediction_logits": [[float]],      # BertForPreTraining: [tokens][vocab]
              "seq_relationship_logits": [float],  # BertForPreTraining: [2]
              "start_logits": [float], "end_logits": [float]}],  # QA head: [tokens] each
   "batch": {"texts": [str], "input_ids": [[int]], "token_type_ids": [[int]],
             "attention_mask": [[int]],
             "last_hidden_state": [[[float]]],     # batch x padded tokens x hidden, pads included
             "pooler_output": [[float]], "sentence_embedding": [[float]],
             "logits": [[float]],                  # only with a head (start_/end_logits for QA)
             "labels": [[int]], "loss": float,     # token head: -100 at [CLS]/[SEP]/padding
             "start_positions": [int], "end_positions": [int], "loss": float,  # QA head
             "next_sentence_label": [int], "mlm_loss": float, "nsp_loss": float}}  # pre-training

Every case is encoded on its own (no padding); "batch" holds the first 4 single-text cases (2 in
the LM fixtures, whose logits are vocabulary-sized) encoded together with padding=True (right
padding with [PAD]). The token head's batch labels are
input_id % 5 on real word pieces and -100 elsewhere; the QA batch's positions include one past the
sequence (clamped to S and ignored, as transformers does), one exactly S and one negative (clamped
to 0); "loss" is what the transformers model returns for them (eval mode, no dropout).

Run (from the repository root; CPU only, ~10 s; deterministic: same bytes on every run with the
pinned versions in scripts/requirements-reference.txt):

  HF_HUB_OFFLINE=1 ~/.cache/burnish-venv/bin/python scripts/make_reference.py
  HF_HUB_OFFLINE=1 ~/.cache/burnish-venv/bin/python scripts/make_reference.py --only tiny     # skip MiniLM
  HF_HUB_OFFLINE=1 ~/.cache/burnish-venv/bin/python scripts/make_reference.py --only minilm
  HF_HUB_OFFLINE=1 ~/.cache/burnish-venv/bin/python scripts/make_reference.py \\
      --only tiny-bert-ner --only tiny-bert-qa                                  # just these fixtures
  HF_HUB_OFFLINE=1 ~/.cache/burnish-venv/bin/python scripts/make_reference.py \\
      --only tiny-gpt2 --only tiny-gpt2-cls                                     # the GPT-2 ones
  HF_HUB_OFFLINE=1 ~/.cache/burnish-venv/bin/python scripts/make_reference.py \\
      --only tiny-xlm-roberta --only tiny-camembert                             # SentencePiece ones
      --only tiny-xlm-roberta-ner --only tiny-xlm-roberta-qa --only tiny-camembert-ner --only tiny-camembert-qa
      --only tiny-electra --only tiny-electra-ner --only tiny-electra-qa --only tiny-electra-mlm
  HF_HUB_OFFLINE=1 ~/.cache/burnish-venv/bin/python scripts/make_reference.py --only bpe-words

Check that a saved folder (for example one written by burnish) loads in transformers without
missing/unexpected weights and reproduces a reference file (exit status 1 otherwise); this is the
same code as scripts/check_hf_load.py:

  ~/.cache/burnish-venv/bin/python scripts/make_reference.py \\
      --check-saved assets/all-MiniLM-L6-v2 --reference tests/fixtures/reference/minilm.json
  ~/.cache/burnish-venv/bin/python scripts/make_reference.py --check-saved tests/fixtures/tiny-bert-bin \\
      --reference tests/fixtures/tiny-bert-bin/reference.json --class BertForSequenceClassification
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402
from tokenizers import ByteLevelBPETokenizer, Regex  # noqa: E402
from tokenizers import Tokenizer as HfTokenizer  # noqa: E402
from tokenizers import decoders, models, normalizers, pre_tokenizers, processors, trainers  # noqa: E402
from transformers import (  # noqa: E402
    AutoTokenizer,
    BertConfig,
    BertTokenizerFast,
    CamembertConfig,
    CamembertTokenizerFast,
    DistilBertConfig,
    ElectraConfig,
    DistilBertTokenizerFast,
    GPT2Config,
    GPT2TokenizerFast,
    RobertaConfig,
    RobertaTokenizerFast,
    XLMRobertaConfig,
    XLMRobertaTokenizerFast,
)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
MINILM_DIR = Path(os.environ.get("BURNISH_ASSETS", ROOT / "assets")) / "all-MiniLM-L6-v2"

# (text, text_pair). The first 4 single texts also form the padded "batch" entry.
MINILM_CASES: list[tuple[str, str | None]] = [
    ("Crème brûlée à Zürich — naïve café, 東京, emoji 🙂", None),
    ("The QUICK brown Fox jumped over 3 lazy dogs!!! Why? Nobody KNOWS.", None),
    ("Invoice #4471-B: pay $1,299.50 by 2031-02-28 (net 30), ref. XJ-9.", None),
    ("zxqv blorptastic unhyphenatedness; the tokenizer splits it into wordpieces.", None),
    (
        "Is the coolant pump on reactor B offline?",
        "Yes — pump 2 tripped at 04:13 UTC; pump 1 runs at 87% load.",
    ),
    (
        "Per clause 14(b)(iii), the lessee (hereafter 'Party B') shall remit ¥12,500 monthly via "
        "SEPA transfer to IBAN DE89 3704 0044 0532 0130 00, unless the thermostat firmware "
        "v2.3.1-rc7 reports humidity above 85% for 72 consecutive hours, in which case Party A's "
        "obligations under Annex XII are suspended; disputes go to arbitration in Reykjavík.",
        None,
    ),
    (
        "Was bedeutet 東京 auf Deutsch?",
        "It means Tokyo (Tōkyō), Japan's capital; population ≈ 14 million.",
    ),
    ("   Leading   and trailing whitespace,\ttabs\tand\nnewlines   ", None),
]

TINY_CASES: list[tuple[str, str | None]] = [
    ("The quick brown fox jumped over 3 lazy dogs!", None),
    ("Unbelievable: the café's runners played (twice) — 🙂", None),
    ("Where did the cat sit?", "On the mat, sleeping."),
    ("Hello, WORLD: jumping zygotes run 42 km.", None),
    ("No, it was GOOD.", None),
]

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
TINY_WORDS = (
    "the a an and of to in on is it was for with this that what where did yes no "
    "quick brown fox jump over lazy dog cat sit mat sleep hello world run play twice un "
    "cafe km good bad movie great model token word piece rust burn bert text train test data "
    "new york paris tokyo"
).split()
TINY_SUFFIXES = "##ed ##ing ##s ##er ##ner ##believ ##able ##ly ##ize ##piece ##ish".split()
TINY_VOCAB: list[str] = list(
    dict.fromkeys(
        SPECIAL_TOKENS
        + list(".,!?':;()-—$%#&/")
        + list("0123456789")
        + ["##" + d for d in "0123456789"]
        + list(_LETTERS)
        + ["##" + c for c in _LETTERS]
        + TINY_WORDS
        + TINY_SUFFIXES
    )
)

TINY_SIZES = dict(
    hidden_size=16,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=32,
    max_position_embeddings=64,
    type_vocab_size=2,
    pad_token_id=0,
)

# Head outputs compared when present in a reference case (names of transformers output fields).
HEAD_KEYS = ("logits", "start_logits", "end_logits", "prediction_logits", "seq_relationship_logits")
BASE_KEYS = ("last_hidden_state", "pooler_output", "sentence_embedding")
ARRAY_KEYS = BASE_KEYS + HEAD_KEYS


# ----------------------------------------------------------------------------------------------
# Shared encoding code (used by generation and by --check-saved / check_hf_load.py)
# ----------------------------------------------------------------------------------------------


def r7(t: torch.Tensor):
    """Tensor -> nested lists of Python floats rounded to 7 significant digits."""
    a = t.detach().to("cpu", torch.float64).numpy()
    flat = [float(f"{v:.7g}") for v in a.ravel().tolist()]
    return np.asarray(flat, dtype=np.float64).reshape(a.shape).tolist()


def load_model(path: Path | str, class_name: str = "BertModel"):
    """Loads `path` with transformers' `class_name` (eager attention, float32, eval mode).

    Returns (model, loading_info) where loading_info has missing_keys, unexpected_keys,
    mismatched_keys and error_msgs."""
    cls = getattr(transformers, class_name)
    model, info = cls.from_pretrained(
        str(path), output_loading_info=True, attn_implementation="eager", dtype=torch.float32
    )
    model.eval()
    return model, info


@torch.no_grad()
def forward(model, input_ids, token_type_ids, attention_mask) -> dict[str, torch.Tensor]:
    """Runs the base encoder (and the head, when `model` has one) on a [batch, seq] input.

    Returns last_hidden_state [b, s, h], pooler_output [b, h] (when the encoder has a pooler),
    sentence_embedding [b, h] (mean over attention_mask == 1, then L2-normalised, as
    sentence-transformers' Pooling(mean) + Normalize) and every head output of HEAD_KEYS."""
    base = model.base_model
    kwargs = dict(input_ids=input_ids, attention_mask=attention_mask)
    if _takes_token_types(model):
        kwargs["token_type_ids"] = token_type_ids
    out = base(**kwargs)
    res: dict[str, torch.Tensor] = {"last_hidden_state": out.last_hidden_state}
    if getattr(out, "pooler_output", None) is not None:
        res["pooler_output"] = out.pooler_output
    mask = attention_mask.unsqueeze(-1).to(out.last_hidden_state.dtype)
    mean = (out.last_hidden_state * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    res["sentence_embedding"] = F.normalize(mean, p=2, dim=-1)
    if base is not model:
        head = model(**kwargs)
        for k in HEAD_KEYS:
            v = getattr(head, k, None)
            if v is not None:
                res[k] = v
    return res


def _takes_token_types(model) -> bool:
    """Whether the model has token types: not DistilBERT (no such input) and not GPT-2 (whose
    `token_type_ids` would be looked up in the word embeddings and added)."""
    if model.config.model_type == "gpt2":
        return False
    return "token_type_ids" in inspect.signature(model.base_model.forward).parameters


def _tensor(ids) -> torch.Tensor:
    return torch.tensor(ids, dtype=torch.long)


def encode_case(model, tok, text: str, text_pair: str | None) -> dict:
    """One reference case: the text (pair) encoded alone, no padding."""
    enc = tok(text, text_pair)
    ids = enc["input_ids"]
    tt = enc.get("token_type_ids", [0] * len(ids))  # RoBERTa / DistilBERT tokenizers: all 0
    out = forward(model, _tensor([ids]), _tensor([tt]), _tensor([[1] * len(ids)]))
    case = {"text": text, "text_pair": text_pair, "input_ids": ids, "token_type_ids": tt}
    for k in ARRAY_KEYS:
        if k in out:
            case[k] = r7(out[k][0])
    return case


def encode_batch(model, tok, texts: list[str]) -> dict:
    """The texts encoded together with padding=True; padded positions are kept in the outputs."""
    enc = tok(texts, padding=True)
    ids, am = enc["input_ids"], enc["attention_mask"]
    tt = enc.get("token_type_ids", [[0] * len(r) for r in ids])
    out = forward(model, _tensor(ids), _tensor(tt), _tensor(am))
    batch = {"texts": texts, "input_ids": ids, "token_type_ids": tt, "attention_mask": am}
    for k in ARRAY_KEYS:
        if k in out:
            batch[k] = r7(out[k])
    return batch


def make_reference(model, tok, name: str, class_name: str, cases) -> dict:
    singles = [t for t, p in cases if p is None][:4]
    return {
        "model": name,
        "class": class_name,
        "torch": torch.__version__.split("+")[0],
        "transformers": transformers.__version__,
        "cases": [encode_case(model, tok, t, p) for t, p in cases],
        "batch": encode_batch(model, tok, singles),
    }


def write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    path.write_text(text + "\n", encoding="utf-8")


# ----------------------------------------------------------------------------------------------
# Check mode
# ----------------------------------------------------------------------------------------------


def _has_tokenizer(d: Path) -> bool:
    return any((d / f).exists() for f in ("tokenizer.json", "vocab.txt"))


def _maxdiff(a: torch.Tensor, b) -> float:
    b = torch.tensor(b, dtype=torch.float64)
    a = a.detach().to(torch.float64)
    if tuple(a.shape) != tuple(b.shape):
        return float("inf")
    if a.numel() == 0:
        return 0.0
    return (a - b).abs().max().item()


def check_saved(
    saved_dir: str | Path,
    reference: str | Path,
    class_name: str = "BertModel",
    tol: float = 1e-4,
    allow_missing: list[str] | None = None,
    ignore_padded: bool = False,
    check_tokenizer: bool = True,
) -> int:
    """Loads `saved_dir` with transformers and recomputes the cases of `reference`.

    Prints the max |diff| per output and returns 0 when all are <= tol and loading reported no
    missing/unexpected/mismatched weights (missing keys matching an `allow_missing` regex are
    tolerated), 1 otherwise. Inputs are the reference's input_ids/token_type_ids when present;
    when `saved_dir` has a tokenizer, its encodings must also equal them (unless
    check_tokenizer=False)."""
    saved_dir = Path(saved_dir)
    ref = json.loads(Path(reference).read_text(encoding="utf-8"))
    problems: list[str] = []

    try:
        model, info = load_model(saved_dir, class_name)
    except Exception as e:  # noqa: BLE001 - report any load failure as a check failure
        print(f"FAIL: {class_name}.from_pretrained({saved_dir}) raised {type(e).__name__}: {e}")
        return 1
    allow = [re.compile(p) for p in (allow_missing or [])]
    all_missing = list(info.get("missing_keys", []))
    missing = [k for k in all_missing if not any(p.search(k) for p in allow)]
    if missing:
        problems.append(f"missing_keys: {sorted(missing)}")
    # Outputs computed from weights that are missing (and allowed to be) are not compared.
    skip: set[str] = set()
    for k in set(all_missing) - set(missing):
        print(f"note: missing weight allowed: {k}")
        if k.startswith("pooler."):
            skip.add("pooler_output")
        elif not k.startswith(("embeddings.", "encoder.")):
            skip.update(HEAD_KEYS)
        else:
            skip.update(ARRAY_KEYS)
    if skip:
        print(f"note: not comparing {sorted(skip)} (computed from missing weights)")
    for key in ("unexpected_keys", "mismatched_keys", "error_msgs"):
        if info.get(key):
            problems.append(f"{key}: {sorted(map(str, info[key]))}")

    tok = AutoTokenizer.from_pretrained(str(saved_dir)) if _has_tokenizer(saved_dir) else None
    if tok is None:
        print(f"note: no tokenizer in {saved_dir}; using the reference's input_ids")

    worst: dict[str, float] = {}

    def note(key: str, d: float, where: str) -> None:
        worst[key] = max(worst.get(key, 0.0), d)
        if not d <= tol:
            problems.append(f"{where}: {key} max|diff| {d:.3g} > {tol:g}")

    def inputs_for(where: str, text, pair, ref_obj, batched: bool):
        if tok is not None:
            enc = tok(text, padding=True) if batched else tok(text, pair)
            if check_tokenizer and "input_ids" in ref_obj:
                for k in ("input_ids", "token_type_ids", "attention_mask"):
                    if k in ref_obj and k in enc and enc[k] != ref_obj[k]:
                        problems.append(f"{where}: tokenizer {k} {enc[k]} != reference {ref_obj[k]}")
        else:
            enc = None
        if "input_ids" not in ref_obj:
            if enc is None:
                raise SystemExit(f"{where}: no input_ids in the reference and no tokenizer in DIR")
            ids = enc["input_ids"]
            tt = enc.get("token_type_ids", [[0] * len(r) for r in ids] if batched else [0] * len(ids))
            return ids, tt, enc["attention_mask"]
        ids = ref_obj["input_ids"]
        tt = ref_obj.get("token_type_ids")
        if tt is None:
            tt = [[0] * len(r) for r in ids] if batched else [0] * len(ids)
        am = ref_obj.get("attention_mask")
        if am is None:
            am = [[1] * len(r) for r in ids] if batched else [1] * len(ids)
        return ids, tt, am

    for i, case in enumerate(ref.get("cases", [])):
        where = f"case {i}"
        ids, tt, am = inputs_for(where, case["text"], case.get("text_pair"), case, False)
        out = forward(model, _tensor([ids]), _tensor([tt]), _tensor([am]))
        for k in ARRAY_KEYS:
            if case.get(k) is None or k in skip:
                continue
            if k not in out:
                problems.append(f"{where}: reference has {k} but {class_name} does not produce it")
                continue
            note(k, _maxdiff(out[k][0], case[k]), where)

    batch = ref.get("batch")
    if batch:
        ids, tt, am = inputs_for("batch", batch["texts"], None, batch, True)
        out = forward(model, _tensor(ids), _tensor(tt), _tensor(am))
        valid = _tensor(am).bool()
        for k in ARRAY_KEYS:
            if batch.get(k) is None or k in skip:
                continue
            if k not in out:
                problems.append(f"batch: reference has {k} but {class_name} does not produce it")
                continue
            got, want = out[k].to(torch.float64), torch.tensor(batch[k], dtype=torch.float64)
            if got.shape != want.shape:
                note(f"batch.{k}", float("inf"), "batch")
            elif got.dim() == 3 and got.shape[:2] == valid.shape:  # per-token output
                diff = (got - want).abs()
                note(f"batch.{k}", diff[valid].max().item() if valid.any() else 0.0, "batch")
                if (~valid).any():
                    d_pad = diff[~valid].max().item()
                    if ignore_padded:
                        worst[f"batch.{k}[padded, ignored]"] = d_pad
                    else:
                        note(f"batch.{k}[padded]", d_pad, "batch")
            else:
                note(f"batch.{k}", (got - want).abs().max().item(), "batch")

    n_cases = len(ref.get("cases", []))
    print(f"checked {saved_dir} as {class_name} against {reference} ({n_cases} cases"
          f"{' + batch' if batch else ''}; tolerance {tol:g})")
    for k, d in worst.items():
        print(f"  max|diff| {k:<40} {d:.3e}")
    if not worst:
        problems.append("the reference has no outputs to compare")
    if problems:
        for p in problems:
            print(f"FAIL: {p}")
        return 1
    print("OK")
    return 0


# ----------------------------------------------------------------------------------------------
# Generation
# ----------------------------------------------------------------------------------------------


def gen_minilm() -> None:
    model, info = load_model(MINILM_DIR, "BertModel")
    bad = {k: v for k, v in info.items() if v}
    if bad:
        raise SystemExit(f"loading {MINILM_DIR} reported {bad}")
    tok = AutoTokenizer.from_pretrained(str(MINILM_DIR))
    ref = make_reference(model, tok, "all-MiniLM-L6-v2", "BertModel", MINILM_CASES)
    ref["pooling"] = "mean over attention_mask, then L2 normalise"
    write_json(FIXTURES / "reference" / "minilm.json", ref)
    n = [len(c["input_ids"]) for c in ref["cases"]]
    print(f"wrote tests/fixtures/reference/minilm.json (tokens per case {n})")


def make_tiny_tokenizer(out_dir: Path) -> BertTokenizerFast:
    with tempfile.TemporaryDirectory() as tmp:
        vocab = Path(tmp) / "vocab.txt"
        vocab.write_text("\n".join(TINY_VOCAB) + "\n", encoding="utf-8")
        tok = BertTokenizerFast(vocab_file=str(vocab), do_lower_case=True, model_max_length=64)
        tok.save_pretrained(str(out_dir))
    return AutoTokenizer.from_pretrained(str(out_dir))


def init_tiny(model, seed: int) -> None:
    """Non-trivial random weights: every tensor normal(0, 0.2), then LayerNorm weights 1 + noise
    and LayerNorm biases / linear biases noise, noise ~ normal(0, 0.1)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g) * 0.1
            # DistilBERT: sa_layer_norm; GPT-2: ln_1, ln_2, ln_f.
            is_norm = "LayerNorm" in name or "layer_norm" in name or re.search(r"\bln_", name)
            if is_norm and name.endswith("weight"):
                p.copy_(1.0 + noise)
            elif name.endswith("bias"):
                p.copy_(noise)
            else:
                p.copy_(torch.randn(p.shape, generator=g) * 0.2)


# Texts the tiny byte-level BPE tokenizer (RoBERTa fixtures) is trained on: the cases' own
# words, so that they tokenize into merged pieces, plus single bytes for the rest.
BPE_TEXTS = [t for case in TINY_CASES for t in case if t] + [
    "The quick brown fox jumped over the lazy dog.",
    "Where did the cat sit? On the mat, sleeping.",
    "Hello world, hello runners: the movie was good, the model was great.",
]
BPE_VOCAB_SIZE = 300
ROBERTA_SPECIAL_TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]


def make_bpe_tokenizer(out_dir: Path) -> RobertaTokenizerFast:
    """A byte-level BPE (RoBERTa) tokenizer trained on BPE_TEXTS with the `tokenizers` package,
    saved as transformers saves RobertaTokenizerFast (tokenizer.json, vocab.json, merges.txt,
    tokenizer_config.json, special_tokens_map.json)."""
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(BPE_TEXTS, vocab_size=BPE_VOCAB_SIZE, min_frequency=2,
                            special_tokens=ROBERTA_SPECIAL_TOKENS, show_progress=False)
    with tempfile.TemporaryDirectory() as tmp:
        bpe.save_model(tmp)
        tok = RobertaTokenizerFast(vocab_file=f"{tmp}/vocab.json", merges_file=f"{tmp}/merges.txt",
                                   model_max_length=64)
        tok.save_pretrained(str(out_dir))
    tok = AutoTokenizer.from_pretrained(str(out_dir))
    assert tok.pad_token_id == 1 and tok.bos_token_id == 0 and tok.eos_token_id == 2
    return tok


GPT2_EOS = "<|endoftext|>"


def make_gpt2_tokenizer(out_dir: Path) -> GPT2TokenizerFast:
    """A byte-level BPE (GPT-2) tokenizer trained on BPE_TEXTS with the `tokenizers` package,
    its only special token <|endoftext|> (id 0: bos, eos, unk and, as GPT-2 fine-tuning sets
    it, pad), saved as transformers saves GPT2TokenizerFast."""
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(BPE_TEXTS, vocab_size=BPE_VOCAB_SIZE, min_frequency=2,
                            special_tokens=[GPT2_EOS], show_progress=False)
    with tempfile.TemporaryDirectory() as tmp:
        bpe.save_model(tmp)
        tok = GPT2TokenizerFast(vocab_file=f"{tmp}/vocab.json", merges_file=f"{tmp}/merges.txt",
                                model_max_length=64)
        tok.pad_token = GPT2_EOS
        tok.save_pretrained(str(out_dir))
    tok = AutoTokenizer.from_pretrained(str(out_dir))
    assert tok.pad_token_id == 0 and tok.bos_token_id == 0 and tok.eos_token_id == 0
    return tok


def make_distilbert_tokenizer(out_dir: Path) -> DistilBertTokenizerFast:
    """TINY_VOCAB as a DistilBertTokenizerFast (WordPiece; no token_type_ids)."""
    with tempfile.TemporaryDirectory() as tmp:
        vocab = Path(tmp) / "vocab.txt"
        vocab.write_text("\n".join(TINY_VOCAB) + "\n", encoding="utf-8")
        tok = DistilBertTokenizerFast(vocab_file=str(vocab), do_lower_case=True,
                                      model_max_length=64)
        tok.save_pretrained(str(out_dir))
    return AutoTokenizer.from_pretrained(str(out_dir))


# Texts the tiny SentencePiece Unigram tokenizers (XLM-RoBERTa, CamemBERT) are trained on: the
# cases' own texts and a few hundred short English and French sentences built from the lists
# below (every subject with every predicate), so that the Unigram model has pieces to choose
# between.
UNIGRAM_SUBJECTS = [
    "The quick brown fox", "A lazy dog", "The cat", "My neighbour", "The runners", "Our model",
    "The tokenizer", "A new train", "The movie", "Paris", "Tokyo", "The old teacher",
    "Le chat", "La jeune femme", "Le train de Paris", "Mon voisin", "Les enfants", "Le film",
]
UNIGRAM_PREDICATES = [
    "jumped over the lazy dog.", "sat on the mat, sleeping.", "was good, really good.",
    "played twice in New York.", "runs 42 km every week!", "splits the words into pieces.",
    "is great and the data is new.", "did not sit where it was told?",
    "dort sur le tapis.", "a mangé une crème brûlée.", "court très vite dans le parc.",
    "était bon, vraiment bon.", "arrive à la gare à midi.", "joue deux fois à Tokyo.",
    "aime le café et les croissants.", "parle français et anglais.",
]
# The emoji is left out, so that a case has an <unk>.
UNIGRAM_TEXTS = [t.replace("🙂", "") for case in TINY_CASES for t in case if t] + [
    f"{s} {p}" for s in UNIGRAM_SUBJECTS for p in UNIGRAM_PREDICATES
] + [
    "Hello world, hello runners: the movie was good, the model was great.",
    "Unbelievable! The café's runners played (twice).",
    "Bonjour tout le monde, où est la gare ?",
    "Where did the cat sit? On the mat, sleeping.",
]
UNIGRAM_VOCAB_SIZE = 400
# The special tokens at the start of the vocabulary and the mask token (added last, as in the
# real checkpoints' 250001 / 32004), by fast tokenizer class.
UNIGRAM_SPECIALS = {
    "XLMRoberta": ["<s>", "<pad>", "</s>", "<unk>"],
    "Camembert": ["<s>NOTUSED", "<pad>", "</s>NOTUSED", "<unk>", "<unk>NOTUSED", "<s>", "</s>"],
}


def make_unigram_tokenizer(out_dir: Path, prefix: str):
    """A SentencePiece Unigram tokenizer as XLM-RoBERTa's / CamemBERT's tokenizer.json has it
    (NFKC and runs of spaces to one; Metaspace "▁" with a prefix space; Unigram with <unk>;
    <s> $A </s> / <s> $A </s> </s> $B </s>, one token type; the Metaspace decoder), trained on
    UNIGRAM_TEXTS with the `tokenizers` package and saved as transformers saves
    XLMRobertaTokenizerFast / CamembertTokenizerFast (tokenizer.json, tokenizer_config.json,
    special_tokens_map.json)."""
    specials = UNIGRAM_SPECIALS[prefix]
    spm = HfTokenizer(models.Unigram())
    spm.normalizer = normalizers.Sequence([normalizers.NFKC(),
                                           normalizers.Replace(Regex(" {2,}"), " ")])
    spm.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    spm.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.UnigramTrainer(vocab_size=UNIGRAM_VOCAB_SIZE, special_tokens=specials,
                                      unk_token="<unk>", show_progress=False)
    spm.train_from_iterator(UNIGRAM_TEXTS, trainer)
    # The trainer works in hash-map order: its scores differ between runs in their last bits,
    # and the characters it adds at the end (min_score + k * 0.0001) come in any order. Those
    # characters in sorted order, 8 significant digits and the pieces after the special tokens
    # sorted by (score, piece) make the file the same bytes on every run.
    trained = json.loads(spm.to_str())
    head, pieces = trained["model"]["vocab"][:len(specials)], trained["model"]["vocab"][len(specials):]
    assert [p for p, _ in head] == specials, head
    min_score = min(v for _, v in pieces)
    added = [i for i, (p, v) in enumerate(pieces) if len(p) == 1 and v < min_score + 0.01]
    scores = sorted(pieces[i][1] for i in added)
    assert all(abs(v - (min_score + k * 1e-4)) < 1e-9 for k, v in enumerate(scores)), scores
    for i, p, v in zip(added, sorted(pieces[i][0] for i in added), scores):
        pieces[i] = [p, v]
    pieces = [[p, float(f"{v:.8g}")] for p, v in pieces]
    trained["model"]["vocab"] = head + sorted(pieces, key=lambda pv: (-pv[1], pv[0]))
    spm = HfTokenizer.from_str(json.dumps(trained))
    spm.add_special_tokens(["<mask>"])
    bos, eos = spm.token_to_id("<s>"), spm.token_to_id("</s>")
    spm.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", bos), ("</s>", eos)])
    fast = XLMRobertaTokenizerFast if prefix == "XLMRoberta" else CamembertTokenizerFast
    tok = fast(tokenizer_object=spm, model_max_length=64)
    tok.save_pretrained(str(out_dir))
    tok = AutoTokenizer.from_pretrained(str(out_dir))
    assert type(tok) is fast, type(tok)
    assert tok.pad_token_id == 1 and tok.unk_token_id == 3
    assert (tok.bos_token_id, tok.eos_token_id) == (bos, eos) == (specials.index("<s>"),
                                                                   specials.index("</s>"))
    assert tok.mask_token_id == len(tok) - 1, (tok.mask_token_id, len(tok))
    return tok


def tiny_config(class_name: str, tok, extra: dict):
    """The tiny configuration of the family `class_name` belongs to (by its prefix), with the
    sizes of TINY_SIZES in that family's own field names."""
    if class_name.startswith("Roberta"):
        # RoBERTa: positions start after padding_idx (1), so max_position_embeddings is 64 + 2.
        sizes = dict(TINY_SIZES, max_position_embeddings=66, type_vocab_size=1, pad_token_id=1,
                     bos_token_id=0, eos_token_id=2, layer_norm_eps=1e-5)
        return RobertaConfig(vocab_size=len(tok), **sizes, **extra)
    if class_name.startswith(("XLMRoberta", "Camembert")):
        # RoBERTa's architecture and sizes; the special ids of the Unigram tokenizer.
        sizes = dict(TINY_SIZES, max_position_embeddings=66, type_vocab_size=1,
                     pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
                     eos_token_id=tok.eos_token_id, layer_norm_eps=1e-5)
        config = XLMRobertaConfig if class_name.startswith("XLMRoberta") else CamembertConfig
        return config(vocab_size=len(tok), **sizes, **extra)
    if class_name.startswith("GPT2"):
        return GPT2Config(vocab_size=len(tok), n_embd=16, n_layer=2, n_head=4, n_positions=64,
                          bos_token_id=0, eos_token_id=0, pad_token_id=0, **extra)
    if class_name.startswith("Electra"):
        # BERT's sizes and tokenizer; embeddings narrower than the hidden size, so that the
        # model has `embeddings_project` (as every published ELECTRA-small discriminator has not,
        # and every generator has).
        assert len(tok) == len(TINY_VOCAB)
        return ElectraConfig(vocab_size=len(TINY_VOCAB), embedding_size=8, **TINY_SIZES, **extra)
    if class_name.startswith("DistilBert"):
        return DistilBertConfig(vocab_size=len(tok), dim=16, n_layers=2, n_heads=4, hidden_dim=32,
                                max_position_embeddings=64, pad_token_id=0, **extra)
    assert len(tok) == len(TINY_VOCAB)
    return BertConfig(vocab_size=len(TINY_VOCAB), **TINY_SIZES, **extra)


def tiny_tokenizer(class_name: str, out_dir: Path):
    """The tiny tokenizer of the family `class_name` belongs to, saved into out_dir."""
    if class_name.startswith("Roberta"):
        return make_bpe_tokenizer(out_dir)
    for prefix in UNIGRAM_SPECIALS:
        if class_name.startswith(prefix):
            return make_unigram_tokenizer(out_dir, prefix)
    if class_name.startswith("DistilBert"):
        return make_distilbert_tokenizer(out_dir)
    if class_name.startswith("GPT2"):
        return make_gpt2_tokenizer(out_dir)
    return make_tiny_tokenizer(out_dir)


def build_tiny(name: str, class_name: str, seed: int, extra: dict, save, add_loss=None,
               cases=None) -> None:
    out_dir = FIXTURES / name
    out_dir.mkdir(parents=True, exist_ok=True)
    for f in out_dir.iterdir():
        if f.is_file():
            f.unlink()
    tok = tiny_tokenizer(class_name, out_dir)
    config = tiny_config(class_name, tok, extra)
    config._attn_implementation = "eager"
    torch.manual_seed(seed)
    model = getattr(transformers, class_name)(config)
    model.eval()
    init_tiny(model, seed)
    ref = make_reference(model, tok, name, class_name, TINY_CASES if cases is None else cases)
    if add_loss is not None:
        add_loss(model, ref["batch"])
    if not class_name.startswith("Bert"):
        # Other families: the tokenizer's character offsets too (special tokens: (0, 0)).
        for c in ref["cases"]:
            enc = tok(c["text"], c["text_pair"], return_offsets_mapping=True)
            assert enc["input_ids"] == c["input_ids"]
            c["offsets"] = [list(o) for o in enc["offset_mapping"]]
    save(model, out_dir)
    write_json(out_dir / "reference.json", ref)
    unk = tok.unk_token_id
    for c in ref["cases"]:
        toks = tok.convert_ids_to_tokens(c["input_ids"])
        print(f"  {name}: {' '.join(toks)}" + ("  (has [UNK])" if unk in c["input_ids"] else ""))


def save_safetensors(model, out_dir: Path) -> None:
    model.save_pretrained(str(out_dir), safe_serialization=True)
    os.chmod(out_dir / "model.safetensors", 0o644)


def save_bin(model, out_dir: Path) -> None:
    model.save_pretrained(str(out_dir), safe_serialization=False)


def save_gamma_beta(model, out_dir: Path) -> None:
    """Safetensors with the TF-era names LayerNorm.gamma / LayerNorm.beta."""
    model.save_pretrained(str(out_dir), safe_serialization=True)
    path = out_dir / "model.safetensors"
    tensors = load_file(str(path))
    renamed = {}
    for k, v in tensors.items():
        k = re.sub(r"LayerNorm\.weight$", "LayerNorm.gamma", k)
        k = re.sub(r"LayerNorm\.bias$", "LayerNorm.beta", k)
        renamed[k] = v.contiguous()
    assert sum(k.endswith("LayerNorm.gamma") for k in renamed) == 1 + 2 * 2
    save_file(renamed, str(path), metadata={"format": "pt"})
    os.chmod(path, 0o644)


NER_LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
NER_CONFIG = dict(
    id2label=dict(enumerate(NER_LABELS)),
    label2id={label: i for i, label in enumerate(NER_LABELS)},
)


def _batch_inputs(model, batch: dict) -> dict:
    keys = ["input_ids", "attention_mask"]
    if _takes_token_types(model):  # not DistilBERT, not GPT-2
        keys.append("token_type_ids")
    return {k: _tensor(batch[k]) for k in keys}


@torch.no_grad()
def token_loss(model, batch: dict) -> None:
    """Labels input_id % num_labels on real word pieces, -100 on [CLS]/[SEP]/[PAD]; the loss
    transformers computes for them."""
    if model.config.model_type == "roberta":
        special = {0, 1, 2}  # <s>, <pad>, </s> of the BPE tokenizer
    else:
        special = {0, 2, 3}  # [PAD], [CLS], [SEP] in TINY_VOCAB
    n = model.config.num_labels
    labels = [[-100 if i in special else i % n for i in row] for row in batch["input_ids"]]
    out = model(**_batch_inputs(model, batch), labels=_tensor(labels))
    batch["labels"] = labels
    batch["loss"] = float(f"{out.loss.item():.7g}")


@torch.no_grad()
def qa_loss(model, batch: dict) -> None:
    """Span positions with the edge cases transformers handles: past the end (clamped to S,
    ignored), exactly S (ignored), negative (clamped to 0); the loss transformers computes."""
    seq = len(batch["input_ids"][0])
    assert len(batch["input_ids"]) == 4
    start = [1, 3, seq, -2]
    end = [2, seq + 50, 4, 0]
    out = model(**_batch_inputs(model, batch), start_positions=_tensor(start), end_positions=_tensor(end))
    batch["start_positions"] = start
    batch["end_positions"] = end
    batch["loss"] = float(f"{out.loss.item():.7g}")


# Short texts for the language-model fixtures (their logits are vocabulary-sized). "[MASK]" is
# the tokenizer's mask token; MLM_ANSWERS is the word it hides (a single TINY_VOCAB piece).
MLM_CASES: list[tuple[str, str | None]] = [
    ("The quick brown [MASK] jumped.", None),
    ("Hello, [MASK]: run 42 km.", None),
    ("Where did the [MASK] sit?", "On the mat, sleeping."),
]
MLM_ANSWERS = {"The quick brown [MASK] jumped.": "fox", "Hello, [MASK]: run 42 km.": "world"}
CLM_CASES: list[tuple[str, str | None]] = [
    ("The quick brown fox jumped.", None),
    ("Hello, world: run 42 km.", None),
    ("Where did the cat sit?", "On the mat, sleeping."),
]
NSP_LABELS = [0, 1]  # for the 2-row batch of MLM_CASES


# Short texts with RoBERTa's mask token (byte-level BPE pieces are short, so MLM_CASES would make
# a large reference; pairs are covered by the other RoBERTa fixtures); mlm_labels gives the
# <mask> positions arbitrary ids.
ROBERTA_MLM_CASES: list[tuple[str, str | None]] = [
    ("The <mask> jumped.", None),
    ("Hello, <mask>!", None),
]
ROBERTA_MASK_ID = ROBERTA_SPECIAL_TOKENS.index("<mask>")


def mlm_labels(batch: dict) -> list[list[int]]:
    """The hidden word's id at each [MASK], the token's own id at position 1 (an "unchanged"
    token, as BERT's 10% rule leaves some), -100 elsewhere. RoBERTa fixtures (<mask>): the id
    100 + row at each <mask>, any id will do for the loss."""
    labels = []
    for i, (text, row) in enumerate(zip(batch["texts"], batch["input_ids"])):
        if "<mask>" in text:
            mask_id, answer = ROBERTA_MASK_ID, 100 + i
        else:
            mask_id, answer = TINY_VOCAB.index("[MASK]"), TINY_VOCAB.index(MLM_ANSWERS[text])
        lab = [answer if t == mask_id else -100 for t in row]
        assert lab.count(answer) == 1, (text, row)
        lab[1] = row[1]
        labels.append(lab)
    return labels


@torch.no_grad()
def mlm_loss(model, batch: dict) -> None:
    """MLM labels (mlm_labels) and the loss transformers computes for them."""
    labels = mlm_labels(batch)
    out = model(**_batch_inputs(model, batch), labels=_tensor(labels))
    batch["labels"] = labels
    batch["loss"] = float(f"{out.loss.item():.7g}")


@torch.no_grad()
def pretraining_loss(model, batch: dict) -> None:
    """MLM labels, NSP labels NSP_LABELS; transformers' total loss and its two terms."""
    labels = mlm_labels(batch)
    out = model(**_batch_inputs(model, batch), labels=_tensor(labels),
                next_sentence_label=_tensor(NSP_LABELS))
    v = model.config.vocab_size
    mlm = F.cross_entropy(out.prediction_logits.reshape(-1, v), _tensor(labels).reshape(-1))
    nsp = F.cross_entropy(out.seq_relationship_logits, _tensor(NSP_LABELS))
    assert torch.allclose(mlm + nsp, out.loss)
    batch["labels"] = labels
    batch["next_sentence_label"] = NSP_LABELS
    batch["loss"] = float(f"{out.loss.item():.7g}")
    batch["mlm_loss"] = float(f"{mlm.item():.7g}")
    batch["nsp_loss"] = float(f"{nsp.item():.7g}")


@torch.no_grad()
def clm_loss(model, batch: dict) -> None:
    """Labels = input_ids with -100 at padding (DataCollatorForLanguageModeling(mlm=False));
    transformers shifts them inside BertLMHeadModel."""
    labels = [[t if m else -100 for t, m in zip(ids, am)]
              for ids, am in zip(batch["input_ids"], batch["attention_mask"])]
    out = model(**_batch_inputs(model, batch), labels=_tensor(labels))
    batch["labels"] = labels
    batch["loss"] = float(f"{out.loss.item():.7g}")


@torch.no_grad()
def left_padded_batch(model, batch: dict) -> None:
    """The batch's texts padded on the left too ("left": input_ids, attention_mask, logits):
    GPT2ForSequenceClassification reads the rightmost non-padding token of each row."""
    tok = AutoTokenizer.from_pretrained(str(FIXTURES / "tiny-gpt2-cls"), padding_side="left")
    enc = tok(batch["texts"], padding=True)
    out = model(input_ids=_tensor(enc["input_ids"]), attention_mask=_tensor(enc["attention_mask"]))
    assert enc["attention_mask"] != batch["attention_mask"]
    batch["left"] = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"],
                     "logits": r7(out.logits)}


def save_bin_with_tied(model, out_dir: Path) -> None:
    """pytorch_model.bin as transformers writes it for a tied LM head: it keeps
    cls.predictions.decoder.weight/.bias, sharing storage with the embeddings / the bias."""
    save_bin(model, out_dir)
    sd = torch.load(out_dir / "pytorch_model.bin", weights_only=True)
    assert {"cls.predictions.decoder.weight", "cls.predictions.decoder.bias"} <= set(sd)


def save_safetensors_with_decoder(model, out_dir: Path) -> None:
    """transformers' model.safetensors plus the tied cls.predictions.decoder.weight (a copy of
    the word embeddings), as older checkpoints carry it."""
    save_safetensors(model, out_dir)
    path = out_dir / "model.safetensors"
    tensors = load_file(str(path))
    assert "cls.predictions.decoder.weight" not in tensors
    tensors["cls.predictions.decoder.weight"] = \
        tensors["bert.embeddings.word_embeddings.weight"].clone()
    save_file(tensors, str(path), metadata={"format": "pt"})
    os.chmod(path, 0o644)


TINY_FIXTURES = [
    # name, class, seed, config extras, saver[, batch loss]
    ("tiny-bert", "BertModel", 0, dict(hidden_act="gelu"), save_safetensors),
    (
        "tiny-bert-bin",
        "BertForSequenceClassification",
        1,
        dict(hidden_act="gelu_new", layer_norm_eps=1e-7, num_labels=3),
        save_bin,
    ),
    ("tiny-bert-relu", "BertModel", 2, dict(hidden_act="relu"), save_gamma_beta),
    (
        "tiny-bert-ner",
        "BertForTokenClassification",
        3,
        dict(hidden_act="gelu", **NER_CONFIG),
        save_safetensors,
        token_loss,
    ),
    ("tiny-bert-qa", "BertForQuestionAnswering", 4, dict(hidden_act="gelu"), save_safetensors,
     qa_loss),
    ("tiny-bert-mlm", "BertForMaskedLM", 5, dict(hidden_act="gelu"), save_safetensors, mlm_loss,
     MLM_CASES),
    ("tiny-bert-pretraining", "BertForPreTraining", 6, dict(hidden_act="gelu_new"),
     save_bin_with_tied, pretraining_loss, MLM_CASES),
    ("tiny-bert-clm", "BertLMHeadModel", 7, dict(hidden_act="gelu", is_decoder=True),
     save_safetensors_with_decoder, clm_loss, CLM_CASES),
    # Other families (issue 10).
    ("tiny-roberta", "RobertaForSequenceClassification", 10,
     dict(hidden_act="gelu", num_labels=3), save_safetensors),
    ("tiny-distilbert", "DistilBertForSequenceClassification", 11,
     dict(activation="gelu", num_labels=3), save_safetensors),
    ("tiny-roberta-ner", "RobertaForTokenClassification", 12, dict(hidden_act="gelu", **NER_CONFIG),
     save_safetensors, token_loss),
    ("tiny-roberta-qa", "RobertaForQuestionAnswering", 13, dict(hidden_act="gelu"),
     save_safetensors, qa_loss),
    ("tiny-distilbert-ner", "DistilBertForTokenClassification", 14,
     dict(activation="gelu", **NER_CONFIG), save_safetensors, token_loss),
    ("tiny-distilbert-qa", "DistilBertForQuestionAnswering", 15, dict(activation="gelu"),
     save_safetensors, qa_loss),
    ("tiny-roberta-mlm", "RobertaForMaskedLM", 16, dict(hidden_act="gelu"), save_safetensors,
     mlm_loss, ROBERTA_MLM_CASES),
    ("tiny-distilbert-mlm", "DistilBertForMaskedLM", 17, dict(activation="gelu"),
     save_safetensors, mlm_loss, MLM_CASES),
    # GPT-2 (issue 10): pre-LayerNorm decoder, Conv1D weights stored [in, out], LM head tied.
    ("tiny-gpt2", "GPT2LMHeadModel", 20,
     dict(activation_function="gelu_new", n_inner=None, layer_norm_epsilon=1e-5),
     save_safetensors, clm_loss, CLM_CASES),
    ("tiny-gpt2-cls", "GPT2ForSequenceClassification", 21,
     dict(activation_function="gelu_new", n_inner=32, layer_norm_epsilon=1e-5, num_labels=3),
     save_safetensors, left_padded_batch),
    # RoBERTa's architecture under other names, with SentencePiece Unigram tokenizers (issue 23).
    ("tiny-xlm-roberta", "XLMRobertaForSequenceClassification", 30,
     dict(hidden_act="gelu", num_labels=3), save_safetensors),
    ("tiny-camembert", "CamembertForSequenceClassification", 31,
     dict(hidden_act="gelu", num_labels=3), save_safetensors),
    ("tiny-xlm-roberta-ner", "XLMRobertaForTokenClassification", 32,
     dict(hidden_act="gelu", **NER_CONFIG), save_safetensors, token_loss),
    ("tiny-xlm-roberta-qa", "XLMRobertaForQuestionAnswering", 33, dict(hidden_act="gelu"),
     save_safetensors, qa_loss),
    ("tiny-camembert-ner", "CamembertForTokenClassification", 34,
     dict(hidden_act="gelu", **NER_CONFIG), save_safetensors, token_loss),
    ("tiny-camembert-qa", "CamembertForQuestionAnswering", 35, dict(hidden_act="gelu"),
     save_safetensors, qa_loss),
    # ELECTRA (issue 23): BERT's encoder with narrower embeddings projected to the hidden size,
    # its own classification head (dense + GELU + out_proj) and generator MLM head.
    ("tiny-electra", "ElectraForSequenceClassification", 40,
     dict(hidden_act="gelu", num_labels=3), save_safetensors),
    ("tiny-electra-ner", "ElectraForTokenClassification", 41,
     dict(hidden_act="gelu", **NER_CONFIG), save_safetensors, token_loss),
    ("tiny-electra-qa", "ElectraForQuestionAnswering", 42, dict(hidden_act="gelu"),
     save_safetensors, qa_loss),
    ("tiny-electra-mlm", "ElectraForMaskedLM", 43, dict(hidden_act="gelu"), save_safetensors,
     mlm_loss, MLM_CASES),
]
TINY_NAMES = [f[0] for f in TINY_FIXTURES]


# Pre-split words (token classification input) for the byte-level BPE tokenizers.
WORD_CASES: list[list[str]] = [
    ["Hello", "world", ",", "the", "quick", "fox", "jumped", "."],
    ["Where", "did", "the", "cat", "sit", "?"],
    ["Unbelievable", ":", "café", "runners", "(", "twice", ")", "🙂"],
]


def gen_bpe_words() -> None:
    out = {"torch": torch.__version__.split("+")[0], "transformers": transformers.__version__}
    for name in ("tiny-roberta", "tiny-gpt2"):
        tok = AutoTokenizer.from_pretrained(str(FIXTURES / name), add_prefix_space=True)
        cases = []
        for words in WORD_CASES:
            enc = tok(words, is_split_into_words=True)
            cases.append({"words": words, "input_ids": enc["input_ids"],
                          "word_ids": enc.word_ids()})
        out[name] = cases
    write_json(FIXTURES / "reference" / "bpe-words.json", out)
    print("wrote tests/fixtures/reference/bpe-words.json")


def selected_tiny(only: list[str]) -> list[tuple]:
    """The tiny fixtures `--only` asks for ("all" and "tiny" mean every one)."""
    if "all" in only or "tiny" in only:
        return TINY_FIXTURES
    return [f for f in TINY_FIXTURES if f[0] in only]


def gen_tiny(only: list[str]) -> None:
    for name, class_name, seed, extra, save, *add_loss in selected_tiny(only):
        build_tiny(name, class_name, seed, extra, save, *add_loss)
        print(f"wrote tests/fixtures/{name}/")


def verify_all(only: list[str]) -> int:
    """Reloads every written fixture with transformers and checks it against its reference."""
    rc = 0
    if "all" in only or "minilm" in only:
        rc |= check_saved(MINILM_DIR, FIXTURES / "reference" / "minilm.json", tol=1e-5)
    for name, class_name, *_ in selected_tiny(only):
        rc |= check_saved(FIXTURES / name, FIXTURES / name / "reference.json", class_name,
                          tol=1e-5)
    return rc


def add_check_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reference", help="reference JSON (format in make_reference.py's docstring)")
    p.add_argument("--class", dest="class_name", default="BertModel",
                   help="transformers class to load with (BertModel, BertForSequenceClassification, "
                        "BertForTokenClassification, BertForQuestionAnswering, BertForMaskedLM, ...)")
    p.add_argument("--tol", type=float, default=1e-4, help="max allowed |diff| (default 1e-4)")
    p.add_argument("--allow-missing", action="append", default=[], metavar="REGEX",
                   help="tolerate missing weights matching REGEX (repeatable), e.g. '^pooler\\.'")
    p.add_argument("--ignore-padded", action="store_true",
                   help="in the batch entry, compare only positions with attention_mask 1")
    p.add_argument("--no-tokenizer-check", action="store_true",
                   help="do not require the saved tokenizer to reproduce the reference input_ids")


def run_check(args) -> int:
    if not args.reference:
        raise SystemExit("--check-saved needs --reference FILE.json")
    return check_saved(args.check_saved, args.reference, args.class_name, args.tol,
                       args.allow_missing, args.ignore_padded, not args.no_tokenizer_check)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", choices=["all", "minilm", "tiny", "bpe-words", *TINY_NAMES],
                   action="append",
                   help="which fixtures to (re)generate (repeatable; default all): minilm, every "
                        "tiny one, or one tiny fixture by name")
    p.add_argument("--no-verify", action="store_true", help="skip reloading what was written")
    p.add_argument("--check-saved", metavar="DIR", help="check mode: load DIR and compare")
    add_check_args(p)
    args = p.parse_args()
    torch.set_num_threads(1)  # bit-for-bit reproducible reductions
    if args.check_saved:
        return run_check(args)
    torch.use_deterministic_algorithms(True)
    only = args.only or ["all"]
    if "all" in only or "minilm" in only:
        gen_minilm()
    gen_tiny(only)
    if "all" in only or "bpe-words" in only:
        gen_bpe_words()
    return 0 if args.no_verify else verify_all(only)


if __name__ == "__main__":
    sys.exit(main())
