package export

// pyPrelude opens every script: header, configuration, argument handling,
// and the readout shared by all targets (as snn decides).
const pyPrelude = `#!/usr/bin/env python3
@HEADER@"""Rebuilds a spikebridge spiking network in another simulator.

Usage: python3 THIS.py INPUT.npz RESULT.npz [options]
INPUT.npz holds 'states' (rows, inputs). RESULT.npz gets 'actions' (rows,),
'outputs' (rows, outputs) and 'spike_counts_<layer>' (rows, neurons) for every
spiking layer. The weights are read from the .npz beside this script.
"""
import json
import os
import sys

import numpy as np

CONFIG = json.loads(r'''@CONFIG@''')
WEIGHTS = os.path.splitext(os.path.abspath(__file__))[0] + ".npz"


def load_inputs(path):
    with np.load(path) as f:
        if "states" not in f:
            sys.exit("%s: no 'states' array (want (rows, %d))" % (path, CONFIG["input_size"]))
        x = np.asarray(f["states"], dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != CONFIG["input_size"]:
        sys.exit("%s: states of shape %s, want (rows, %d)" % (path, x.shape, CONFIG["input_size"]))
    return x


def analog_drive(P, x):
    """W (gain x) + b of the first layer, summed in snn's order."""
    w, b = P["layer0_weight"].astype(np.float64), P["layer0_bias"].astype(np.float64)
    gain = CONFIG["gain"]
    drive = np.zeros((x.shape[0], w.shape[0]))
    for i in range(w.shape[1]):
        drive = drive + w[:, i][None, :] * (gain * x[:, i])[:, None]
    return drive + b[None, :]


def readout(v_last, counts_last):
    """outputs and actions as snn computes them."""
    T, scale = CONFIG["timesteps"], CONFIG["output_scale"]
    rows = v_last.shape[0]
    actions = np.zeros(rows, dtype=np.int64)
    if CONFIG["layers"][-1]["integrator"]:
        outputs = v_last / T * scale
        actions[:] = np.argmax(v_last, axis=1)  # ties: lowest index
        return outputs, actions
    outputs = counts_last / T * scale
    for r in range(rows):
        best = 0
        for o in range(1, counts_last.shape[1]):
            k, kb = counts_last[r, o], counts_last[r, best]
            if k > kb or (k == kb and v_last[r, o] > v_last[r, best]):
                best = o
        actions[r] = best
    return outputs, actions


def save(path, outputs, actions, counts):
    arrays = {"actions": actions, "outputs": outputs}
    for layer, c in zip(CONFIG["layers"], counts):
        if not layer["integrator"]:
            arrays["spike_counts_" + layer["key"]] = c.astype(np.int64)
    np.savez(path, **arrays)


def chunks(rows, batch):
    for start in range(0, rows, batch):
        yield start, min(start + batch, rows)
`
