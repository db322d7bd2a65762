#!/usr/bin/env python3
"""Checks LoRA adapters against Hugging Face peft (the library that defines the adapter folder:
adapter_config.json + adapter_model.safetensors). Each subcommand prints one JSON object; any
failure exits non-zero with the reason on stderr.

  compare BASE_DIR ADAPTER_DIR MERGED_DIR HEAD [--texts FILE] [--atol X]
      HEAD: sequence-classification | token-classification.
      Loads BASE_DIR with AutoModelFor<HEAD> (float32, eval; num_labels from the classifier
      weight in ADAPTER_DIR's modules_to_save tensors, id2label/label2id from
      MERGED_DIR/config.json, which must agree), applies PeftModel.from_pretrained(base,
      ADAPTER_DIR), and loads MERGED_DIR (a plain transformers folder with the adapter folded
      in) with AutoModelFor<HEAD>. Runs both on one padded batch of texts of different lengths
      (3 built-in ones, or FILE's first 8 lines; max_length 64, or the model's positions if
      fewer; tokenizer of MERGED_DIR, else BASE_DIR) and compares the logits (token logits only
      where attention_mask is 1); then folds the adapter in with peft's merge_and_unload() and
      compares that model to MERGED_DIR too.
      Fails if peft warns while loading (missing / unexpected adapter keys, unknown config
      fields) or raises (a modules_to_save tensor missing: peft 0.22 raises KeyError), if a
      LoRA or modules_to_save tensor of ADAPTER_DIR did not land in the model unchanged, if a
      weight the head needs is in neither BASE_DIR nor the adapter (transformers would draw it
      at random), if MERGED_DIR lacks weights, or if a max_abs_diff exceeds --atol (1e-4).
      {"max_abs_diff_peft_vs_merged", "max_abs_diff_merge_and_unload_vs_merged",
       "max_abs_diff_peft_vs_base": how much the adapter changes the logits at all,
       "num_labels", "lora_modules": LoRA-wrapped modules, "trainable_params", "total_params"
       (peft's counts with the adapter trainable: LoRA + modules_to_save copies),
       "adapter_tensors", "target_modules", "modules_to_save": wrapped modules, "r",
       "lora_alpha", "scaling", "use_rslora", "task_type", "peft_version", "texts", "padded",
       "max_length"}
  make BASE_DIR OUT_DIR HEAD [--r 8] [--alpha 16] [--num-labels 3] [--seed 0]
       [--target-modules a,b] [--merged]
      Builds a LoRA adapter on BASE_DIR with get_peft_model(LoraConfig(task_type SEQ_CLS |
      TOKEN_CLS, r, lora_alpha, lora_dropout 0)): target modules are peft's default for the
      model type (--target-modules overrides; where peft has none, a fallback: distilbert
      q_lin,v_lin; camembert query,value; modernbert Wqkv). After torch.manual_seed(seed), lora_B is drawn from
      normal(0, 0.02) (lora_A keeps peft's kaiming-uniform init) and the classifier head
      (peft's modules_to_save copies) afresh: weights normal(0, 1/sqrt(fan_in)), biases
      normal(0, 0.02); so the adapter changes the outputs (fails if it does not). Saves
      OUT_DIR/adapter (PeftModel.save_pretrained) and OUT_DIR/logits.json: the peft model's
      logits (eval, float32) on the built-in texts, with the input_ids, attention_mask (and
      token_type_ids where the tokenizer gives them) used. --merged also writes
      OUT_DIR/merged: merge_and_unload().save_pretrained plus BASE_DIR's tokenizer files (a
      MERGED_DIR for `compare`).
      {"adapter_dir", "logits_file", "merged_dir", "num_labels", "target_modules",
       "target_modules_source": peft-default | fallback | argument, "modules_to_save",
       "lora_modules", "trainable_params", "total_params", "adapter_tensors",
       "max_abs_diff_lora_off": logits change when the LoRA scaling is zeroed,
       "peft_version", "texts", "max_length"}

Run with HF_HUB_OFFLINE=1 (set here); tokenizer: AutoTokenizer, else tokenizer.json through
`tokenizers` (pad id: config.json pad_token_id, default 0).
Versions: scripts/requirements-reference.txt (peft 0.22.0 on transformers 4.57.1).
"""
import argparse
import contextlib
import inspect
import json
import logging
import os
import shutil
import sys
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import numpy as np

TEXTS = [
    "A short one.",
    "This sentence is a good deal longer than the first, so the batch needs padding.",
    "Middle length text here for the check.",
]
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
HEADS = {
    "sequence-classification": ("AutoModelForSequenceClassification", "SEQ_CLS"),
    "token-classification": ("AutoModelForTokenClassification", "TOKEN_CLS"),
}
# Where peft's TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING has no entry.
FALLBACK_TARGETS = {"distilbert": ["q_lin", "v_lin"], "camembert": ["query", "value"],
                    "modernbert": ["Wqkv"]}
# The classifier's output projection in the saved modules_to_save tensors, by head layout.
HEAD_OUT_KEYS = ("classifier.out_proj.weight", "classifier.weight", "score.weight")
PREFIX = "base_model.model."


def fail(message: str) -> None:
    print(f"check_peft.py: {message}", file=sys.stderr)
    sys.exit(1)


def config(model_dir: str) -> dict:
    path = Path(model_dir) / "config.json"
    if not path.is_file():
        fail(f"{model_dir} has no config.json")
    return json.loads(path.read_text())


def max_length(model_dir: str, want: int) -> int:
    """`want`, capped at the positions the model has (RoBERTa's family starts at pad id + 1)."""
    cfg = config(model_dir)
    limit = cfg.get("max_position_embeddings") or want
    if cfg.get("model_type") in ("roberta", "xlm-roberta", "camembert"):
        limit -= (cfg.get("pad_token_id") or 0) + 1
    return min(want, limit)


def has_tokenizer(model_dir: str) -> bool:
    return any((Path(model_dir) / f).is_file()
               for f in ("tokenizer.json", "tokenizer_config.json", "vocab.txt"))


def tokenizer(model_dir: str):
    """encode(texts, max_length) -> {name: int64 array}, padded to the longest."""
    try:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(model_dir)

        def encode(texts, max_length):
            enc = tok(texts, padding=True, truncation=True, max_length=max_length,
                      return_tensors="np")
            return {k: np.asarray(v, dtype=np.int64) for k, v in enc.items() if k in INPUTS}

        return encode
    except Exception as err:  # noqa: BLE001 - any failure falls back to tokenizer.json
        print(f"check_peft.py: AutoTokenizer failed ({err}); using tokenizer.json",
              file=sys.stderr)
    from tokenizers import Tokenizer

    path = Path(model_dir) / "tokenizer.json"
    if not path.is_file():
        fail(f"{model_dir} has no tokenizer AutoTokenizer can load and no tokenizer.json")
    tok = Tokenizer.from_file(str(path))
    pad_id = config(model_dir).get("pad_token_id") or 0
    tok.enable_padding(pad_id=pad_id, pad_token=tok.id_to_token(pad_id) or "[PAD]")

    def encode(texts, max_length):
        tok.enable_truncation(max_length=max_length)
        encs = tok.encode_batch(list(texts))
        return {
            "input_ids": np.array([e.ids for e in encs], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encs], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encs], dtype=np.int64),
        }

    return encode


def texts_from(path) -> list:
    if not path:
        return list(TEXTS)
    lines = [l for l in Path(path).read_text().splitlines() if l.strip()][:8]
    if not lines:
        fail(f"{path} has no text")
    return lines


def logits_of(model, enc: dict):
    import torch

    accepted = inspect.signature(model.forward).parameters
    if "kwargs" in accepted:  # PeftModel.forward(**kwargs) passes on to the base model
        accepted = inspect.signature(model.get_base_model().forward).parameters
    with torch.no_grad():
        out = model(**{k: torch.from_numpy(v) for k, v in enc.items() if k in accepted})
    return out.logits.detach().to(torch.float64).numpy()


def max_abs_diff(x, y, mask, per_token: bool, what: str) -> float:
    if x.shape != y.shape:
        fail(f"{what}: logits shape {list(x.shape)} != {list(y.shape)}")
    if per_token:
        x, y = x[mask], y[mask]
    diff = float(np.max(np.abs(x - y))) if x.size else 0.0
    if not np.isfinite(diff):
        fail(f"{what}: non-finite logits")
    return diff


@contextlib.contextmanager
def captured():
    """Collects every warning and every WARNING+ log record raised inside the block."""
    records = []

    class Handler(logging.Handler):
        def emit(self, record):
            records.append(f"{record.name}: {record.getMessage()}")

    handler = Handler(level=logging.WARNING)
    # Records of loggers that propagate reach the root handler; peft's does unless disabled.
    loggers = [logging.getLogger()] + ([] if logging.getLogger("peft").propagate
                                       else [logging.getLogger("peft")])
    for lg in loggers:
        lg.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield records
    finally:
        for lg in loggers:
            lg.removeHandler(handler)
    records.extend(f"{w.category.__name__}: {w.message}" for w in caught
                   if not issubclass(w.category, (FutureWarning, DeprecationWarning)))


def import_peft():
    with warnings.catch_warnings():
        # peft 0.22 warns once at import that transformers < 5.6 is deprecated.
        warnings.simplefilter("ignore", FutureWarning)
        import peft
    return peft


def lora_layers(model) -> list:
    from peft.tuners.lora import LoraLayer

    return [(n, m) for n, m in model.named_modules() if isinstance(m, LoraLayer)]


def wrapped_heads(model) -> list:
    from peft.utils import ModulesToSaveWrapper

    return [n.removeprefix(PREFIX) for n, m in model.named_modules()
            if isinstance(m, ModulesToSaveWrapper)]


def saved_key(param_name: str, adapter: str = "default") -> str:
    """The key peft's save_pretrained writes for a PeftModel parameter (adapter name dropped)."""
    for part in ("lora_A", "lora_B", "lora_embedding_A", "lora_embedding_B",
                 "lora_magnitude_vector"):
        param_name = param_name.replace(f".{part}.{adapter}.", f".{part}.")
        if param_name.endswith(f".{part}.{adapter}"):
            param_name = param_name[: -len(adapter) - 1]
    return param_name.replace(f".modules_to_save.{adapter}.", ".")


def compare(args) -> dict:
    import torch
    import transformers
    from safetensors.torch import load_file

    peft = import_peft()
    from peft import PeftModel

    auto, task_type = HEADS[args.head]
    adapter_dir = Path(args.adapter_dir)
    cfg_path, weights_path = adapter_dir / "adapter_config.json", \
        adapter_dir / "adapter_model.safetensors"
    for p in (cfg_path, weights_path):
        if not p.is_file():
            fail(f"{adapter_dir} has no {p.name}")
    adapter_cfg = json.loads(cfg_path.read_text())
    if adapter_cfg.get("peft_type") != "LORA":
        fail(f"{cfg_path}: peft_type {adapter_cfg.get('peft_type')!r}, not 'LORA'")
    if adapter_cfg.get("task_type") not in (None, task_type):
        fail(f"{cfg_path}: task_type {adapter_cfg.get('task_type')!r}, HEAD {args.head} wants "
             f"{task_type!r}")
    tensors = {k: v.to(torch.float32) for k, v in load_file(str(weights_path)).items()}
    heads = {k.removeprefix(PREFIX): v for k, v in tensors.items() if "lora_" not in k}

    out_key = next((k for k in HEAD_OUT_KEYS if k in heads), None)
    merged_cfg = config(args.merged_dir)
    id2label = {int(k): v for k, v in (merged_cfg.get("id2label") or {}).items()}
    if out_key is None:
        fail(f"{weights_path} has no classifier head among its modules_to_save tensors "
             f"(looked for {list(HEAD_OUT_KEYS)}; non-LoRA keys: {sorted(heads)})")
    num_labels = int(heads[out_key].shape[0])
    if id2label and len(id2label) != num_labels:
        fail(f"{args.merged_dir}/config.json has {len(id2label)} labels, the adapter's "
             f"{out_key} has {num_labels} rows")
    if not id2label:
        id2label = {i: f"LABEL_{i}" for i in range(num_labels)}
    label2id = {v: k for k, v in id2label.items()}

    texts = texts_from(args.texts)
    tok_dir = args.merged_dir if has_tokenizer(args.merged_dir) else args.base_dir
    length = max_length(args.merged_dir, 64)
    enc = tokenizer(tok_dir)(texts, length)
    mask = enc["attention_mask"].astype(bool)
    per_token = args.head == "token-classification"

    auto_cls = getattr(transformers, auto)
    torch.manual_seed(0)
    base, info = auto_cls.from_pretrained(
        args.base_dir, dtype=torch.float32, num_labels=num_labels, id2label=id2label,
        label2id=label2id, ignore_mismatched_sizes=True, output_loading_info=True)
    # mismatched_keys: names (transformers 4.57) or (name, shape, shape) tuples (older ones).
    drawn = set(info["missing_keys"]) | {k if isinstance(k, str) else k[0]
                                         for k in info.get("mismatched_keys", [])}
    uncovered = sorted(k for k in drawn if k not in heads)
    if uncovered:
        fail(f"{args.base_dir} lacks weights the {args.head} head needs and the adapter does not "
             f"bring them: {uncovered} (transformers would draw them at random)")
    base.eval()
    base_logits = logits_of(base, enc)

    try:
        with captured() as problems:
            model = PeftModel.from_pretrained(base, str(adapter_dir), is_trainable=True)
    except Exception as err:  # noqa: BLE001 - e.g. KeyError for a missing modules_to_save tensor
        fail(f"PeftModel.from_pretrained failed: {type(err).__name__}: {err}")
    if problems:
        fail(f"peft warned while loading {adapter_dir}: {problems}")
    model.eval()

    # Every saved tensor must sit in the model unchanged, and every adapter parameter of the
    # model must come from the file (peft's own check is a warning; this one is exact).
    params = {saved_key(n): p for n, p in model.named_parameters()
              if ".lora_" in n or ".modules_to_save." in n}
    file_keys = {saved_key(k) for k in tensors}
    not_loaded = sorted(file_keys - set(params))
    not_in_file = sorted(set(params) - file_keys)
    if not_loaded or not_in_file:
        fail(f"adapter tensors and model disagree: in the file but not the model {not_loaded}; "
             f"in the model but not the file {not_in_file}")
    for k, v in tensors.items():
        p = params[saved_key(k)].detach().to(torch.float32)
        if p.shape != v.shape or not torch.equal(p, v):
            fail(f"{k} did not load unchanged (file {list(v.shape)}, model {list(p.shape)})")

    layers = lora_layers(model)
    trainable, total = model.get_nb_trainable_parameters()
    loaded_cfg = model.peft_config["default"]
    scaling = sorted({float(m.scaling["default"]) for _, m in layers})
    peft_logits = logits_of(model, enc)
    modules_to_save = wrapped_heads(model)

    merged, minfo = auto_cls.from_pretrained(args.merged_dir, dtype=torch.float32,
                                             output_loading_info=True)
    if minfo["missing_keys"]:
        fail(f"{args.merged_dir} has no weights for {minfo['missing_keys']}")
    merged.eval()
    merged_logits = logits_of(merged, enc)

    unloaded = model.merge_and_unload()
    unloaded.eval()
    unloaded_logits = logits_of(unloaded, enc)

    result = {
        "max_abs_diff_peft_vs_merged": max_abs_diff(peft_logits, merged_logits, mask, per_token,
                                                    "peft vs merged"),
        "max_abs_diff_merge_and_unload_vs_merged": max_abs_diff(
            unloaded_logits, merged_logits, mask, per_token, "merge_and_unload vs merged"),
        "max_abs_diff_peft_vs_base": max_abs_diff(peft_logits, base_logits, mask, per_token,
                                                  "peft vs base"),
        "num_labels": num_labels,
        "lora_modules": len(layers),
        "trainable_params": int(trainable),
        "total_params": int(total),
        "adapter_tensors": len(tensors),
        "target_modules": sorted(loaded_cfg.target_modules)
        if isinstance(loaded_cfg.target_modules, (set, list)) else loaded_cfg.target_modules,
        "modules_to_save": modules_to_save,
        "r": loaded_cfg.r,
        "lora_alpha": loaded_cfg.lora_alpha,
        "scaling": scaling[0] if len(scaling) == 1 else scaling,
        "use_rslora": bool(loaded_cfg.use_rslora),
        "task_type": str(getattr(loaded_cfg.task_type, "value", loaded_cfg.task_type)),
        "peft_version": peft.__version__,
        "texts": len(texts),
        "padded": bool((~mask).any()),
        "max_length": length,
    }
    if not layers:
        fail(f"no LoRA-wrapped modules after loading {adapter_dir}")
    over = {k: v for k, v in result.items()
            if k.startswith("max_abs_diff") and k.endswith("_vs_merged") and v > args.atol}
    if over:
        print(json.dumps(result))
        fail(f"max_abs_diff over --atol {args.atol}: {over}")
    return result


def make(args) -> dict:
    import torch
    import transformers

    peft = import_peft()
    from peft import LoraConfig, get_peft_model
    from peft.utils.constants import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING

    auto, task_type = HEADS[args.head]
    model_type = config(args.base_dir).get("model_type")
    if args.target_modules:
        targets, source = [t for t in args.target_modules.split(",") if t], "argument"
    elif model_type in TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING:
        targets, source = None, "peft-default"
    elif model_type in FALLBACK_TARGETS:
        targets, source = FALLBACK_TARGETS[model_type], "fallback"
    else:
        fail(f"peft has no default target modules for model_type {model_type!r}; "
             "pass --target-modules")
    if args.num_labels < 1:
        fail("--num-labels must be at least 1")
    id2label = {i: f"LABEL_{i}" for i in range(args.num_labels)}

    torch.manual_seed(args.seed)
    base = getattr(transformers, auto).from_pretrained(
        args.base_dir, dtype=torch.float32, num_labels=args.num_labels, id2label=id2label,
        label2id={v: k for k, v in id2label.items()}, ignore_mismatched_sizes=True)
    alpha = int(args.alpha) if float(args.alpha).is_integer() else args.alpha
    lora = LoraConfig(task_type=task_type, r=args.r, lora_alpha=alpha, lora_dropout=0.0,
                      target_modules=targets)
    try:
        model = get_peft_model(base, lora)
    except Exception as err:  # noqa: BLE001
        fail(f"get_peft_model failed: {type(err).__name__}: {err}")

    torch.manual_seed(args.seed)
    layers = lora_layers(model)
    if not layers:
        fail("get_peft_model wrapped no modules")
    with torch.no_grad():
        for _, m in layers:
            torch.nn.init.normal_(m.lora_B["default"].weight, std=0.02)
        for n, p in model.named_parameters():
            if ".modules_to_save.default." in n:
                # Unit-variance weights (not 0.02) so the head does not shrink the LoRA's effect.
                std = p.shape[-1] ** -0.5 if p.dim() > 1 else 0.02
                torch.nn.init.normal_(p, std=std)
    model.eval()

    encode = tokenizer(args.base_dir)
    length = max_length(args.base_dir, 64)
    enc = encode(TEXTS, length)
    logits = logits_of(model, enc)
    saved_scaling = {n: dict(m.scaling) for n, m in layers}
    for _, m in layers:
        m.scaling["default"] = 0.0
    lora_off = logits_of(model, enc)
    for n, m in layers:
        m.scaling.update(saved_scaling[n])
    mask = enc["attention_mask"].astype(bool)
    changed = max_abs_diff(logits, lora_off, mask, args.head == "token-classification",
                           "lora on vs off")
    if changed < 1e-5:
        fail(f"the LoRA weights change the logits by only {changed:g}")

    out = Path(args.out_dir)
    adapter_dir = out / "adapter"
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(adapter_dir))
    trainable, total = model.get_nb_trainable_parameters()
    heads = wrapped_heads(model)
    from safetensors import safe_open

    with safe_open(str(adapter_dir / "adapter_model.safetensors"), "pt") as f:
        n_tensors = len(list(f.keys()))
    logits_file = out / "logits.json"
    logits_file.write_text(json.dumps({
        "head": args.head,
        "texts": TEXTS,
        "max_length": length,
        **{k: v.tolist() for k, v in enc.items()},
        "logits": logits.astype(np.float32).tolist(),
        "num_labels": args.num_labels,
        "id2label": {str(k): v for k, v in id2label.items()},
        "r": args.r,
        "lora_alpha": alpha,
        "seed": args.seed,
        "peft_version": peft.__version__,
    }))

    merged_dir = None
    if args.merged:
        merged_dir = out / "merged"
        model.merge_and_unload().save_pretrained(str(merged_dir))
        for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                     "vocab.txt", "vocab.json", "merges.txt", "sentencepiece.bpe.model",
                     "spm.model"):
            if (Path(args.base_dir) / name).is_file():
                shutil.copy(Path(args.base_dir) / name, merged_dir / name)

    cfg = json.loads((adapter_dir / "adapter_config.json").read_text())
    return {
        "adapter_dir": str(adapter_dir),
        "logits_file": str(logits_file),
        "merged_dir": str(merged_dir) if merged_dir else None,
        "num_labels": args.num_labels,
        "target_modules": sorted(cfg["target_modules"]) if isinstance(cfg["target_modules"], list)
        else cfg["target_modules"],
        "target_modules_source": source,
        "modules_to_save": heads,
        "lora_modules": len(layers),
        "trainable_params": int(trainable),
        "total_params": int(total),
        "adapter_tensors": n_tensors,
        "max_abs_diff_lora_off": changed,
        "peft_version": peft.__version__,
        "texts": len(TEXTS),
        "max_length": length,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("compare")
    c.add_argument("base_dir")
    c.add_argument("adapter_dir")
    c.add_argument("merged_dir")
    c.add_argument("head", choices=sorted(HEADS))
    c.add_argument("--texts")
    c.add_argument("--atol", type=float, default=1e-4)
    m = sub.add_parser("make")
    m.add_argument("base_dir")
    m.add_argument("out_dir")
    m.add_argument("head", choices=sorted(HEADS))
    m.add_argument("--r", type=int, default=8)
    m.add_argument("--alpha", type=float, default=16)
    m.add_argument("--num-labels", type=int, default=3)
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--target-modules")
    m.add_argument("--merged", action="store_true")
    args = parser.parse_args()
    paths = [args.base_dir] + ([args.adapter_dir, args.merged_dir]
                               if args.command == "compare" else [])
    if args.command == "compare" and args.texts:
        paths.append(args.texts)
    for path in paths:
        if not Path(path).exists():
            fail(f"{path} does not exist")
    print(json.dumps({"compare": compare, "make": make}[args.command](args)))


if __name__ == "__main__":
    main()
