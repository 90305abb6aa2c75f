#!/usr/bin/python3
"""Writes runs.json: per-episode returns of ../shared/reference/cartpole.py under the
deterministic policy "push right iff the observed pole angle is positive", seeded
once (CartPole(version, seed=s)) and reset before each episode, as env.Run does.

    /usr/bin/python3 env/testdata/gen_runs.py
"""
import importlib.util
import json
import os

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "cartpole", os.path.join(here, "..", "..", "..", "shared", "reference", "cartpole.py"))
cp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cp)

runs = []
for version, seed, episodes in (("v1", 0, 30), ("v0", 7, 30), ("v1", 123456789, 10)):
    env = cp.CartPole(version, seed=seed)
    returns = []
    for _ in range(episodes):
        obs, _ = env.reset()
        total, done = 0.0, False
        while not done:
            obs, r, term, trunc, _ = env.step(1 if obs[2] > 0 else 0)
            total += r
            done = term or trunc
        returns.append(total)
    runs.append({"version": version, "seed": seed, "returns": returns})
path = os.path.join(here, "runs.json")
with open(path, "w") as f:
    json.dump({"description": "returns of the angle-sign policy on the reference CartPole", "runs": runs}, f)
    f.write("\n")
print("wrote", path, [r["returns"][:5] for r in runs])
