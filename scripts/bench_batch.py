"""The synthetic batch of `burnish bench`, shared by its Python sides (bench_torch.py,
bench_onnxruntime.py): the rows burnish_train::bench::synthetic_batch builds, with the same
xorshift64* generator, as plain lists."""

MASK64 = (1 << 64) - 1


def synthetic_batch(batch, seq, vocab, seed):
    """Token ids `[batch][seq]` ([CLS] ... [SEP], every token real) and one label per row."""
    state = ((seed * 0x9E3779B97F4A7C15) & MASK64) | 1

    def nxt():
        nonlocal state
        state ^= state >> 12
        state ^= (state << 25) & MASK64
        state ^= state >> 27
        return (state * 0x2545F4914F6CDD1D) & MASK64

    low = min(1000, vocab - 1)
    span = max(vocab - low, 1)
    ids = []
    for _ in range(batch):
        row = []
        for p in range(seq):
            row.append(101 if p == 0 else 102 if p == seq - 1 else low + nxt() % span)
        ids.append(row)
    labels = [nxt() % 2 for _ in range(batch)]
    return ids, labels
