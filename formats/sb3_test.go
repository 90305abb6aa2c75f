package formats

import (
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/model"
)

// TestParseSB3Data reads `data` members as Stable-Baselines3 writes them:
// plain JSON, or serialized objects with their attributes as strings.
func TestParseSB3Data(t *testing.T) {
	cases := []struct {
		name, data string
		algo       string
		act        model.Kind
		alpha      float32
		actions    int
		obs        int
		err        string
	}{
		{name: "dqn_plain", data: `{"policy_class": {"__module__": "stable_baselines3.dqn.policies"}, "policy_kwargs": {"net_arch": [64, 64]},
			"action_space": {"n": 2}, "observation_space": {"_shape": [4]}}`, algo: "dqn", act: model.ReLU, actions: 2, obs: 4},
		{name: "ppo_default", data: `{"policy_class": {":type:": "<class 'abc.ABCMeta'>", ":serialized:": "gAWV", "__module__": "stable_baselines3.common.policies"},
			"policy_kwargs": {}, "action_space": {":serialized:": "gAWV", "n": "3", "_shape": "()"}, "observation_space": {"_shape": "(6,)"}}`,
			algo: "actor-critic", act: model.Tanh, actions: 3, obs: 6},
		{name: "a2c_leaky", data: `{"policy_class": {"__module__": "stable_baselines3.common.policies"},
			"policy_kwargs": {":type:": "<class 'dict'>", ":serialized:": "gAWV", "activation_fn": "<class 'torch.nn.modules.activation.LeakyReLU'>"},
			"action_space": {"n": 2}}`, algo: "actor-critic", act: model.LeakyReLU, alpha: 0.01, actions: 2},
		{name: "dqn_elu", data: `{"policy_class": {"__module__": "stable_baselines3.dqn.policies"},
			"policy_kwargs": {"activation_fn": "<class 'torch.nn.modules.activation.ELU'>"}, "action_space": {"n": 2}}`,
			algo: "dqn", act: model.ELU, alpha: 1, actions: 2},
		{name: "silu", data: `{"policy_class": {"__module__": "stable_baselines3.common.policies"},
			"policy_kwargs": {"activation_fn": "<class 'torch.nn.modules.activation.SiLU'>"}}`, err: "SiLU"},
		{name: "qrdqn", data: `{"policy_class": {"__module__": "sb3_contrib.qrdqn.policies", "__doc__": "QRDQNPolicy"}}`, err: "sb3_contrib.qrdqn.policies"},
		{name: "sac", data: `{"policy_class": {"__module__": "stable_baselines3.sac.policies"}}`, err: "sac"},
		{name: "no_class", data: `{"policy_kwargs": {}}`, err: "no policy_class"},
		{name: "not_json", data: `PK`, err: "not JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := parseSB3Data([]byte(c.data))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one naming %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Algorithm != c.algo || m.Activation != c.act || m.ActivationAlpha != c.alpha || m.Actions != c.actions || m.Observations != c.obs {
				t.Errorf("got %+v, want %s %s(%v) %d actions %d observations", m, c.algo, c.act, c.alpha, c.actions, c.obs)
			}
		})
	}
}
