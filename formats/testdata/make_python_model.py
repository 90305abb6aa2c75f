"""Writes python_mlp.safetensors without spikebridge (json + numpy only), so
the Go reader is checked against a file it did not write.

Run: /usr/bin/python3 make_python_model.py   (from formats/testdata)
The network is 3-4-2: fc1.weight[o, i] = 0.25*o - 0.125*i, fc1.bias[o] = -0.5*o,
fc2.weight[o, i] = 1 - 0.5*(o + i) (no bias); ReLU between, identity out.
"""
import json
import struct

import numpy as np

w1 = np.array([[0.25 * o - 0.125 * i for i in range(3)] for o in range(4)], dtype="<f4")
b1 = np.array([-0.5 * o for o in range(4)], dtype="<f4")
w2 = np.array([[1 - 0.5 * (o + i) for i in range(4)] for o in range(2)], dtype="<f4")

meta = {
    "version": 1,
    "kind": "ann",
    "input": {"size": 3, "meaning": "observation"},
    "output": {"size": 2, "meaning": "q-values"},
    "layers": [
        {"name": "fc1", "kind": "dense", "in": 3, "out": 4, "weights": "fc1.weight", "bias": "fc1.bias"},
        {"name": "relu1", "kind": "relu", "in": 4, "out": 4},
        {"name": "fc2", "kind": "dense", "in": 4, "out": 2, "weights": "fc2.weight"},
        {"name": "out", "kind": "identity", "in": 2, "out": 2},
    ],
    "provenance": {"tool": "make_python_model.py"},
}
header = {"__metadata__": {"spikebridge": json.dumps(meta)}}
data = b""
for name, arr in [("fc2.weight", w2), ("fc1.bias", b1), ("fc1.weight", w1)]:
    raw = arr.tobytes()
    header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [len(data), len(data) + len(raw)]}
    data += raw
hb = json.dumps(header).encode()
with open("python_mlp.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(hb)) + hb + data)
x = np.array([1.0, -2.0, 0.5], dtype=np.float32)
h = np.maximum(w1 @ x + b1, 0)
print("q(1, -2, 0.5) =", (w2 @ h).tolist())
