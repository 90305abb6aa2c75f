package snn

// simulateSameStep runs T steps sweeping the layers in order, so a spike is
// integrated by the next layer in the step it is emitted. It returns the
// number of input spikes.
func (n *NetworkOf[F]) simulateSameStep(s *StateOf[F], sample, T int) int64 {
	var inputSpikes int64
	in := n.InputSize()
	enc := s.input[sample*in : (sample+1)*in]
	rec := s.Recorder
	for t := 0; t < T; t++ {
		nIn := n.encode(s, enc)
		inputSpikes += int64(nIn)
		if rec != nil {
			recordInput(rec, s.inSpikes[:nIn], sample, t)
		}
		var prev []int32
		for l := range n.layers {
			c := &n.layers[l]
			v := s.membrane[l][sample*c.out : (sample+1)*c.out]
			switch {
			case l > 0:
				integrate(v, c.bias, c.leak)
				c.addColumns(v, c.transposed, prev)
			case n.Input.Encoding == Analog:
				integrate(v, s.drive, c.leak)
			default:
				integrate(v, c.bias, c.leak)
				addSignedColumns(v, c.transposed, s.inSpikes[:nIn])
			}
			if c.integrator {
				break
			}
			k := fireAndReset(v, c.threshold, c.resetZero, s.spikes[l], s.counts[l][sample*c.out:(sample+1)*c.out])
			prev = s.spikes[l][:k]
			if rec != nil {
				record(rec, prev, sample, t, l)
			}
		}
	}
	return inputSpikes
}

// simulateNextStep runs T steps in Brian2's schedule order: every layer
// integrates its constant current, every layer thresholds, spikes are
// propagated to the next layer's membrane, and only then do spiking neurons
// reset. A spike of step t therefore counts at the next layer's threshold of
// step t+1, and a neuron reset to zero loses the input that arrived with it.
func (n *NetworkOf[F]) simulateNextStep(s *StateOf[F], sample, T int) int64 {
	var inputSpikes int64
	in := n.InputSize()
	enc := s.input[sample*in : (sample+1)*in]
	rec := s.Recorder
	nSpiking := len(n.layers)
	if n.layers[nSpiking-1].integrator {
		nSpiking--
	}
	firedCounts := s.fired
	for t := 0; t < T; t++ {
		// Integrate.
		for l := range n.layers {
			c := &n.layers[l]
			v := s.membrane[l][sample*c.out : (sample+1)*c.out]
			if l == 0 && n.Input.Encoding == Analog {
				integrate(v, s.drive, c.leak)
			} else {
				integrate(v, c.bias, c.leak)
			}
		}
		// Threshold (the encoder integrates, fires and resets here too: no
		// input reaches its membranes, so its order does not matter).
		nIn := n.encode(s, enc)
		inputSpikes += int64(nIn)
		if rec != nil {
			recordInput(rec, s.inSpikes[:nIn], sample, t)
		}
		for l := 0; l < nSpiking; l++ {
			c := &n.layers[l]
			v := s.membrane[l][sample*c.out : (sample+1)*c.out]
			firedCounts[l] = fire(v, c.threshold, s.spikes[l], s.counts[l][sample*c.out:(sample+1)*c.out])
			if rec != nil {
				record(rec, s.spikes[l][:firedCounts[l]], sample, t, l)
			}
		}
		// Propagate.
		if n.Input.Encoding != Analog {
			c := &n.layers[0]
			addSignedColumns(s.membrane[0][sample*c.out:(sample+1)*c.out], c.transposed, s.inSpikes[:nIn])
		}
		for l := 1; l < len(n.layers); l++ {
			c := &n.layers[l]
			c.addColumns(s.membrane[l][sample*c.out:(sample+1)*c.out], c.transposed, s.spikes[l-1][:firedCounts[l-1]])
		}
		// Reset.
		for l := 0; l < nSpiking; l++ {
			c := &n.layers[l]
			reset(s.membrane[l][sample*c.out:(sample+1)*c.out], c.threshold, c.resetZero, s.spikes[l][:firedCounts[l]])
		}
	}
	return inputSpikes
}

// encode produces this step's input spikes into s.inSpikes (j for a positive
// spike of input j, ^j for a negative one) and returns how many there are.
func (n *NetworkOf[F]) encode(s *StateOf[F], enc []F) int {
	k := 0
	switch n.Input.Encoding {
	case Rate:
		th := n.Input.Threshold
		cur := s.current[:len(enc)]
		for j := range enc {
			enc[j] += cur[j]
			if enc[j] >= th {
				enc[j] -= th
				s.inSpikes[k] = int32(j)
				k++
			} else if enc[j] <= -th {
				enc[j] += th
				s.inSpikes[k] = ^int32(j)
				k++
			}
		}
	case Poisson:
		src := s.Source
		for j, p := range s.prob {
			if p == 0 {
				continue
			}
			// 53 random bits -> uniform in [0, 1), as math/rand/v2 Float64.
			if float64(src.Uint64()<<11>>11)*(1.0/(1<<53)) < p {
				idx := int32(j)
				if s.current[j] < 0 {
					idx = ^idx
				}
				s.inSpikes[k] = idx
				k++
			}
		}
	}
	return k
}

// integrate applies v = leak*v + drive.
func integrate[F Float](v, drive []F, leak F) {
	drive = drive[:len(v)]
	if leak == 1 {
		for i := range v {
			v[i] += drive[i]
		}
		return
	}
	for i := range v {
		v[i] = leak*v[i] + drive[i]
	}
}

// addColumns adds column j of the (in, out) matrix wt to v for every spike j.
func addColumns[F Float](v, wt []F, spikes []int32) {
	out := len(v)
	for _, j := range spikes {
		col := wt[int(j)*out : int(j)*out+out]
		addTo(v, col)
	}
}

// addSignedColumns is addColumns for signed input spikes (^j: negative).
func addSignedColumns[F Float](v, wt []F, spikes []int32) {
	out := len(v)
	for _, j := range spikes {
		if j >= 0 {
			addTo(v, wt[int(j)*out:int(j)*out+out])
			continue
		}
		col := wt[int(^j)*out : int(^j)*out+out]
		col = col[:len(v)]
		for i, w := range col {
			v[i] -= w
		}
	}
}

func addTo[F Float](v, col []F) {
	v = v[:len(col)]
	i := 0
	for ; i+4 <= len(col); i += 4 {
		c4 := col[i : i+4 : i+4]
		v4 := v[i : i+4 : i+4]
		v4[0] += c4[0]
		v4[1] += c4[1]
		v4[2] += c4[2]
		v4[3] += c4[3]
	}
	for ; i < len(col); i++ {
		v[i] += col[i]
	}
}

// fireAndReset records the neurons at or above threshold into spikes, counts
// them and resets them at once (SameStep order); it returns how many fired.
func fireAndReset[F Float](v, threshold []F, resetZero bool, spikes, counts []int32) int {
	k := fire(v, threshold, spikes, counts)
	reset(v, threshold, resetZero, spikes[:k])
	return k
}

// fire records and counts the neurons at or above threshold without resetting
// them (NextStep order). It is branch-free: at firing rates of 10-50 % a
// branch per neuron would be mispredicted often.
func fire[F Float](v, threshold []F, spikes, counts []int32) int {
	threshold = threshold[:len(v)]
	spikes = spikes[:len(v)]
	k := 0
	for i := range v {
		spikes[k] = int32(i)
		k += b2i(v[i] >= threshold[i])
	}
	for _, i := range spikes[:k] {
		counts[i]++
	}
	return k
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func reset[F Float](v, threshold []F, resetZero bool, spikes []int32) {
	for _, i := range spikes {
		if resetZero {
			v[i] = 0
		} else {
			v[i] -= threshold[i]
		}
	}
}

func record(r *Recorder, spikes []int32, sample, step, layer int) {
	for _, i := range spikes {
		r.add(SpikeEvent{Sample: int32(sample), Step: int32(step), Layer: int32(layer), Neuron: i})
	}
}

func recordInput(r *Recorder, spikes []int32, sample, step int) {
	for _, j := range spikes {
		e := SpikeEvent{Sample: int32(sample), Step: int32(step), Layer: -1, Neuron: j}
		if j < 0 {
			e.Neuron, e.Negative = ^j, true
		}
		r.add(e)
	}
}
