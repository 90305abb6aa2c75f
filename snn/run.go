package snn

import (
	"fmt"
	"math"
)

// Run simulates one decision of T steps (T = 0: n.Timesteps) for the
// observation x, writes the network's output into dst (OutputSize values, or
// nil to skip) and returns the decision. It uses sample 0 of s and allocates
// nothing. The destination comes first, as in model.Network.Forward.
func (n *NetworkOf[F]) Run(dst, x []F, s *StateOf[F], T int) (int, error) {
	T, err := n.check(s, x, 1, T, dst)
	if err != nil {
		return 0, err
	}
	return n.decide(s, 0, x, T, dst), nil
}

// RunBatch simulates one decision for each of batch observations (x is
// row-major (batch, in)), writing outputs into dst ((batch, out), or nil) and
// decisions into actions (batch values, or nil). Sample i uses slot i of s.
func (n *NetworkOf[F]) RunBatch(dst []F, actions []int, x []F, batch int, s *StateOf[F], T int) error {
	T, err := n.check(s, x, batch, T, dst)
	if err != nil {
		return err
	}
	if actions != nil && len(actions) != batch {
		return fmt.Errorf("snn: RunBatch: actions hold %d values, want batch = %d", len(actions), batch)
	}
	in, out := n.InputSize(), n.OutputSize()
	if n.lockstepFits(s, batch, T) {
		n.runLockstep(s, x, batch, T, dst, actions)
		return nil
	}
	for i := 0; i < batch; i++ {
		var d []F
		if dst != nil {
			d = dst[i*out : (i+1)*out]
		}
		a := n.decide(s, i, x[i*in:(i+1)*in], T, d)
		if actions != nil {
			actions[i] = a
		}
	}
	return nil
}

// check validates a run's arguments and resolves T.
func (n *NetworkOf[F]) check(s *StateOf[F], x []F, batch, T int, dst []F) (int, error) {
	if s == nil || s.net != n {
		return 0, fmt.Errorf("snn: run: the state was not made by this network's NewState")
	}
	if batch < 1 || batch > s.batch {
		return 0, fmt.Errorf("snn: run: batch %d outside 1..%d (the state's capacity)", batch, s.batch)
	}
	in, out := n.InputSize(), n.OutputSize()
	if len(x) != batch*in {
		return 0, fmt.Errorf("snn: run: input holds %d values, want batch*%d = %d", len(x), in, batch*in)
	}
	if dst != nil && len(dst) != batch*out {
		return 0, fmt.Errorf("snn: run: output holds %d values, want batch*%d = %d", len(dst), out, batch*out)
	}
	if i := firstNonFinite(x); i >= 0 {
		return 0, fmt.Errorf("snn: run: input [%d, %d] is %v, want a finite number", i/in, i%in, x[i])
	}
	if T == 0 {
		T = n.Timesteps
	}
	if T <= 0 {
		return 0, fmt.Errorf("snn: run: timesteps %d, want > 0 (T = 0 uses the network's Timesteps, which is %d)", T, n.Timesteps)
	}
	if T > math.MaxInt32 {
		return 0, fmt.Errorf("snn: run: timesteps %d exceed %d", T, math.MaxInt32)
	}
	if n.Input.Encoding == Poisson && s.Source == nil {
		return 0, fmt.Errorf("snn: run: Poisson encoding needs a seeded State.Source (rand.NewPCG)")
	}
	return T, nil
}

// decide runs one decision for one sample; the arguments are valid.
func (n *NetworkOf[F]) decide(s *StateOf[F], sample int, x []F, T int, dst []F) int {
	n.begin(s, sample, x)

	var inputSpikes int64
	if n.Propagation == NextStep {
		inputSpikes = n.simulateNextStep(s, sample, T)
	} else {
		inputSpikes = n.simulateSameStep(s, sample, T)
	}
	return n.finish(s, sample, T, inputSpikes, dst)
}

// finish adds one simulated decision of sample (its membranes and counts are
// in s) to the counters and returns its readout.
func (n *NetworkOf[F]) finish(s *StateOf[F], sample, T int, inputSpikes int64, dst []F) int {
	last := len(n.layers) - 1
	// Counters, from the per-neuron counts of this decision.
	c := &s.Counters
	c.Decisions++
	c.Steps += int64(T)
	c.InputSpikes += inputSpikes
	c.SynOps += inputSpikes * int64(n.layers[0].out)
	if n.Input.Encoding == Analog {
		c.InputMACs += int64(T) * int64(n.layers[0].in*n.layers[0].out)
	}
	for l := range n.layers {
		var total int64
		for _, k := range n.sampleCounts(s, l, sample) {
			total += int64(k)
		}
		c.Spikes[l] += total
		if l < last {
			c.SynOps += total * int64(n.layers[l+1].out)
		}
	}
	return n.readout(s, sample, T, dst)
}

// begin puts one sample at the start of a decision: membranes at v(0) (or
// carried), counts zeroed, and the constant input of x in s.drive,
// s.current and s.prob.
func (n *NetworkOf[F]) begin(s *StateOf[F], sample int, x []F) {
	last := len(n.layers) - 1
	if !s.CarryMembrane {
		s.initMembranes(sample)
	} else if n.layers[last].integrator {
		clear(n.sampleMembrane(s, last, sample))
	}
	for l := range n.layers {
		clear(n.sampleCounts(s, l, sample))
	}
	n.prepareInput(s, x)
}

func (n *NetworkOf[F]) sampleMembrane(s *StateOf[F], l, sample int) []F {
	w := n.layers[l].out
	return s.membrane[l][sample*w : (sample+1)*w]
}

func (n *NetworkOf[F]) sampleCounts(s *StateOf[F], l, sample int) []int32 {
	w := n.layers[l].out
	return s.counts[l][sample*w : (sample+1)*w]
}

// prepareInput computes what stays constant over a decision: the Analog
// current W (Gain x) + b, the Rate current Gain x, or the Poisson probabilities.
func (n *NetworkOf[F]) prepareInput(s *StateOf[F], x []F) {
	gain := n.Input.Gain
	switch n.Input.Encoding {
	case Analog:
		c := &n.layers[0]
		for o := range s.drive {
			row := c.weights[o*c.in : (o+1)*c.in]
			var sum F
			for i, w := range row {
				sum += w * (gain * x[i])
			}
			s.drive[o] = sum + c.bias[o]
		}
	case Rate:
		// A start at or below -threshold fires negative spikes too.
		s.negativeInput = n.Input.InitialMembrane <= -1
		for j, v := range x {
			s.current[j] = gain * v
			s.negativeInput = s.negativeInput || s.current[j] < 0
		}
	case Poisson:
		for j, v := range x {
			s.current[j] = gain * v // its sign is the spike's
			s.prob[j] = min(math.Abs(float64(gain*v)), 1)
		}
	}
}

// readout writes the output and returns the decision of one sample.
func (n *NetworkOf[F]) readout(s *StateOf[F], sample, T int, dst []F) int {
	last := len(n.layers) - 1
	v := n.sampleMembrane(s, last, sample)
	scale := n.OutputScale
	if n.layers[last].integrator {
		best := 0
		for o, a := range v {
			if dst != nil {
				dst[o] = a / F(T) * scale
			}
			if a > v[best] {
				best = o
			}
		}
		return best
	}
	counts := n.sampleCounts(s, last, sample)
	best := 0
	for o, k := range counts {
		if dst != nil {
			dst[o] = F(k) / F(T) * scale
		}
		if k > counts[best] || (k == counts[best] && v[o] > v[best]) {
			best = o
		}
	}
	return best
}
