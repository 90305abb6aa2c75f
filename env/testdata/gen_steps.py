#!/usr/bin/python3
"""Writes steps.json: single CartPole steps of ../shared/reference/cartpole.py from
random states across the whole non-terminal region (|x| <= 2.4, |theta| <= 12 deg,
velocities up to +-3), float64 state before and after, as hex.

    /usr/bin/python3 env/testdata/gen_steps.py [--reference ../shared/reference/cartpole.py]
"""
import argparse
import importlib.util
import json
import os

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("--reference", default=os.path.join(here, "..", "..", "..", "shared", "reference", "cartpole.py"))
ap.add_argument("--n", type=int, default=500)
a = ap.parse_args()

spec = importlib.util.spec_from_file_location("cartpole", a.reference)
cp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cp)

rng = np.random.default_rng(7)
env = cp.CartPole("v1", seed=0)
env.reset()
cases = []
for _ in range(a.n):
    s = (float(rng.uniform(-2.4, 2.4)), float(rng.uniform(-3, 3)),
         float(rng.uniform(-cp.THETA_THRESHOLD_RADIANS, cp.THETA_THRESHOLD_RADIANS)), float(rng.uniform(-3, 3)))
    action = int(rng.integers(0, 2))
    env.state = s
    env.elapsed_steps = 0
    env.step(action)
    cases.append({"state": [v.hex() for v in s], "action": action, "next": [v.hex() for v in env.state]})
path = os.path.join(here, "steps.json")
with open(path, "w") as f:
    json.dump({"description": "one CartPole step of the reference from a random state: float64 hex",
               "cases": cases}, f, indent=0)
    f.write("\n")
print("wrote", path, len(cases), "cases")
