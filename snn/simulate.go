package snn

// simulateSameStep runs T steps sweeping the layers in order, so a spike is
// integrated by the next layer in the step it is emitted: per layer,
// v = leak*v + bias, add the columns of this step's presynaptic spikes, fire,
// reset. It returns the number of input spikes.
func (n *NetworkOf[F]) simulateSameStep(s *StateOf[F], sample, T int) int64 {
	var inputSpikes int64
	enc, views, counts := n.sampleViews(s, sample)
	rec := s.Recorder
	analog := n.Input.Encoding == Analog
	for t := 0; t < T; t++ {
		pos, neg := n.encode(s, enc)
		inputSpikes += int64(len(pos) + len(neg))
		if rec != nil {
			recordInput(rec, pos, neg, sample, t)
		}
		var prev []int32
		for l := range n.layers {
			c := &n.layers[l]
			v := views[l]
			switch {
			case l > 0:
				c.integrate(v, c.bias, c.leak)
				c.addColumns(v, c.transposed, prev)
			case analog:
				c.integrate(v, s.drive, c.leak)
			default:
				c.integrate(v, c.bias, c.leak)
				c.addColumns(v, c.transposed, pos)
				subtractColumns(v, c.transposed, neg)
			}
			if c.integrator {
				break
			}
			k := c.fireReset(v, c.threshold, s.spikes[l], counts[l], c.resetZero)
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
//
// Each layer's membrane sees integrate, threshold, input from the layer below,
// reset, in that order, and the input of layer l comes from spikes that layer
// l-1 emitted this step; so one sweep from the input up, layer by layer, is
// the same computation as Brian2's four passes over all layers.
func (n *NetworkOf[F]) simulateNextStep(s *StateOf[F], sample, T int) int64 {
	var inputSpikes int64
	enc, views, counts := n.sampleViews(s, sample)
	rec := s.Recorder
	analog := n.Input.Encoding == Analog
	for t := 0; t < T; t++ {
		// The encoder has no input, so its own order does not matter.
		pos, neg := n.encode(s, enc)
		inputSpikes += int64(len(pos) + len(neg))
		if rec != nil {
			recordInput(rec, pos, neg, sample, t)
		}
		var prev []int32
		for l := range n.layers {
			c := &n.layers[l]
			v := views[l]
			drive := c.bias
			if l == 0 && analog {
				drive = s.drive
			}
			if c.stepNext != nil && !c.integrator {
				// The whole layer in one kernel (AVX-512).
				cols, negCols := prev, []int32(nil)
				if l == 0 {
					cols, negCols = pos, neg
				}
				k := c.stepNext(v, drive, c.threshold, c.transposed, c.leak, cols, negCols, counts[l], s.spikes[l], c.resetZero)
				prev = s.spikes[l][:k]
				if rec != nil {
					record(rec, prev, sample, t, l)
				}
				continue
			}
			k := 0
			if c.integrator {
				integrate(v, drive, c.leak)
			} else {
				k = c.integrateAndFire(v, drive, c.leak, c.fireAt, s.spikes[l])
			}
			switch {
			case l > 0:
				c.addColumns(v, c.transposed, prev)
			case !analog:
				c.addColumns(v, c.transposed, pos)
				subtractColumns(v, c.transposed, neg)
			}
			if c.integrator {
				break
			}
			prev = s.spikes[l][:k]
			c.resetCount(v, c.threshold, prev, counts[l], c.resetZero)
			if rec != nil {
				record(rec, prev, sample, t, l)
			}
		}
	}
	return inputSpikes
}

// sampleViews returns one sample's encoder membranes and, per layer, its
// membranes and spike counts, as views kept in the state.
func (n *NetworkOf[F]) sampleViews(s *StateOf[F], sample int) (enc []F, views [][]F, counts [][]int32) {
	in := n.InputSize()
	for l := range n.layers {
		w := n.layers[l].out
		s.views[l] = s.membrane[l][sample*w : (sample+1)*w]
		s.countViews[l] = s.counts[l][sample*w : (sample+1)*w]
	}
	return s.input[sample*in : (sample+1)*in], s.views, s.countViews
}

// encode produces this step's input spikes: the inputs with a positive spike
// and those with a negative one, each in ascending order. Positive spikes are
// propagated before negative ones.
func (n *NetworkOf[F]) encode(s *StateOf[F], enc []F) (pos, neg []int32) {
	kPos, kNeg := 0, 0
	switch n.Input.Encoding {
	case Rate:
		th := n.Input.Threshold
		cur := s.current[:len(enc)]
		spikes := s.inPos[:len(enc)]
		for j := range enc {
			// Branch-free: subtracting th*0 or th*1 is exact.
			x := enc[j] + cur[j]
			f := b2i(x >= th)
			enc[j] = x - th*F(f)
			spikes[kPos] = int32(j)
			kPos += f
		}
		if s.negativeInput {
			for j := range enc {
				if enc[j] <= -th {
					enc[j] += th
					s.inNeg[kNeg] = int32(j)
					kNeg++
				}
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
				if s.current[j] < 0 {
					s.inNeg[kNeg] = int32(j)
					kNeg++
				} else {
					s.inPos[kPos] = int32(j)
					kPos++
				}
			}
		}
	}
	return s.inPos[:kPos], s.inNeg[:kNeg]
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
		v[i] = F(leak*v[i]) + drive[i] // F(): never fused into an FMA (GOAMD64=v3)
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

// subtractColumns subtracts column j of the (in, out) matrix wt from v for
// every (negative) spike j.
func subtractColumns[F Float](v, wt []F, spikes []int32) {
	out := len(v)
	for _, j := range spikes {
		col := wt[int(j)*out : int(j)*out+out]
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

// fire lists the neurons at or above threshold in spikes, in ascending order,
// and returns how many there are. It is branch-free: at firing rates of
// 10-50 % a branch per neuron would often be mispredicted.
func fire[F Float](v, threshold []F, spikes []int32) int {
	threshold = threshold[:len(v)]
	spikes = spikes[:len(v)]
	k := 0
	for i := range v {
		spikes[k] = int32(i)
		k += b2i(v[i] >= threshold[i])
	}
	return k
}

// integrateAndFire is integrate followed by fire, in one pass.
func integrateAndFire[F Float](v, drive []F, leak F, threshold []F, spikes []int32) int {
	drive = drive[:len(v)]
	threshold = threshold[:len(v)]
	spikes = spikes[:len(v)]
	k := 0
	if leak == 1 {
		for i := range v {
			x := v[i] + drive[i]
			v[i] = x
			spikes[k] = int32(i)
			k += b2i(x >= threshold[i])
		}
		return k
	}
	for i := range v {
		x := F(leak*v[i]) + drive[i]
		v[i] = x
		spikes[k] = int32(i)
		k += b2i(x >= threshold[i])
	}
	return k
}

// resetAndCount resets the neurons that fired and counts their spikes.
func resetAndCount[F Float](v, threshold []F, resetZero bool, spikes, counts []int32) {
	if resetZero {
		for _, i := range spikes {
			v[i] = 0
			counts[i]++
		}
		return
	}
	for _, i := range spikes {
		v[i] -= threshold[i]
		counts[i]++
	}
}

// stepNext is one next-step layer of one sample: integrateAndFire, the
// columns of the positive and negative presynaptic spikes, resetAndCount (the
// reference for the AVX-512 kernel).
func stepNext[F Float](v, drive, threshold, wt []F, leak F, pos, neg, counts, spikes []int32, zero bool) int {
	k := integrateAndFire(v, drive, leak, threshold, spikes)
	addColumns(v, wt, pos)
	subtractColumns(v, wt, neg)
	resetAndCount(v, threshold, zero, spikes[:k], counts)
	return k
}

// fireReset is fire followed by resetAndCount of the neurons that fired.
func fireReset[F Float](v, threshold []F, spikes, counts []int32, zero bool) int {
	k := fire(v, threshold, spikes)
	resetAndCount(v, threshold, zero, spikes[:k], counts)
	return k
}

// resetCount is resetAndCount with fireReset's argument order.
func resetCount[F Float](v, threshold []F, spikes, counts []int32, zero bool) {
	resetAndCount(v, threshold, zero, spikes, counts)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func record(r *Recorder, spikes []int32, sample, step, layer int) {
	for _, i := range spikes {
		r.add(SpikeEvent{Sample: int32(sample), Step: int32(step), Layer: int32(layer), Neuron: i})
	}
}

func recordInput(r *Recorder, pos, neg []int32, sample, step int) {
	for _, j := range pos {
		r.add(SpikeEvent{Sample: int32(sample), Step: int32(step), Layer: -1, Neuron: j})
	}
	for _, j := range neg {
		r.add(SpikeEvent{Sample: int32(sample), Step: int32(step), Layer: -1, Neuron: j, Negative: true})
	}
}
