"""Makes DSQN-layout spiking Q-networks of other sizes and T than the shared
fixture, with PyTorch's Q-values (../../../../shared/reference/sqn_torch.py's
SQN forward: strict threshold 1, reset by subtraction, one step of latency per
layer, Q = output membrane after T steps).

    /usr/bin/python3 gen_dsqn.py

NAME.pt holds ([W (in, out)...], [None...]) as the DSQN code saves it;
NAME_expected.npz: states, q, actions, timesteps. Random weights, seed 11.
"""
import os
import sys

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "..", "..", "shared", "reference"))
from sqn_torch import SQN  # noqa: E402

torch.manual_seed(11)
rng = np.random.default_rng(11)
states = (rng.standard_normal((300, 4)) * np.array([1.0, 1.5, 0.15, 1.5])).astype(np.float32)
for name, hidden, T, legacy, gain in [("dsqn_5_32_8_3_T10", [32, 8], 10, False, 2.0),
                                      ("dsqn_5_24_2_T35", [24], 35, True, 1.5),
                                      ("dsqn_5_16_16_16_2_T7", [16, 16, 16], 7, True, 2.5)]:
    out = 3 if name.endswith("3_T10") else 2
    q = SQN([5] + hidden + [out], T)
    with torch.no_grad():
        for w in q.weights:
            w.mul_(gain)  # spike more than at initialisation
        torch.save(([w.detach().clone() for w in q.weights], [None] * len(q.weights)), name + ".pt",
                   _use_new_zipfile_serialization=not legacy)
        qv = q(torch.from_numpy(states)).numpy().astype(np.float32)
    np.savez(name + "_expected.npz", states=states, q=qv, actions=qv.argmax(1), timesteps=np.int64(T))
    print(name, "Q range", qv.min(), qv.max())

# The SQN module's own state_dict (an nn.ParameterList: weights.0, weights.1).
q = SQN([5, 20, 2], 12)
with torch.no_grad():
    for w in q.weights:
        w.mul_(2.0)
    torch.save(q.state_dict(), "dsqn_state_dict_5_20_2_T12.pt")
    qv = q(torch.from_numpy(states)).numpy().astype(np.float32)
np.savez("dsqn_state_dict_5_20_2_T12_expected.npz", states=states, q=qv, actions=qv.argmax(1), timesteps=np.int64(12))
print("state_dict Q range", qv.min(), qv.max())
