"""Check a graph built by build_bert_onnx.py before the setup marks it valid.

Two independent checks, both must pass:
1. onnxruntime's output matches a plain numpy forward pass of the same safetensors weights
   (computed in float64), so the graph wiring is right.
2. Mean-pooled, normalised embeddings reproduce the cosine similarities that the
   sentence-transformers documentation prints for all-MiniLM-L6-v2 (sbert.net, "Usage":
   0.6660, 0.1046, 0.1411), so weights, tokenizer and pooling match the published model.

Usage: check_bert_onnx.py SOURCE_DIR MODEL_DIR
"""

import json
import math
import sys
from pathlib import Path

import numpy as np
import onnxruntime
from safetensors.numpy import load_file
from tokenizers import Tokenizer

MAX_HIDDEN_STATE_ERROR = 1e-3
MAX_SIMILARITY_ERROR = 1e-3
REFERENCE_SENTENCES = [
    "The weather is lovely today.",
    "It's so sunny outside!",
    "He drove to the stadium.",
]
REFERENCE_SIMILARITIES = {(0, 1): 0.6660, (0, 2): 0.1046, (1, 2): 0.1411}

erf = np.vectorize(math.erf)


def numpy_layer_norm(x, weights, prefix, epsilon):
    mean = x.mean(-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(variance + epsilon) * weights[f"{prefix}.weight"] + weights[
        f"{prefix}.bias"
    ]


def numpy_linear(x, weights, prefix):
    return x @ weights[f"{prefix}.weight"].T + weights[f"{prefix}.bias"]


def numpy_softmax(x):
    shifted = np.exp(x - x.max(-1, keepdims=True))
    return shifted / shifted.sum(-1, keepdims=True)


def numpy_heads(x, heads):
    """[batch, sequence, hidden] to [batch, heads, sequence, head_size]."""
    batch, length, hidden = x.shape
    return x.reshape(batch, length, heads, hidden // heads).transpose(0, 2, 1, 3)


def numpy_bert(config, weights, input_ids, attention_mask, token_type_ids):
    """Reference BERT encoder in float64, written from the architecture, not from the graph."""
    epsilon = config["layer_norm_eps"]
    heads = config["num_attention_heads"]
    batch, length = input_ids.shape
    head_size = config["hidden_size"] // heads

    x = weights["embeddings.word_embeddings.weight"][input_ids]
    x = x + weights["embeddings.position_embeddings.weight"][np.arange(length)]
    x = x + weights["embeddings.token_type_embeddings.weight"][token_type_ids]
    x = numpy_layer_norm(x, weights, "embeddings.LayerNorm", epsilon)
    mask = np.where(attention_mask[:, None, None, :] == 1, 0.0, -1e30)

    for index in range(config["num_hidden_layers"]):
        prefix = f"encoder.layer.{index}"
        q, k, v = [
            numpy_heads(numpy_linear(x, weights, f"{prefix}.attention.self.{name}"), heads)
            for name in ("query", "key", "value")
        ]
        probs = numpy_softmax(q @ k.transpose(0, 1, 3, 2) / math.sqrt(head_size) + mask)
        context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, length, -1)
        attended = numpy_linear(context, weights, f"{prefix}.attention.output.dense")
        x = numpy_layer_norm(attended + x, weights, f"{prefix}.attention.output.LayerNorm", epsilon)
        hidden = numpy_linear(x, weights, f"{prefix}.intermediate.dense")
        hidden = 0.5 * hidden * (1.0 + erf(hidden / math.sqrt(2.0)))
        output = numpy_linear(hidden, weights, f"{prefix}.output.dense")
        x = numpy_layer_norm(output + x, weights, f"{prefix}.output.LayerNorm", epsilon)
    return x


def tokenize(model_dir, sentences, max_length):
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.enable_truncation(max_length)
    tokenizer.enable_padding()
    encodings = tokenizer.encode_batch(sentences)
    as_array = lambda field: np.array([getattr(e, field) for e in encodings], np.int64)
    return as_array("ids"), as_array("attention_mask"), as_array("type_ids")


def mean_pool_normalised(hidden, attention_mask):
    mask = attention_mask[:, :, None].astype(hidden.dtype)
    pooled = (hidden * mask).sum(1) / np.maximum(mask.sum(1), 1e-9)
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    source, model_dir = Path(sys.argv[1]), Path(sys.argv[2])
    config = json.loads((model_dir / "config.json").read_text())
    max_length = json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"]
    weights = {
        k: v.astype(np.float64) for k, v in load_file(str(source / "model.safetensors")).items()
    }

    input_ids, attention_mask, token_type_ids = tokenize(model_dir, REFERENCE_SENTENCES, max_length)
    session = onnxruntime.InferenceSession(
        str(model_dir / "onnx" / "model.onnx"), providers=["CPUExecutionProvider"]
    )
    feeds = {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "token_type_ids": token_type_ids,
    }
    (hidden,) = session.run(["last_hidden_state"], feeds)
    reference = numpy_bert(config, weights, input_ids, attention_mask, token_type_ids)

    error = float(np.abs((hidden - reference) * attention_mask[:, :, None]).max())
    print(f"max |onnxruntime - numpy| over real tokens: {error:.2e}")
    if error > MAX_HIDDEN_STATE_ERROR:
        raise SystemExit(f"graph output differs from the numpy forward pass by {error}")

    vectors = mean_pool_normalised(hidden.astype(np.float64), attention_mask)
    for (i, j), expected in REFERENCE_SIMILARITIES.items():
        actual = float(vectors[i] @ vectors[j])
        print(f"similarity({i}, {j}) = {actual:.4f}, published {expected:.4f}")
        if abs(actual - expected) > MAX_SIMILARITY_ERROR:
            raise SystemExit(
                f"similarity({i}, {j}) must be {expected} within {MAX_SIMILARITY_ERROR}, got {actual}"
            )


if __name__ == "__main__":
    main()
