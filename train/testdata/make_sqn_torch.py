#!/usr/bin/python3
"""Writes sqn_torch.npz: Q-values and one batch's gradients of sqn_torch.py's SQN.

The network is ../../../shared/reference/sqn_torch.py's SQN (DSQN semantics,
5-64-64-2, T = 20, torch.manual_seed(7)); weights are stored (in, out) as
there. The file holds W0, W1, W2, 1000 observations `states` with their Q
`q`, and for the first 64 states, actions `act` and targets `tgt`, the MSE
loss and the gradients gW0, gW1, gW2 of loss.backward() (before clamping).
Run: /usr/bin/python3 make_sqn_torch.py (from this directory).
"""
import os, sys
import numpy as np
import torch
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/reference"))
from sqn_torch import SQN  # noqa: E402

torch.manual_seed(7)
rng = np.random.default_rng(7)
q = SQN([5, 64, 64, 2], 20)
states = (rng.standard_normal((1000, 4)) * np.array([0.5, 0.8, 0.08, 0.8])).astype(np.float32)
with torch.no_grad():
    qv = q(torch.from_numpy(states)).numpy()
bo = torch.from_numpy(states[:64])
act = rng.integers(0, 2, 64)
tgt = (rng.random(64) * 10).astype(np.float32)
qsa = q(bo).gather(1, torch.from_numpy(act).unsqueeze(1)).squeeze(1)
loss = ((qsa - torch.from_numpy(tgt)) ** 2).mean()
loss.backward()
out = dict(states=states, q=qv, act=act.astype(np.int64), tgt=tgt, loss=np.float32(loss.item()))
for i, w in enumerate(q.weights):
    out[f"W{i}"] = w.detach().numpy()
    out[f"gW{i}"] = w.grad.numpy()
np.savez(os.path.join(os.path.dirname(os.path.abspath(__file__)), "sqn_torch.npz"), **out)
print("loss", loss.item(), "q[0]", qv[0])
