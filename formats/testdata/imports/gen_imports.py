"""Makes the small import test files in this directory (PyTorch 1.13, numpy).

    /usr/bin/python3 gen_imports.py

Each file is a kind of network users bring whose import must either match
PyTorch (NAME_expected.npz: states, out, actions) or be refused with a message
naming what is wrong. Random weights, seed 7.
"""
import io
import json
import zipfile

import numpy as np
import torch
import torch.nn as nn

torch.manual_seed(7)
rng = np.random.default_rng(7)
states = (rng.standard_normal((50, 4)) * np.array([1.0, 1.5, 0.1, 1.0])).astype(np.float32)


def expected(name, fn):
    with torch.no_grad():
        out = fn(torch.from_numpy(states)).numpy().astype(np.float32)
    np.savez(name + "_expected.npz", states=states, out=out, actions=out.argmax(1))


def lin(i, o):
    return nn.Linear(i, o)


# 1. Actor-critic with separate networks of different widths: an arch that
#    splices the critic's first layer into the actor's head must be refused.
pi = nn.Sequential(lin(4, 36), nn.ReLU(), lin(36, 2))
v = nn.Sequential(lin(4, 100), nn.ReLU(), lin(100, 1))
sd = {**{"pi." + k: t for k, t in pi.state_dict().items()}, **{"v." + k: t for k, t in v.state_dict().items()}}
torch.save(sd, "ac_splice.pt")
expected("ac_splice", pi)

# 2. A trunk with two heads whose names say nothing of their roles.
sd = {"body.0.weight": torch.randn(40, 4), "body.0.bias": torch.randn(40),
      "out_a.weight": torch.randn(2, 40), "out_a.bias": torch.randn(2),
      "out_b.weight": torch.randn(1, 40), "out_b.bias": torch.randn(1)}
torch.save(sd, "two_heads.pt")

# 3. A chain that does not connect.
torch.save({"fc1.weight": torch.randn(64, 4), "fc1.bias": torch.randn(64),
            "fc2.weight": torch.randn(2, 32), "fc2.bias": torch.randn(2)}, "broken_chain.pt")


# 4. A recurrent policy (state dict of an LSTM and a Linear head).
class LSTMPolicy(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 16)
        self.head = nn.Linear(16, 2)


torch.save(LSTMPolicy().state_dict(), "lstm_policy.pt")
torch.save(LSTMPolicy(), "lstm_policy_module.pt")

# 5. A whole Sequential with an activation spikebridge does not know.
torch.save(nn.Sequential(lin(4, 8), nn.SiLU(), lin(8, 2)), "whole_silu.pt")

# 6. A whole Sequential with LeakyReLU(0.2), ELU(0.5), Sigmoid, Dropout.
m = nn.Sequential(lin(4, 24), nn.LeakyReLU(0.2), nn.Dropout(0.1), lin(24, 24), nn.ELU(0.5), lin(24, 16), nn.Sigmoid(), lin(16, 2)).eval()
torch.save(m, "whole_leaky_elu_sigmoid.pt")
expected("whole_leaky_elu_sigmoid", m)


# 7. A dueling DQN whose streams have hidden layers.
class Dueling(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = lin(4, 32)
        self.value_stream = nn.Sequential(lin(32, 16), nn.ReLU(), lin(16, 1))
        self.advantage_stream = nn.Sequential(lin(32, 16), nn.ReLU(), lin(16, 3))

    def forward(self, x):
        h = torch.relu(self.fc(x))
        v, a = self.value_stream(h), self.advantage_stream(h)
        return v + a - a.mean(1, keepdim=True)


d = Dueling()
torch.save(d.state_dict(), "dueling_streams.pt")
expected("dueling_streams", d)


# 8. An SB3 PPO zip as SB3 writes policy_kwargs with an activation_fn (a
#    serialized dict with the attributes as strings), ReLU, net_arch as a dict.
class SB3PPO(nn.Module):
    def __init__(self):
        super().__init__()
        self.mlp_extractor = nn.Module()
        self.mlp_extractor.policy_net = nn.Sequential(lin(4, 32), nn.ReLU(), lin(32, 32), nn.ReLU())
        self.mlp_extractor.value_net = nn.Sequential(lin(4, 32), nn.ReLU(), lin(32, 32), nn.ReLU())
        self.action_net = lin(32, 2)
        self.value_net = lin(32, 1)


p = SB3PPO()
buf = io.BytesIO()
torch.save(p.state_dict(), buf)
data = {
    "policy_class": {":type:": "<class 'abc.ABCMeta'>", ":serialized:": "gAWVOwAAAAAAAACMHnN0YWJsZV9iYXNlbGluZXMzLmNvbW1vbi5wb2xpY2llc5SMEUFjdG9yQ3JpdGljUG9saWN5lJOULg==",
                     "__module__": "stable_baselines3.common.policies", "__doc__": "\n    Policy class for actor-critic algorithms\n"},
    "policy_kwargs": {":type:": "<class 'dict'>", ":serialized:": "gAWV...",
                      "activation_fn": "<class 'torch.nn.modules.activation.ReLU'>",
                      "net_arch": "{'pi': [32, 32], 'vf': [32, 32]}"},
    "observation_space": {":type:": "<class 'gymnasium.spaces.box.Box'>", ":serialized:": "gAWV...", "dtype": "float32", "_shape": "(4,)"},
    "action_space": {":type:": "<class 'gymnasium.spaces.discrete.Discrete'>", ":serialized:": "gAWV...", "n": "2", "start": "0", "_shape": "()"},
}
with zipfile.ZipFile("sb3_ppo_relu.zip", "w", compression=zipfile.ZIP_DEFLATED) as z:
    z.writestr("data", json.dumps(data, indent=4))
    z.writestr("policy.pth", buf.getvalue())
    z.writestr("pytorch_variables.pth", b"")
    z.writestr("_stable_baselines3_version", "2.3.0")


def ppo_actor(x):
    return p.action_net(p.mlp_extractor.policy_net(x))


expected("sb3_ppo_relu", ppo_actor)


# 9. A PPO-tutorial ActorCritic pickled whole: Tanh, the actor ends in a
#    Softmax. `out` is the actor's logits (the Softmax's input): the import
#    leaves the Softmax out, the argmax is the same.
class ActorCritic(nn.Module):
    def __init__(self):
        super().__init__()
        self.actor = nn.Sequential(lin(4, 20), nn.Tanh(), lin(20, 20), nn.Tanh(), lin(20, 2), nn.Softmax(dim=-1))
        self.critic = nn.Sequential(lin(4, 20), nn.Tanh(), lin(20, 20), nn.Tanh(), lin(20, 1))


ac = ActorCritic()
torch.save(ac, "whole_actor_critic_softmax.pt")
expected("whole_actor_critic_softmax", lambda x: ac.actor[:5](x))
