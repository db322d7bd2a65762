"""Score a saved question-answering model folder (burnish's run directory or any HF folder) with
the PyTorch side's own evaluation: `finetune_torch_qa.py`'s window preparation, n-best
post-processing and official SQuAD v1.1 EM / F1. Used to check that a gap between burnish and
PyTorch on the SQuAD recipe comes from training, not from burnish's evaluation:

    python scripts/eval_torch_qa.py bench-out/squad-1-all/burnish-run \
        --data $BURNISH_BENCH_DATA/squad1.1/dev-v1.1.json --eval-articles 38:48 \
        --compare bench-out/squad-1-all/burnish-run/predictions.json

prints the scores and, with --compare, how many answers equal those in burnish's
predictions.json.
"""
import argparse
import json
import os
import sys

import torch
from transformers import AutoModelForQuestionAnswering, AutoTokenizer, DataCollatorWithPadding

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import finetune_torch_qa as qa  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="model folder (config.json, tokenizer, weights)")
    p.add_argument("--data", required=True, help="SQuAD v1.1-format JSON")
    p.add_argument("--eval-articles", type=qa.article_range, required=True)
    p.add_argument("--max-length", type=int, default=384)
    p.add_argument("--doc-stride", type=int, default=128)
    p.add_argument("--n-best-size", type=int, default=20)
    p.add_argument("--max-answer-length", type=int, default=30)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--compare", default=None, help="a predictions.json ({id: answer}) to compare with")
    args = p.parse_args()
    if not os.path.isfile(args.data):
        sys.exit(f"error: {args.data} not found: the SQuAD benchmark's data is the official SQuAD "
                 "v1.1 dev set (CC BY-SA 4.0), not part of the repository; see "
                 "scripts/bench_data.sh for the benchmark data folder (BURNISH_BENCH_DATA).")
    if args.threads:
        torch.set_num_threads(args.threads)

    examples, _ = qa.read_squad(args.data, args.eval_articles)
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForQuestionAnswering.from_pretrained(args.model, attn_implementation="eager").eval()
    features, index, offsets = qa.prepare_validation_features(
        tokenizer, examples, args.max_length, args.doc_stride)
    loader = torch.utils.data.DataLoader(
        features, batch_size=32, shuffle=False,
        collate_fn=DataCollatorWithPadding(tokenizer, padding="longest", return_tensors="pt"))
    starts, ends = [], []
    with torch.inference_mode():
        for batch in loader:
            out = model(**batch)
            s, e = out.start_logits.float().numpy(), out.end_logits.float().numpy()
            for r in range(s.shape[0]):
                n = len(offsets[len(starts)])
                starts.append(s[r, :n].copy())
                ends.append(e[r, :n].copy())
    predictions = qa.postprocess_qa_predictions(examples, index, offsets, starts, ends,
                                                args.n_best_size, args.max_answer_length)
    result = dict(qa.squad_v11(examples, predictions))
    if args.compare:
        with open(args.compare, encoding="utf-8") as f:
            theirs = json.load(f)
        result["same_answers"] = sum(1 for k, v in predictions.items() if theirs.get(k) == v)
        result["questions"] = len(predictions)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
