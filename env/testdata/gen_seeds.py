#!/usr/bin/python3
"""Writes seeds.json: for each seed, the first three initial states that
np.random.default_rng(seed).uniform(-0.05, 0.05, size=4) yields on successive
resets of ../shared/reference/cartpole.py (float64, as hex strings).

    /usr/bin/python3 env/testdata/gen_seeds.py
"""
import json
import os

import numpy as np

SEEDS = [0, 1, 2, 42, 12345, 2**32 - 1, 2**32, 2**63 + 12345, 2**64 - 1]
out = {"description": "seed -> first 3 CartPole reset states of np.random.default_rng(seed)."
                      "uniform(-0.05, 0.05, size=4), float64 as hex", "seeds": []}
for seed in SEEDS:
    rng = np.random.default_rng(seed)
    states = [[float(v).hex() for v in rng.uniform(low=-0.05, high=0.05, size=(4,))] for _ in range(3)]
    out["seeds"].append({"seed": str(seed), "states": states})
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print("wrote", path)
