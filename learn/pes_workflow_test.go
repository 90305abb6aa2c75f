package learn

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spikebridge/spikebridge/formats"
)

// Seed 0's workflow: learn, save, reload with learning off; the reloaded
// network gives exactly the output of the learned one run from the same
// start with learning off, and a second learning run gives the same bits.
func TestPESWorkflowSeed0(t *testing.T) {
	cfg := DefaultChannelConfig()
	cfg.Seed = 0
	learnSteps, testSteps := 5000, 2000
	if testing.Short() {
		learnSteps = 2000
	}
	input := SineInput(learnSteps, 1, 1, cfg.Dt)
	learnOnce := func() (*Channel, ChannelResult) {
		c, err := NewChannel(cfg)
		if err != nil {
			t.Fatal(err)
		}
		before := append([]float64(nil), c.Weights...)
		res, err := c.Run(input, 0.5)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Equal(before, c.Weights) {
			t.Fatal("learning left the weights unchanged")
		}
		return c, res
	}
	c, learned := learnOnce()
	again, _ := learnOnce()
	if !slices.Equal(c.Weights, again.Weights) {
		t.Fatal("a second learning run with the same seed gave different weights")
	}
	path := filepath.Join(t.TempDir(), "weights.safetensors")
	if err := SaveChannel(path, c); err != nil {
		t.Fatal(err)
	}
	// the same network twice gives the same bytes
	path2 := filepath.Join(t.TempDir(), "again.safetensors")
	if err := SaveChannel(path2, again); err != nil {
		t.Fatal(err)
	}
	b1, _ := os.ReadFile(path)
	b2, _ := os.ReadFile(path2)
	if !slices.Equal(b1, b2) {
		t.Error("saving equal networks gave different files")
	}

	testInput := SineInput(testSteps, 1, 1, cfg.Dt)
	c.Learning = false
	c.Reset()
	want, err := c.Run(testInput, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadChannel(path)
	if err != nil {
		t.Fatal(err)
	}
	loaded.Learning = false
	got, err := loaded.Run(testInput, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Decoded, want.Decoded) || !slices.Equal(loaded.Weights, c.Weights) {
		t.Fatal("the reloaded network's output differs from the learned network's")
	}
	// Untrained (zero) weights decode 0: RMSE ≈ 1/√2 against the sine.
	zero, err := NewChannel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	zero.Learning = false
	base, _ := zero.Run(testInput, 0.5)
	t.Logf("learning: error RMS over the last second %.4f; reloaded static RMSE vs input %.4f (untrained %.4f)", learned.ErrorRMSE, got.RMSE, base.RMSE)
	if !(got.RMSE < 0.2 && got.RMSE < base.RMSE/3) {
		t.Errorf("reloaded network RMSE %v, untrained %v: learning did not take", got.RMSE, base.RMSE)
	}
}

func TestLoadChannelRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultChannelConfig()
	cfg.PreNeurons, cfg.PostNeurons = 10, 12
	c, err := NewChannel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.safetensors")
	if err := SaveChannel(good, c); err != nil {
		t.Fatal(err)
	}
	tensors, md, err := formats.LoadFloat64Tensors(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, edit func(ts map[string]formats.Float64Tensor, md map[string]string)) string {
		ts := map[string]formats.Float64Tensor{}
		for k, v := range tensors {
			ts[k] = v
		}
		m := map[string]string{}
		for k, v := range md {
			m[k] = v
		}
		edit(ts, m)
		var list []formats.Float64Tensor
		for _, v := range ts {
			list = append(list, v)
		}
		p := filepath.Join(dir, name)
		if err := formats.SaveFloat64Tensors(p, list, m); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := map[string]string{
		"missing": write("missing.safetensors", func(ts map[string]formats.Float64Tensor, _ map[string]string) { delete(ts, "post.gain") }),
		"shape": write("shape.safetensors", func(ts map[string]formats.Float64Tensor, _ map[string]string) {
			w := ts["weights"]
			ts["weights"] = formats.Float64Tensor{Name: "weights", Shape: []int{1, 9}, Data: w.Data[:9]}
		}),
		"foreign":  write("foreign.safetensors", func(_ map[string]formats.Float64Tensor, m map[string]string) { delete(m, PESMetadataKey) }),
		"metadata": write("meta.safetensors", func(_ map[string]formats.Float64Tensor, m map[string]string) { m[PESMetadataKey] = "{" }),
	}
	for name, p := range cases {
		if _, err := LoadChannel(p); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %q does not name the file", name, err)
		}
	}
	if _, err := LoadChannel(good); err != nil {
		t.Fatal(err)
	}
}

// SaveChannel and LoadChannel do in tests what `learn pes --save/--load`
// does: the channel's parameters through formats' float64 safetensors.
func SaveChannel(path string, c *Channel) error {
	tensors, md, err := c.Parameters()
	if err != nil {
		return err
	}
	list := make([]formats.Float64Tensor, len(tensors))
	for i, t := range tensors {
		list[i] = formats.Float64Tensor(t)
	}
	return formats.SaveFloat64Tensors(path, list, md)
}

func LoadChannel(path string) (*Channel, error) {
	tensors, md, err := formats.LoadFloat64Tensors(path)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]Tensor, len(tensors))
	for name, t := range tensors {
		byName[name] = Tensor(t)
	}
	return ChannelFromParameters(byName, md, path)
}
