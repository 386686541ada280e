#!/usr/bin/python3
"""Writes the ONNX models of the ONNX import tests into OUTDIR (a ctest
fixture; run with Debian's /usr/bin/python3, which has python3-torch,
python3-torchvision and python3-onnx). Random weights: the tests compare
structure, MACs and BitOps, not accuracy.

  torchvision  resnet18, resnet34 (batch 1), shufflenet_v2_x1_0 (a free batch
               dimension: its Reshape targets are computed from Shape), and
               mobilenet_v2 (a fixed batch of 2)
  qonnx_mixed  a stem conv, a 4-bit and a 2-bit QONNX Quant conv, an FC
  qdq_int8     QuantizeLinear/DequantizeLinear: int8 weights, uint8 activations
               (through a max pool)
  dilated      a dilated 3x3 conv and a ReLU6, float
"""
import json
import os
import sys

import numpy as np
import onnx
import torch
import torchvision
from onnx import TensorProto, helper, numpy_helper


def torch_macs(model, x):
    """Per-sample multiply-accumulates of every Conv2d and Linear, by module
    name, as PyTorch runs them (forward hooks): the independent reference."""
    macs, hooks = {}, []
    for name, mod in model.named_modules():
        if isinstance(mod, torch.nn.Conv2d):
            def conv_hook(m, inp, out, name=name):
                k = m.kernel_size[0] * m.kernel_size[1]
                macs[name] = out[0].numel() * (m.in_channels // m.groups) * k
            hooks.append(mod.register_forward_hook(conv_hook))
        elif isinstance(mod, torch.nn.Linear):
            def fc_hook(m, inp, out, name=name):
                macs[name] = m.in_features * m.out_features
            hooks.append(mod.register_forward_hook(fc_hook))
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return macs


def export_torchvision(out, name, batch, dynamic):
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None).eval()
    x = torch.randn(batch, 3, 224, 224)
    with open(os.path.join(out, name + ".macs.json"), "w") as f:
        json.dump(torch_macs(model, x), f, indent=1, sort_keys=True)
    axes = {"image": {0: "batch"}, "logits": {0: "batch"}} if dynamic else None
    # PRESERVE keeps the batch norms (EVAL folds them into the convs), so the
    # BitOps count them as the built-in builders do.
    torch.onnx.export(model, x, os.path.join(out, name + ".onnx"), opset_version=13,
                      training=torch.onnx.TrainingMode.PRESERVE, input_names=["image"],
                      output_names=["logits"], dynamic_axes=axes)


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def scalar(name, value, dtype=np.float32):
    return init(name, np.array(value, dtype=dtype))


def qonnx_quant(x, out, bits, signed, prefix):
    """A QONNX Quant node (scale, zero point and bit width as initializers)."""
    inits = [scalar(prefix + ".scale", 0.1), scalar(prefix + ".zeropt", 0.0),
             scalar(prefix + ".bitwidth", float(bits))]
    node = helper.make_node("Quant", [x, prefix + ".scale", prefix + ".zeropt", prefix + ".bitwidth"],
                            [out], domain="qonnx.custom_op.general", signed=int(signed), narrow=0,
                            rounding_mode="ROUND", name=prefix)
    return node, inits


def conv_weights(name, o, i, k, rng):
    return init(name, rng.standard_normal((o, i, k, k)).astype(np.float32))


def save(graph, path, opsets):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets])
    model.ir_version = 7
    onnx.save(model, path)


def qonnx_mixed(out):
    rng = np.random.default_rng(1)
    nodes, inits = [], []
    inits.append(conv_weights("stem.weight", 16, 3, 3, rng))
    nodes.append(helper.make_node("Conv", ["image", "stem.weight"], ["s"], pads=[1, 1, 1, 1],
                                  strides=[2, 2], name="stem"))
    nodes.append(helper.make_node("Relu", ["s"], ["s_relu"], name="stem_relu"))
    # conv4: 4-bit signed weights, 4-bit unsigned activations.
    for name, cin, cout, bits, w_signed, x in [("conv4", 16, 32, 4, True, "s_relu"),
                                               ("conv2", 32, 32, 2, False, "c4_relu")]:
        q, i = qonnx_quant(x, name + ".in_q", bits, False, name + ".act_quant")
        nodes.append(q)
        inits += i
        inits.append(conv_weights(name + ".weight", cout, cin, 3, rng))
        q, i = qonnx_quant(name + ".weight", name + ".w_q", bits, w_signed, name + ".weight_quant")
        nodes.append(q)
        inits += i
        y = "c4" if name == "conv4" else "c2"
        nodes.append(helper.make_node("Conv", [name + ".in_q", name + ".w_q"], [y],
                                      pads=[1, 1, 1, 1], name=name))
        nodes.append(helper.make_node("Relu", [y], [y + "_relu"], name=name + "_relu"))
    nodes.append(helper.make_node("GlobalAveragePool", ["c2_relu"], ["gap"], name="gap"))
    nodes.append(helper.make_node("Flatten", ["gap"], ["flat"], axis=1, name="flatten"))
    inits.append(init("fc.weight", rng.standard_normal((10, 32)).astype(np.float32)))
    inits.append(init("fc.bias", np.zeros(10, np.float32)))
    nodes.append(helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"], transB=1,
                                  name="fc"))
    graph = helper.make_graph(
        nodes, "qonnx-mixed", [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])], inits)
    save(graph, os.path.join(out, "qonnx_mixed.onnx"), [("", 13), ("qonnx.custom_op.general", 1)])


def qdq_int8(out):
    rng = np.random.default_rng(2)
    nodes, inits = [], []
    inits.append(conv_weights("stem.weight", 8, 3, 3, rng))
    nodes.append(helper.make_node("Conv", ["image", "stem.weight"], ["s"], pads=[1, 1, 1, 1],
                                  name="stem"))
    nodes.append(helper.make_node("Relu", ["s"], ["s_relu"], name="stem_relu"))
    inits += [scalar("act.scale", 0.05), scalar("act.zp", 0, np.uint8)]
    nodes.append(helper.make_node("QuantizeLinear", ["s_relu", "act.scale", "act.zp"], ["xq"], name="q_act"))
    nodes.append(helper.make_node("DequantizeLinear", ["xq", "act.scale", "act.zp"], ["xdq"], name="dq_act"))
    # A max pool between the pair and the conv moves quantized values: the conv still reads uint8.
    nodes.append(helper.make_node("MaxPool", ["xdq"], ["xpool"], kernel_shape=[2, 2], strides=[2, 2],
                                  name="pool"))
    inits.append(init("body.weight_int8", rng.integers(-128, 128, (16, 8, 3, 3)).astype(np.int8)))
    inits += [scalar("w.scale", 0.01), scalar("w.zp", 0, np.int8)]
    nodes.append(helper.make_node("DequantizeLinear", ["body.weight_int8", "w.scale", "w.zp"], ["wdq"],
                                  name="dq_w"))
    nodes.append(helper.make_node("Conv", ["xpool", "wdq"], ["b"], pads=[1, 1, 1, 1], name="body"))
    nodes.append(helper.make_node("Relu", ["b"], ["b_relu"], name="body_relu"))
    nodes.append(helper.make_node("GlobalAveragePool", ["b_relu"], ["gap"], name="gap"))
    nodes.append(helper.make_node("Flatten", ["gap"], ["flat"], name="flatten"))
    inits.append(init("fc.weight", rng.standard_normal((10, 16)).astype(np.float32)))
    nodes.append(helper.make_node("Gemm", ["flat", "fc.weight"], ["logits"], transB=1, name="fc"))
    graph = helper.make_graph(
        nodes, "qdq-int8", [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 16, 16])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])], inits)
    save(graph, os.path.join(out, "qdq_int8.onnx"), [("", 13)])


def dilated(out):
    """A float atrous block: the conv's pads are asymmetric but read the same inputs."""
    rng = np.random.default_rng(3)
    inits = [conv_weights("stem.weight", 8, 3, 3, rng), conv_weights("atrous.weight", 8, 8, 3, rng),
             conv_weights("head.weight", 4, 8, 1, rng), scalar("six", 6.0), scalar("zero", 0.0)]
    nodes = [
        helper.make_node("Conv", ["image", "stem.weight"], ["s"], pads=[1, 1, 1, 1], name="stem"),
        helper.make_node("Relu", ["s"], ["s_relu"], name="stem_relu"),
        helper.make_node("Conv", ["s_relu", "atrous.weight"], ["a"], pads=[2, 2, 2, 1], dilations=[2, 2],
                         strides=[2, 2], name="atrous"),
        helper.make_node("Clip", ["a", "zero", "six"], ["a6"], name="relu6"),
        helper.make_node("Conv", ["a6", "head.weight"], ["logits"], name="head"),
    ]
    graph = helper.make_graph(
        nodes, "dilated", [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 20, 20])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 4, 10, 10])], inits)
    save(graph, os.path.join(out, "dilated.onnx"), [("", 13)])


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    qonnx_mixed(out)
    qdq_int8(out)
    dilated(out)
    export_torchvision(out, "resnet18", 1, False)
    export_torchvision(out, "resnet34", 1, False)
    export_torchvision(out, "shufflenet_v2_x1_0", 1, True)
    export_torchvision(out, "mobilenet_v2", 2, False)


if __name__ == "__main__":
    main()
