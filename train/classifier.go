package train

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/spikebridge/spikebridge/model"
)

// ClassifierConfig holds the settings of TrainClassifier: a student MLP
// trained with cross-entropy to reproduce a teacher's actions (policy
// distillation), the first step of the distillation conversion method.
type ClassifierConfig struct {
	Hidden []int   `json:"hidden"` // hidden layer widths
	Epochs int     `json:"epochs"` // passes over the data set
	Batch  int     `json:"batch"`  // mini-batch size (the whole set when larger)
	LR     float64 `json:"lr"`     // Adam learning rate
	// LRFinal > 0 decays the learning rate linearly from LR at the first
	// update to LRFinal at the last (fine boundaries need small steps at
	// the end); 0 keeps LR.
	LRFinal float64 `json:"lr_final,omitempty"`
	Seed    uint64  `json:"seed"` // seeds the initialisation and the shuffling
	// ClipFloor > 0 trains with quantisation-aware hidden activations: each
	// ReLU output is clipped to [0, 1] and rounded to ClipFloor levels,
	// floor(L h + 1/2) / L, with the gradient of the clip alone (straight
	// through). The returned network keeps plain ReLUs (model files have no
	// clip layer): convert it with unit normalisation (threshold = 1 = the
	// clip), whose IF rates reproduce the clip. 0 = off.
	ClipFloor int `json:"clip_floor"`
	// Standardize trains on inputs shifted and scaled to zero mean and unit
	// variance per column (over the states) and folds that into the first
	// layer afterwards: the same kind of network, found much faster when the
	// columns' scales differ (CartPole's pole angle is ~10x smaller than its
	// velocities).
	Standardize bool `json:"standardize,omitempty"`
	// Targets, when set, holds one probability row per sample (classes
	// values, summing to 1) that replaces the one-hot label in the
	// cross-entropy (soft targets, e.g. the teacher's softened Q-values);
	// labels still measure the accuracy.
	Targets []float32 `json:"-"`
	// Init, when set, is the starting network (same sizes), e.g. the previous
	// student of a DAgger round; it is not modified.
	Init *model.Network `json:"-"`
}

// DefaultClassifierConfig returns the settings that distilled the shared
// CartPole policies: 4-64-64-2, 30 epochs of batch 64 at lr 1e-3.
func DefaultClassifierConfig() ClassifierConfig {
	return ClassifierConfig{Hidden: []int{64, 64}, Epochs: 30, Batch: 64, LR: 1e-3, Seed: 1}
}

// ClassifierResult reports a classifier run.
type ClassifierResult struct {
	Samples int     `json:"samples"`
	Epochs  int     `json:"epochs"`
	Updates int     `json:"updates"`
	Loss    float64 `json:"loss"` // mean cross-entropy of the last epoch
	// Accuracy is the share of samples whose argmax is the label after
	// training, with clip-floor activations when ClipFloor > 0 (the network
	// an SNN with unit normalisation reproduces).
	Accuracy float64 `json:"accuracy"`
}

// TrainClassifier trains an MLP mapping states (row-major, width columns)
// to labels in [0, classes) with softmax cross-entropy and Adam, on
// Gorgonia. The same data, config and seed give bit-identical networks.
func TrainClassifier(states []float32, width int, labels []int, classes int, cfg ClassifierConfig) (*model.Network, ClassifierResult, error) {
	var res ClassifierResult
	if err := checkClassifierInputs(states, width, labels, classes, cfg); err != nil {
		return nil, res, err
	}
	sizes := append(append([]int{width}, cfg.Hidden...), classes)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed_c1a5))
	params := newQParams(sizes)
	if cfg.Init != nil {
		if err := params.copyFromNetwork(cfg.Init); err != nil {
			return nil, res, err
		}
	} else {
		params.initTorchDefault(rng)
	}
	var mean, scale []float64
	original := states
	if cfg.Standardize {
		mean, scale = columnMoments(states, width)
		params.standardizeFirstLayer(mean, scale)
		states = standardized(states, mean, scale)
	}
	n := len(labels)
	batch := min(cfg.Batch, n)
	cg, err := newClassifierGraph(params, batch, cfg.ClipFloor)
	if err != nil {
		return nil, res, err
	}
	opt := newAdam(params.tensors())
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	obs := make([]float32, batch*width)
	lab := make([]int, batch)
	var tgt []float32
	if cfg.Targets != nil {
		tgt = make([]float32, batch*classes)
	}
	totalUpdates := cfg.Epochs * (n / batch)
	for epoch := 0; epoch < cfg.Epochs; epoch++ {
		rng.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		var lossSum float64
		steps := 0
		for start := 0; start+batch <= n; start += batch {
			for k := 0; k < batch; k++ {
				r := perm[start+k]
				copy(obs[k*width:(k+1)*width], states[r*width:(r+1)*width])
				lab[k] = labels[r]
				if tgt != nil {
					copy(tgt[k*classes:(k+1)*classes], cfg.Targets[r*classes:(r+1)*classes])
				}
			}
			loss, grads, err := cg.run(obs, lab, tgt)
			if err != nil {
				return nil, res, err
			}
			if math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) {
				return nil, res, fmt.Errorf("train: classifier: epoch %d: loss is %v (diverged; lower the learning rate)", epoch+1, loss)
			}
			lr := cfg.LR
			if cfg.LRFinal > 0 && totalUpdates > 1 {
				lr += (cfg.LRFinal - cfg.LR) * float64(res.Updates) / float64(totalUpdates-1)
			}
			opt.update(params.tensors(), grads, lr)
			lossSum += float64(loss)
			steps++
			res.Updates++
		}
		res.Loss = lossSum / float64(steps)
	}
	if cfg.Standardize {
		params.unstandardizeFirstLayer(mean, scale)
		states = original
	}
	net := params.snapshot().network()
	res.Samples, res.Epochs = n, cfg.Epochs
	res.Accuracy = classifierAccuracy(params, states, labels, width, classes, batch, cfg.ClipFloor, cg.acts)
	return net, res, nil
}

// checkClassifierInputs refuses data and settings TrainClassifier cannot
// train on, naming the value.
func checkClassifierInputs(states []float32, width int, labels []int, classes int, cfg ClassifierConfig) error {
	switch {
	case width <= 0 || len(states) == 0:
		return errors.New("train: classifier: no states")
	case len(states)%width != 0:
		return fmt.Errorf("train: classifier: %d state values are not whole rows of %d", len(states), width)
	case len(states)/width != len(labels):
		return fmt.Errorf("train: classifier: %d states but %d labels", len(states)/width, len(labels))
	case classes < 2:
		return fmt.Errorf("train: classifier: %d classes, want at least 2", classes)
	case cfg.Epochs <= 0 || cfg.Batch <= 0:
		return fmt.Errorf("train: classifier: epochs %d and batch %d must be positive", cfg.Epochs, cfg.Batch)
	case !(cfg.LR > 0) || math.IsInf(cfg.LR, 0):
		return fmt.Errorf("train: classifier: learning rate %v, want > 0", cfg.LR)
	case !(cfg.LRFinal >= 0) || math.IsInf(cfg.LRFinal, 0):
		return fmt.Errorf("train: classifier: final learning rate %v, want >= 0 (0 = constant)", cfg.LRFinal)
	case cfg.ClipFloor < 0:
		return fmt.Errorf("train: classifier: clip-floor levels %d, want >= 0", cfg.ClipFloor)
	case len(cfg.Hidden) == 0:
		return errors.New("train: classifier: needs at least one hidden layer")
	case cfg.Targets != nil && len(cfg.Targets) != len(labels)*classes:
		return fmt.Errorf("train: classifier: %d target values for %d samples of %d classes", len(cfg.Targets), len(labels), classes)
	}
	for i, p := range cfg.Targets {
		if !(p >= 0 && p <= 1) {
			return fmt.Errorf("train: classifier: target of sample %d, class %d is %v, want a probability", i/classes, i%classes, p)
		}
	}
	for i, v := range states {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("train: classifier: state %d, column %d is %v, want a finite number", i/width, i%width, v)
		}
	}
	for i, l := range labels {
		if l < 0 || l >= classes {
			return fmt.Errorf("train: classifier: label %d is %d, want 0..%d", i, l, classes-1)
		}
	}
	for i, h := range cfg.Hidden {
		if h <= 0 {
			return fmt.Errorf("train: classifier: hidden layer %d width %d, want > 0", i+1, h)
		}
	}
	return nil
}

// classifierAccuracy is the share of states whose argmax is their label in
// the training-mode forward pass (clip-floor activations when clipFloor >
// 0), run in chunks of batch rows.
func classifierAccuracy(params *qParams, states []float32, labels []int, width, classes, batch, clipFloor int, acts [][]float32) float64 {
	n := len(labels)
	correct := 0
	for start := 0; start < n; start += batch {
		rows := min(batch, n-start)
		logits := params.forwardRows(states[start*width:], rows, clipFloor, acts, nil)
		for r := 0; r < rows; r++ {
			if model.Argmax(logits[r*classes:(r+1)*classes]) == labels[start+r] {
				correct++
			}
		}
	}
	return float64(correct) / float64(n)
}

// copyFromNetwork loads the Dense parameters of net, which must be an MLP of
// p's sizes.
func (p *qParams) copyFromNetwork(net *model.Network) error {
	l := 0
	for _, layer := range net.Layers() {
		if layer.Kind != model.Dense {
			continue
		}
		if l >= len(p.weights) || layer.In != p.sizes[l] || layer.Out != p.sizes[l+1] {
			return fmt.Errorf("train: classifier: initial network %s does not match the sizes %v", net, p.sizes)
		}
		copy(p.weights[l], layer.Weights)
		clear(p.biases[l])
		copy(p.biases[l], layer.Bias)
		l++
	}
	if l != len(p.weights) {
		return fmt.Errorf("train: classifier: initial network %s does not match the sizes %v", net, p.sizes)
	}
	return nil
}

// classifierGraph is the Gorgonia graph of the mean softmax cross-entropy
// of one batch, in lossGraph's transposed layout (weights shared with
// qParams). Two quantities that carry no gradient are computed in plain Go
// and fed in: the per-sample maximum logit, subtracted before exp for
// stability (log-sum-exp is shift-invariant, so the gradient is exact), and,
// with clip-floor, the rounding residual added to each clipped activation
// (the straight-through estimator).
type classifierGraph struct {
	params  *qParams
	batch   int
	levels  int
	vm      G.VM
	obsTV   *tensor.Dense
	maskTV  *tensor.Dense
	shiftV  *tensor.Dense
	resTV   []*tensor.Dense // per hidden layer (out, batch)
	grads   G.Nodes
	lossVal G.Value
	gradBuf [][]float32
	// plain-Go forward scratch: activations per layer (batch, out)
	acts [][]float32
}

func newClassifierGraph(params *qParams, batch, levels int) (*classifierGraph, error) {
	sizes := params.sizes
	in, classes := sizes[0], sizes[len(sizes)-1]
	cg := &classifierGraph{params: params, batch: batch, levels: levels}
	g := G.NewGraph()
	cg.obsTV = tensor.New(tensor.WithShape(in, batch), tensor.WithBacking(make([]float32, in*batch)))
	cg.maskTV = tensor.New(tensor.WithShape(classes, batch), tensor.WithBacking(make([]float32, classes*batch)))
	cg.shiftV = tensor.New(tensor.WithShape(1, batch), tensor.WithBacking(make([]float32, batch)))
	obsT := G.NewMatrix(g, tensor.Float32, G.WithShape(in, batch), G.WithName("obsT"), G.WithValue(cg.obsTV))
	maskT := G.NewMatrix(g, tensor.Float32, G.WithShape(classes, batch), G.WithName("maskT"), G.WithValue(cg.maskTV))
	shift := G.NewMatrix(g, tensor.Float32, G.WithShape(1, batch), G.WithName("shift"), G.WithValue(cg.shiftV))
	one := G.NewConstant(float32(1), G.WithName("one"))

	h, learnables, resTV, err := clipFloorMLP(g, params, obsT, one, batch, levels, "", "classifier")
	if err != nil {
		return nil, err
	}
	cg.resTV = resTV
	for l := 1; l < len(sizes); l++ {
		cg.acts = append(cg.acts, make([]float32, batch*sizes[l]))
	}
	// loss = mean over samples of log Σ exp(z − shift) − (z_label − shift).
	z, err := G.BroadcastSub(h, shift, nil, []byte{0})
	if err != nil {
		return nil, fmt.Errorf("train: classifier graph: shift: %w", err)
	}
	e, err := G.Exp(z)
	if err != nil {
		return nil, fmt.Errorf("train: classifier graph: exp: %w", err)
	}
	sum, err := G.Sum(e, 0)
	if err != nil {
		return nil, fmt.Errorf("train: classifier graph: sum: %w", err)
	}
	lse, err := G.Log(sum)
	if err != nil {
		return nil, fmt.Errorf("train: classifier graph: log: %w", err)
	}
	pickedAll, err := G.HadamardProd(z, maskT)
	if err != nil {
		return nil, fmt.Errorf("train: classifier graph: mask: %w", err)
	}
	picked, err := G.Sum(pickedAll, 0)
	if err != nil {
		return nil, fmt.Errorf("train: classifier graph: picked: %w", err)
	}
	nll, err := G.Sub(lse, picked)
	if err != nil {
		return nil, fmt.Errorf("train: classifier graph: nll: %w", err)
	}
	loss, err := G.Mean(nll)
	if err != nil {
		return nil, fmt.Errorf("train: classifier graph: mean: %w", err)
	}
	G.Read(loss, &cg.lossVal)
	if cg.grads, err = G.Grad(loss, learnables...); err != nil {
		return nil, fmt.Errorf("train: classifier graph: gradients: %w", err)
	}
	cg.vm = G.NewTapeMachine(g)
	cg.gradBuf = make([][]float32, len(cg.grads))
	return cg, nil
}

// forward computes, in plain Go, the logits' per-sample maximum and the
// clip-floor residuals for obs (batch, in), writing them into the graph.
func (cg *classifierGraph) forward(obs []float32) {
	p, batch := cg.params, cg.batch
	var resid [][]float32
	if cg.levels > 0 {
		resid = make([][]float32, len(cg.resTV))
		for l, rv := range cg.resTV {
			resid[l] = rv.Data().([]float32)
		}
	}
	logits := p.forwardRows(obs, batch, cg.levels, cg.acts, resid)
	shift := cg.shiftV.Data().([]float32)
	classes := p.sizes[len(p.sizes)-1]
	for s := 0; s < batch; s++ {
		shift[s] = logits[s*classes+model.Argmax(logits[s*classes:(s+1)*classes])]
	}
}

// forwardRows is the training-mode forward pass of rows samples x (rows,
// in) on gonum's sgemm: acts[l] (at least rows*out_l values) receives layer
// l's activations, hidden ones ReLU or, with levels > 0, clipped to [0, 1]
// and rounded to levels levels. When resid is non-nil, resid[l] (out_l,
// rows) receives the rounding residual q − clip of hidden layer l. It
// returns the logits (rows, classes), a view of the last acts.
func (p *qParams) forwardRows(x []float32, rows, levels int, acts, resid [][]float32) []float32 {
	prev, prevWidth := x[:rows*p.sizes[0]], p.sizes[0]
	nLayers := len(p.weights)
	impl := blas32.Implementation()
	for l := 0; l < nLayers; l++ {
		out := p.sizes[l+1]
		act := acts[l][:rows*out]
		for s := 0; s < rows; s++ {
			copy(act[s*out:(s+1)*out], p.biases[l])
		}
		impl.Sgemm(blas.NoTrans, blas.Trans, rows, out, prevWidth, 1, prev, prevWidth, p.weights[l], prevWidth, 1, act, out)
		if l < nLayers-1 {
			for s := 0; s < rows; s++ {
				row := act[s*out : (s+1)*out]
				for o, z := range row {
					z = max(z, 0)
					if levels > 0 {
						clipped := min(z, 1)
						q := float32(math.Floor(float64(clipped)*float64(levels)+0.5)) / float32(levels)
						if resid != nil {
							resid[l][o*rows+s] = q - clipped
						}
						z = q
					}
					row[o] = z
				}
			}
		}
		prev, prevWidth = act, out
	}
	return prev
}

// run computes the loss and gradients of one batch (obs (batch, in),
// labels, or targets (batch, classes) when non-nil). The gradients alias
// Gorgonia's buffers until the next run.
func (cg *classifierGraph) run(obs []float32, labels []int, targets []float32) (float32, [][]float32, error) {
	in := cg.params.sizes[0]
	ot := cg.obsTV.Data().([]float32)
	for s := 0; s < cg.batch; s++ {
		for f := 0; f < in; f++ {
			ot[f*cg.batch+s] = obs[s*in+f]
		}
	}
	mt := cg.maskTV.Data().([]float32)
	clear(mt)
	classes := cg.params.sizes[len(cg.params.sizes)-1]
	for s, a := range labels {
		if targets == nil {
			mt[a*cg.batch+s] = 1
			continue
		}
		for c := 0; c < classes; c++ {
			mt[c*cg.batch+s] = targets[s*classes+c]
		}
	}
	cg.forward(obs)
	cg.vm.Reset()
	if err := cg.vm.RunAll(); err != nil {
		return 0, nil, fmt.Errorf("train: classifier: running the graph: %w", err)
	}
	for i, gn := range cg.grads {
		cg.gradBuf[i] = gn.Value().Data().([]float32)
	}
	return cg.lossVal.Data().(float32), cg.gradBuf, nil
}

// clipFloorMLP adds to g the MLP of params over the transposed input h (in,
// batch): W x + b per layer, hidden layers ReLU or, with levels > 0,
// relu(z) − relu(z − 1) + res, where res is a fed-in constant (the rounding
// residual computed in plain Go by forwardRows), so the forward pass is the
// rounded network and the gradient the clip's (straight through). one is the
// graph's constant 1; node names start with prefix and errors with what. It
// returns the output (out, batch), the learnables W1, b1, W2, ... and the
// residual tensors (out_l, batch) of the hidden layers (clip-floor only).
func clipFloorMLP(g *G.ExprGraph, params *qParams, h, one *G.Node, batch, levels int, prefix, what string) (*G.Node, G.Nodes, []*tensor.Dense, error) {
	sizes := params.sizes
	var learnables G.Nodes
	var resTV []*tensor.Dense
	nLayers := len(sizes) - 1
	for l := 0; l < nLayers; l++ {
		out, in := sizes[l+1], sizes[l]
		wv := tensor.New(tensor.WithShape(out, in), tensor.WithBacking(params.weights[l]))
		bv := tensor.New(tensor.WithShape(out, 1), tensor.WithBacking(params.biases[l]))
		w := G.NewMatrix(g, tensor.Float32, G.WithShape(out, in), G.WithName(fmt.Sprintf("%sW%d", prefix, l+1)), G.WithValue(wv))
		b := G.NewMatrix(g, tensor.Float32, G.WithShape(out, 1), G.WithName(fmt.Sprintf("%sb%d", prefix, l+1)), G.WithValue(bv))
		learnables = append(learnables, w, b)
		z, err := G.Mul(w, h)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("train: %s graph layer %d: W x: %w", what, l+1, err)
		}
		if h, err = G.BroadcastAdd(z, b, nil, []byte{1}); err != nil {
			return nil, nil, nil, fmt.Errorf("train: %s graph layer %d: + b: %w", what, l+1, err)
		}
		if l == nLayers-1 {
			break
		}
		pre := h
		if h, err = G.Rectify(pre); err != nil {
			return nil, nil, nil, fmt.Errorf("train: %s graph layer %d: relu: %w", what, l+1, err)
		}
		if levels == 0 {
			continue
		}
		above, err := G.Sub(pre, one)
		if err == nil {
			above, err = G.Rectify(above)
		}
		if err == nil {
			h, err = G.Sub(h, above)
		}
		if err != nil {
			return nil, nil, nil, fmt.Errorf("train: %s graph layer %d: clip: %w", what, l+1, err)
		}
		rv := tensor.New(tensor.WithShape(out, batch), tensor.WithBacking(make([]float32, out*batch)))
		resTV = append(resTV, rv)
		res := G.NewMatrix(g, tensor.Float32, G.WithShape(out, batch), G.WithName(fmt.Sprintf("%sres%d", prefix, l+1)), G.WithValue(rv))
		if h, err = G.Add(h, res); err != nil {
			return nil, nil, nil, fmt.Errorf("train: %s graph layer %d: floor: %w", what, l+1, err)
		}
	}
	return h, learnables, resTV, nil
}
