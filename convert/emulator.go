package convert

import (
	"fmt"

	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/snn"
)

// ConvertRegression converts a regression network, such as a rate
// emulator, with Convert's normalisation: its output is read as a value
// (membrane integrator, accumulated input / T in the network's own units),
// never as an argmax. calib holds inputs the network sees (e.g. training
// features) and sets the layer scales. The Report's agreement figures are
// argmax shares and mean nothing for a regression output.
func ConvertRegression(net *model.Network, calib States, opts Options) (*snn.Network, Report, error) {
	s, rep, err := Convert(net, calib, opts)
	if err != nil {
		return nil, rep, err
	}
	return s, rep, nil
}

// Regressor runs a converted regression network at a fixed T on one input
// at a time, with its own state; after NewRegressor, Predict allocates
// nothing.
type Regressor struct {
	net   *snn.Network
	state *snn.State
	T     int
}

// NewRegressor returns a Regressor of s at T steps per prediction.
func NewRegressor(s *snn.Network, T int) (*Regressor, error) {
	if s == nil {
		return nil, fmt.Errorf("convert: regressor: no network")
	}
	if T <= 0 {
		return nil, fmt.Errorf("convert: regressor: timesteps %d, want T > 0", T)
	}
	return &Regressor{net: s, state: s.NewState(1), T: T}, nil
}

// Predict writes the SNN's estimate of the network output for x into dst.
func (r *Regressor) Predict(dst, x []float32) error {
	_, err := r.net.Run(dst, x, r.state, r.T)
	return err
}

// Counters are the spikes and synaptic operations of all predictions so far.
func (r *Regressor) Counters() *snn.Counters { return &r.state.Counters }
