#!/usr/bin/python3
"""Writes the small ONNX files of the bad-input catalogue and the ONNX fuzz
corpus (Debian's /usr/bin/python3 with python3-onnx). Run from this
directory; the outputs are committed (a few hundred bytes each).

  onnx_tiny.onnx           a valid conv -> relu -> pool -> FC model (the
                           truncated case cuts it; the fuzz corpus seeds on it)
  onnx_unsupported_op.onnx a Sigmoid node
  onnx_dynamic_shape.onnx  an input whose height and width are symbolic
  onnx_wrong_opset.onnx    opset 99 of the default domain
  onnx_asymmetric_pad.onnx pads (0, 0, 1, 1) that change what a stride-2 conv reads
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def model(nodes, inits, in_dims, out_dims, opset=13, name="tiny"):
    graph = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info("image", TensorProto.FLOAT, in_dims)],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, out_dims)], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 7
    m.producer_name = "palsim craft_onnx.py"
    return m


def weights(name, shape):
    return numpy_helper.from_array(np.full(shape, 0.5, np.float32), name)


def tiny(act="Relu", pads=(1, 1, 1, 1), in_dims=(1, 3, 8, 8), opset=13):
    inits = [weights("conv.weight", (4, 3, 3, 3)), weights("fc.weight", (5, 4))]
    nodes = [
        helper.make_node("Conv", ["image", "conv.weight"], ["c"], pads=list(pads), strides=[2, 2],
                         name="conv"),
        helper.make_node(act, ["c"], ["r"], name="act"),
        helper.make_node("GlobalAveragePool", ["r"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fc.weight"], ["logits"], transB=1, name="fc"),
    ]
    return model(nodes, inits, list(in_dims), [1, 5], opset)


onnx.save(tiny(), "onnx_tiny.onnx")
onnx.save(tiny(act="Sigmoid"), "onnx_unsupported_op.onnx")
onnx.save(tiny(in_dims=(1, 3, "height", "width")), "onnx_dynamic_shape.onnx")
onnx.save(tiny(opset=99), "onnx_wrong_opset.onnx")
onnx.save(tiny(pads=(0, 0, 1, 1)), "onnx_asymmetric_pad.onnx")
