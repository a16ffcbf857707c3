"""Build a BERT encoder ONNX graph from sentence-transformers safetensors weights.

The graph takes input_ids, attention_mask and token_type_ids (int64, [batch, sequence]) and
returns last_hidden_state (float32, [batch, sequence, hidden]), the layout transformers.js
loads for feature extraction. Pooling and normalisation are left to the caller, as
sentence-transformers does after its Transformer module.

Usage: build_bert_onnx.py SOURCE_DIR OUTPUT_DIR
  SOURCE_DIR contains config.json, model.safetensors and the tokenizer files.
  OUTPUT_DIR receives config.json, tokenizer files and onnx/model.onnx.
"""

import json
import math
import shutil
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file

OPSET = 17
# Files copied unchanged next to the graph. tokenizer.json is rewritten by write_tokenizer.
COPIED_FILES = [
    "config.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "sentence_bert_config.json",
    "modules.json",
    "config_sentence_transformers.json",
]


class GraphBuilder:
    """Collects nodes and initializers, naming every intermediate value uniquely."""

    def __init__(self):
        self.nodes = []
        self.initializers = {}
        self.counter = 0

    def constant(self, name, array):
        """Registers an initializer once, so later calls with the same name reuse it."""
        if name not in self.initializers:
            self.initializers[name] = numpy_helper.from_array(array, name)
        return name

    def op(self, op_type, inputs, **attributes):
        self.counter += 1
        output = f"{op_type.lower()}_{self.counter}"
        self.nodes.append(helper.make_node(op_type, inputs, [output], **attributes))
        return output


def linear(graph, x, weights, prefix):
    """x @ W^T + b, with W stored transposed once at build time."""
    weight = graph.constant(
        f"{prefix}.weight_t", np.ascontiguousarray(weights[f"{prefix}.weight"].T)
    )
    bias = graph.constant(f"{prefix}.bias", weights[f"{prefix}.bias"])
    return graph.op("Add", [graph.op("MatMul", [x, weight]), bias])


def layer_norm(graph, x, weights, prefix, epsilon):
    scale = graph.constant(f"{prefix}.weight", weights[f"{prefix}.weight"])
    bias = graph.constant(f"{prefix}.bias", weights[f"{prefix}.bias"])
    return graph.op("LayerNormalization", [x, scale, bias], axis=-1, epsilon=epsilon)


def embeddings(graph, weights, epsilon):
    words = graph.op(
        "Gather",
        [
            graph.constant("word_embeddings", weights["embeddings.word_embeddings.weight"]),
            "input_ids",
        ],
    )
    types = graph.op(
        "Gather",
        [
            graph.constant(
                "token_type_embeddings", weights["embeddings.token_type_embeddings.weight"]
            ),
            "token_type_ids",
        ],
    )

    sequence_length = graph.op(
        "Gather",
        [graph.op("Shape", ["input_ids"]), graph.constant("one", np.array(1, np.int64))],
        axis=0,
    )
    positions = graph.op(
        "Range", [graph.constant("zero", np.array(0, np.int64)), sequence_length, "one"]
    )
    position_table = graph.constant(
        "position_embeddings", weights["embeddings.position_embeddings.weight"]
    )
    position_vectors = graph.op("Gather", [position_table, positions])

    summed = graph.op("Add", [graph.op("Add", [words, types]), position_vectors])
    return layer_norm(graph, summed, weights, "embeddings.LayerNorm", epsilon)


def attention_bias(graph):
    """Additive mask [batch, 1, 1, sequence]: 0 where attended, float32 minimum where padded."""
    mask = graph.op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    inverted = graph.op("Sub", [graph.constant("one_f", np.array(1.0, np.float32)), mask])
    scaled = graph.op(
        "Mul",
        [inverted, graph.constant("mask_min", np.array(np.finfo(np.float32).min, np.float32))],
    )
    return graph.op("Unsqueeze", [scaled, graph.constant("mask_axes", np.array([1, 2], np.int64))])


def self_attention(graph, x, bias, weights, prefix, config):
    heads = config["num_attention_heads"]
    head_size = config["hidden_size"] // heads
    split_shape = graph.constant(
        f"{prefix}.split_shape", np.array([0, 0, heads, head_size], np.int64)
    )

    def project(name, perm):
        projected = linear(graph, x, weights, f"{prefix}.self.{name}")
        return graph.op("Transpose", [graph.op("Reshape", [projected, split_shape])], perm=perm)

    query = project("query", [0, 2, 1, 3])
    key = project("key", [0, 2, 3, 1])
    value = project("value", [0, 2, 1, 3])

    scale = graph.constant(f"{prefix}.scale", np.array(1.0 / math.sqrt(head_size), np.float32))
    scores = graph.op("Add", [graph.op("Mul", [graph.op("MatMul", [query, key]), scale]), bias])
    context = graph.op("MatMul", [graph.op("Softmax", [scores], axis=-1), value])

    merged_shape = graph.constant(
        f"{prefix}.merged_shape", np.array([0, 0, config["hidden_size"]], np.int64)
    )
    merged = graph.op(
        "Reshape", [graph.op("Transpose", [context], perm=[0, 2, 1, 3]), merged_shape]
    )
    return linear(graph, merged, weights, f"{prefix}.output.dense")


def gelu(graph, x):
    """Exact GELU, 0.5 * x * (1 + erf(x / sqrt(2))), as BERT's hidden_act "gelu"."""
    inner = graph.op(
        "Erf", [graph.op("Div", [x, graph.constant("sqrt2", np.array(math.sqrt(2.0), np.float32))])]
    )
    one_plus = graph.op("Add", [inner, graph.constant("one_f", np.array(1.0, np.float32))])
    half_x = graph.op("Mul", [x, graph.constant("half", np.array(0.5, np.float32))])
    return graph.op("Mul", [half_x, one_plus])


def encoder_layer(graph, x, bias, weights, index, config):
    prefix = f"encoder.layer.{index}"
    epsilon = config["layer_norm_eps"]
    attended = self_attention(graph, x, bias, weights, f"{prefix}.attention", config)
    x = layer_norm(
        graph,
        graph.op("Add", [attended, x]),
        weights,
        f"{prefix}.attention.output.LayerNorm",
        epsilon,
    )

    hidden = gelu(graph, linear(graph, x, weights, f"{prefix}.intermediate.dense"))
    output = linear(graph, hidden, weights, f"{prefix}.output.dense")
    return layer_norm(
        graph, graph.op("Add", [output, x]), weights, f"{prefix}.output.LayerNorm", epsilon
    )


def build_model(config, weights):
    model_type, activation = config.get("model_type"), config.get("hidden_act")
    if model_type != "bert" or activation != "gelu":
        raise SystemExit(f"model must be BERT with gelu, got {model_type} with {activation}")
    if config.get("position_embedding_type", "absolute") != "absolute":
        raise SystemExit("only absolute position embeddings are supported")

    graph = GraphBuilder()
    x = embeddings(graph, weights, config["layer_norm_eps"])
    bias = attention_bias(graph)
    for index in range(config["num_hidden_layers"]):
        x = encoder_layer(graph, x, bias, weights, index, config)
    graph.nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"]))

    token_input = lambda name: helper.make_tensor_value_info(
        name, TensorProto.INT64, ["batch_size", "sequence_length"]
    )
    output = helper.make_tensor_value_info(
        "last_hidden_state",
        TensorProto.FLOAT,
        ["batch_size", "sequence_length", config["hidden_size"]],
    )
    onnx_graph = helper.make_graph(
        graph.nodes,
        "bert_encoder",
        [token_input("input_ids"), token_input("attention_mask"), token_input("token_type_ids")],
        [output],
        list(graph.initializers.values()),
    )
    model = helper.make_model(
        onnx_graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="streamcluster-build-bert-onnx",
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def write_tokenizer(source, output):
    """Copy tokenizer.json without its fixed truncation and padding (128 tokens in the
    sentence-transformers export), so the caller's max_length and dynamic padding apply."""
    tokenizer = json.loads((source / "tokenizer.json").read_text())
    tokenizer["truncation"] = None
    tokenizer["padding"] = None
    (output / "tokenizer.json").write_text(json.dumps(tokenizer, ensure_ascii=False))


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    source, output = Path(sys.argv[1]), Path(sys.argv[2])
    config = json.loads((source / "config.json").read_text())
    weights = load_file(str(source / "model.safetensors"))

    (output / "onnx").mkdir(parents=True, exist_ok=True)
    onnx.save(build_model(config, weights), str(output / "onnx" / "model.onnx"))
    for name in COPIED_FILES:
        if (source / name).exists():
            shutil.copyfile(source / name, output / name)
    if (source / "1_Pooling" / "config.json").exists():
        (output / "1_Pooling").mkdir(exist_ok=True)
        shutil.copyfile(source / "1_Pooling" / "config.json", output / "1_Pooling" / "config.json")
    write_tokenizer(source, output)


if __name__ == "__main__":
    main()
