package workflow

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/spikebridge/spikebridge/formats"
	"github.com/spikebridge/spikebridge/learn"
)

// PESOptions is a run of Nengo's PES learning example: learn for Duration
// seconds (and Save the network), or Load a saved network; then test with
// learning off for TestDuration seconds, leaving Settle seconds out of the
// RMSE. The input is sin(2π Freq t) in every dimension.
type PESOptions struct {
	Config       learn.ChannelConfig
	Duration     float64 // s of learning
	TestDuration float64 // s of the static test run after learning
	Settle       float64 // s left out of the test RMSE
	Freq         float64 // Hz of the input
	Save, Load   string
}

// PESResult is the result of a run (`learn pes --json`).
type PESResult struct {
	Seed            uint64  `json:"seed"`
	PreNeurons      int     `json:"pre_neurons"`
	PostNeurons     int     `json:"post_neurons"`
	LearnSteps      int     `json:"learn_steps"`
	ErrorRMSELast1s float64 `json:"error_rmse_last_second"`
	TestSteps       int     `json:"test_steps"`
	TestRMSE        float64 `json:"test_rmse_vs_input"`
	UntrainedRMSE   float64 `json:"untrained_rmse_vs_input,omitempty"`
	LearnStepsPerS  float64 `json:"learn_steps_per_s"`
	Loaded          string  `json:"loaded,omitempty"`
	Saved           string  `json:"saved,omitempty"`
	// Settle is the seconds left out of the test RMSE.
	Settle float64 `json:"-"`
}

// LearnPES runs o: learning (or loading), then the test.
func LearnPES(o PESOptions) (PESResult, error) {
	res := PESResult{Settle: o.Settle}
	if err := o.check(); err != nil {
		return res, err
	}
	var net *learn.Channel
	var err error
	if o.Load != "" {
		if net, err = LoadChannel(o.Load); err != nil {
			return res, err
		}
		res.Loaded = o.Load
	} else if net, err = learn.NewChannel(o.Config); err != nil {
		return res, err
	}
	cfg := net.Config
	res.Seed, res.PreNeurons, res.PostNeurons = cfg.Seed, cfg.PreNeurons, cfg.PostNeurons
	if o.Load == "" {
		if err := learnChannel(o, net, &res); err != nil {
			return res, err
		}
	}
	testSteps := int(math.Round(o.TestDuration / cfg.Dt))
	if testSteps > 0 {
		input := learn.SineInput(testSteps, cfg.Dimensions, o.Freq, cfg.Dt)
		net.Learning = false
		net.Reset()
		r, err := net.Run(input, o.Settle)
		if err != nil {
			return res, err
		}
		res.TestSteps, res.TestRMSE = testSteps, r.RMSE
		if o.Load == "" {
			if res.UntrainedRMSE, err = untrainedRMSE(net, input, o.Settle); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// check refuses durations, frequencies and settings that cannot run.
func (o PESOptions) check() error {
	for _, v := range []struct {
		field      string
		value, max float64
	}{{"Duration", o.Duration, 3600}, {"TestDuration", o.TestDuration, 3600}} {
		if !(v.value >= 0) || v.value > v.max {
			return invalidf("{%s} %v: want 0 to %v seconds", v.field, v.value, v.max)
		}
	}
	switch {
	case !(o.Settle >= 0) || math.IsInf(o.Settle, 0):
		return invalidf("{Settle} %v: want >= 0 seconds", o.Settle)
	case math.IsNaN(o.Freq) || math.IsInf(o.Freq, 0):
		return invalidf("{Freq} %v: want a finite frequency in Hz", o.Freq)
	case o.Load != "" && o.Save != "":
		return invalidf("{Load} and {Save}: a loaded network does not learn; save when learning")
	}
	if err := o.Config.Check(); err != nil {
		return &OptionError{Invalid: true, Err: err}
	}
	return nil
}

// learnChannel learns for o.Duration and saves the network to o.Save.
func learnChannel(o PESOptions, net *learn.Channel, res *PESResult) error {
	cfg := net.Config
	steps := int(math.Round(o.Duration / cfg.Dt))
	if steps > 0 {
		start := time.Now()
		r, err := net.Run(learn.SineInput(steps, cfg.Dimensions, o.Freq, cfg.Dt), 0)
		if err != nil {
			return err
		}
		res.LearnSteps, res.ErrorRMSELast1s = steps, r.ErrorRMSE
		res.LearnStepsPerS = float64(steps) / time.Since(start).Seconds()
	}
	if o.Save != "" {
		if err := SaveChannel(o.Save, net); err != nil {
			return err
		}
		res.Saved = o.Save
	}
	return nil
}

// untrainedRMSE is the test RMSE of net's ensembles and start with zero
// learned weights.
func untrainedRMSE(net *learn.Channel, input []float64, settle float64) (float64, error) {
	untrained, err := learn.NewChannelFrom(net.Config, net.Pre, net.Post, net.PreToError, net.PostToError, make([]float64, len(net.Weights)))
	if err != nil {
		return 0, err
	}
	untrained.InitialPre, untrained.InitialPost = net.InitialPre, net.InitialPost
	untrained.Reset()
	untrained.Learning = false
	u, err := untrained.Run(input, settle)
	if err != nil {
		return 0, err
	}
	return u.RMSE, nil
}

// ReadChannelConfig reads a JSON network configuration into c; keep(key)
// says which of its keys (JSON names, "pre_neurons") c already holds a
// value for that the file must not change. reg always comes from the
// file.
func ReadChannelConfig(path string, c *learn.ChannelConfig, keep func(key string) bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var fromFile learn.ChannelConfig = *c
	if err := json.Unmarshal(data, &fromFile); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	set := func(key string, dst, src any) {
		if keep(key) {
			return
		}
		switch d := dst.(type) {
		case *int:
			*d = *src.(*int)
		case *float64:
			*d = *src.(*float64)
		case *uint64:
			*d = *src.(*uint64)
		}
	}
	set("seed", &c.Seed, &fromFile.Seed)
	set("pre_neurons", &c.PreNeurons, &fromFile.PreNeurons)
	set("post_neurons", &c.PostNeurons, &fromFile.PostNeurons)
	set("dimensions", &c.Dimensions, &fromFile.Dimensions)
	set("learning_rate", &c.LearningRate, &fromFile.LearningRate)
	set("dt", &c.Dt, &fromFile.Dt)
	set("pre_tau", &c.PreTau, &fromFile.PreTau)
	set("synapse_tau", &c.SynapseTau, &fromFile.SynapseTau)
	c.Reg = fromFile.Reg
	return nil
}

// SaveChannel writes a PES channel's parameters (learn.Channel.Parameters)
// as float64 safetensors, atomically.
func SaveChannel(path string, c *learn.Channel) error {
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

// LoadChannel reads what SaveChannel wrote; errors name the file.
func LoadChannel(path string) (*learn.Channel, error) {
	tensors, md, err := formats.LoadFloat64Tensors(path)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]learn.Tensor, len(tensors))
	for name, t := range tensors {
		byName[name] = learn.Tensor(t)
	}
	return learn.ChannelFromParameters(byName, md, path)
}

// WriteText writes the result for people.
func (res PESResult) WriteText(w io.Writer) error {
	if res.Loaded != "" {
		fmt.Fprintf(w, "loaded %s: %d pre, %d post neurons, seed %d; learning off\n", res.Loaded, res.PreNeurons, res.PostNeurons, res.Seed)
	} else {
		fmt.Fprintf(w, "learned %d steps (%.0f steps/s): %d pre, %d post neurons, seed %d; error RMS over the last second %.4f\n",
			res.LearnSteps, res.LearnStepsPerS, res.PreNeurons, res.PostNeurons, res.Seed, res.ErrorRMSELast1s)
	}
	if res.TestSteps > 0 {
		fmt.Fprintf(w, "test, learning off, %d steps: decoded post vs input RMSE %.4f after %.2g s", res.TestSteps, res.TestRMSE, res.Settle)
		if res.Loaded == "" {
			fmt.Fprintf(w, " (untrained %.4f)", res.UntrainedRMSE)
		}
		fmt.Fprintln(w)
	}
	if res.Saved != "" {
		fmt.Fprintf(w, "saved %s\n", res.Saved)
	}
	return nil
}
