package convert

import (
	"errors"
	"fmt"
	"math"

	"github.com/spikebridge/spikebridge/env"
	"github.com/spikebridge/spikebridge/model"
	"github.com/spikebridge/spikebridge/snn"
)

// DefaultTimesteps is DESIGN.md's T sweep.
var defaultTimesteps = []int{8, 16, 32, 64, 128, 256, 512}

// DefaultTimesteps returns DESIGN.md's T sweep (8 ... 512).
func DefaultTimesteps() []int { return append([]int(nil), defaultTimesteps...) }

// CompareOptions steer Compare.
type CompareOptions struct {
	// Timesteps lists the T values to measure (each > 0).
	Timesteps []int
	// Episodes from Seed (the same initial states for ANN and SNN), or one
	// episode per row of InitStates when that is given.
	Episodes   int
	Seed       uint64
	InitStates [][]float64
	// Fixed is the recorded state set of agreement_fixed; when empty, the
	// states the ANN visits in its own episodes are used.
	Fixed States
	// Source, when set, computes the outputs of the network the SNN was
	// converted from (a distilled student) into dst; agreement_source is
	// measured against it on Fixed.
	Source func(dst, x []float32)
	// DecisiveMargin: a state is decisive when the ANN's margin between its
	// best and second-best Q exceeds it.
	DecisiveMargin float64
	// ScatterT is the T whose fixed-set outputs are kept for the Q scatter
	// plot (0: 64 if measured, else the last T).
	ScatterT int
	// Progress, when set, is called before each T is measured.
	Progress func(T int)
}

// ANNSummary is the ANN's side of a comparison.
type ANNSummary struct {
	ReturnsMean float64   `json:"returns_mean"`
	ReturnsStd  float64   `json:"returns_std"`
	Returns     []float64 `json:"returns"`
	// MarginMean is the mean |Q_best − Q_second| on the fixed states.
	MarginMean float64 `json:"margin_mean"`
	MACs       int     `json:"macs_per_decision"`
}

// TResult holds DESIGN.md's comparison metrics at one T. Agreements are
// fractions 0–1 of states where argmax SNN == argmax ANN.
type TResult struct {
	Timesteps int `json:"timesteps"`
	// AgreementOwn: on every state of the SNN's own episodes.
	AgreementOwn float64 `json:"agreement_own"`
	// AgreementFixed: on the fixed recorded state set.
	AgreementFixed float64 `json:"agreement_fixed"`
	// AgreementDecisive: on the decisive states of the SNN's own episodes
	// (ANN margin > decisive_margin); NaN-free: 1 when there are none.
	AgreementDecisive float64 `json:"agreement_decisive"`
	DecisiveStates    int     `json:"decisive_states"`
	OwnStates         int     `json:"own_states"`
	// AgreementFixedDecisive: on the decisive states of the fixed set.
	AgreementFixedDecisive float64 `json:"agreement_fixed_decisive"`
	// AgreementSource: on the fixed set, against the network the SNN was
	// converted from (only with CompareOptions.Source).
	AgreementSource *float64 `json:"agreement_source,omitempty"`
	// SourceAbsError: mean |output_snn − output_source| on the fixed set
	// (the source's units, e.g. a student's logits).
	SourceAbsError *float64  `json:"source_abs_error,omitempty"`
	SNNReturnsMean float64   `json:"snn_returns_mean"`
	SNNReturnsStd  float64   `json:"snn_returns_std"`
	SNNReturns     []float64 `json:"snn_returns"`
	// ReturnRatio is the SNN's mean return over the ANN's on the same
	// episodes (1 = the same; above 1 is a behaviour change too); 1 when
	// both are 0; absent when only the ANN's is 0 (no finite ratio).
	ReturnRatio *float64 `json:"return_ratio,omitempty"`
	// LengthDiffers is the share of episodes whose length differs from the
	// ANN's episode on the same initial state.
	LengthDiffers float64 `json:"length_differs"`
	// QAbsError is mean |Q_snn − Q_ann| over all actions of the SNN's own
	// states; QErrorMarginRatio divides it by the ANN's mean margin there.
	QAbsError         float64 `json:"q_abs_error"`
	QErrorMarginRatio float64 `json:"q_error_margin_ratio"`
	SpikesPerDecision float64 `json:"spikes_per_decision"`
	SynOpsPerDecision float64 `json:"synops_per_decision"`
	// InputMACsPerDecision: the analog first layer's multiply-accumulates.
	InputMACsPerDecision float64 `json:"input_macs_per_decision"`
	ANNMACsPerDecision   int     `json:"ann_macs_per_decision"`
}

// Comparison is the result of Compare.
type Comparison struct {
	Episodes       int        `json:"episodes"`
	DecisiveMargin float64    `json:"decisive_margin"`
	FixedStates    int        `json:"fixed_states"`
	ANN            ANNSummary `json:"ann"`
	Results        []TResult  `json:"results"`
	// Scatter holds the fixed-set outputs at ScatterT (for plots).
	ScatterT      int       `json:"-"`
	ScatterSource bool      `json:"-"`
	ScatterANN    []float32 `json:"-"`
	ScatterSNN    []float32 `json:"-"`
	// RasterState is the first fixed state (for a spike raster).
	RasterState []float32 `json:"-"`
}

// CheckTimesteps reports a T list that cannot be run.
func CheckTimesteps(ts []int) error {
	if len(ts) == 0 {
		return errors.New("no timesteps given")
	}
	for _, t := range ts {
		if t <= 0 {
			return fmt.Errorf("timesteps %d, want T > 0", t)
		}
	}
	return nil
}

// margin is |best − second best| of q.
func margin(q []float32) float32 {
	best := model.Argmax(q)
	second := float32(math.Inf(-1))
	for i, v := range q {
		if i != best && v > second {
			second = v
		}
	}
	if math.IsInf(float64(second), -1) {
		return 0
	}
	return q[best] - second
}

// comparingPolicy acts with the SNN and tallies, on every state it is shown,
// the ANN's opinion.
type comparingPolicy struct {
	ann      *model.Network
	ws       *model.Workspace
	q        []float32
	snn      *snn.Network
	state    *snn.State
	out      []float32
	T        int
	decisive float32
	err      error

	steps, agree, decisiveSteps, decisiveAgree int
	qErr, marginSum                            float64
}

func (p *comparingPolicy) Act(obs []float32) int {
	p.ann.Forward(p.q, obs, p.ws)
	a, err := p.snn.Run(p.out, obs, p.state, p.T)
	if err != nil && p.err == nil {
		p.err = err
	}
	annAction := model.Argmax(p.q)
	m := margin(p.q)
	p.steps++
	p.marginSum += float64(m)
	if a == annAction {
		p.agree++
	}
	if m > p.decisive {
		p.decisiveSteps++
		if a == annAction {
			p.decisiveAgree++
		}
	}
	for i, v := range p.q {
		p.qErr += math.Abs(float64(p.out[i] - v))
	}
	return a
}

// Compare plays the ANN and then, for each T, the SNN on the same initial
// states of e and measures DESIGN.md's comparison metrics.
func Compare(e env.Env, ann *model.Network, s *snn.Network, opts CompareOptions) (*Comparison, error) {
	if err := checkCompareInputs(e, ann, s, opts); err != nil {
		return nil, fmt.Errorf("convert: compare: %w", err)
	}
	run := env.RunOptions{Episodes: opts.Episodes, Seed: opts.Seed, InitStates: opts.InitStates}
	annRun := run
	annRun.RecordStates = opts.Fixed.Rows() == 0
	annRes, err := env.Run(e, model.NewQPolicy(ann), annRun)
	if err != nil {
		return nil, fmt.Errorf("convert: compare: ANN episodes: %w", err)
	}
	fixed := opts.Fixed
	if fixed.Rows() == 0 {
		fixed = States{Width: ann.InputSize()}
		for _, x := range annRes.States {
			fixed.Data = append(fixed.Data, x...)
		}
	}
	if err := fixed.Check(ann.InputSize()); err != nil {
		return nil, fmt.Errorf("convert: compare: fixed states: %w", err)
	}
	out := &Comparison{Episodes: len(annRes.Returns), DecisiveMargin: opts.DecisiveMargin, FixedStates: fixed.Rows()}
	out.ANN.Returns = annRes.Returns
	out.ANN.ReturnsMean, out.ANN.ReturnsStd = MeanStd(annRes.Returns)
	out.ANN.MACs = ann.MACs()
	out.ScatterSource = opts.Source != nil
	out.RasterState = append([]float32(nil), fixed.Row(0)...)
	ref := newFixedReference(ann, fixed, opts.Source)
	out.ANN.MarginMean = ref.marginMean
	scatterT := scatterTimesteps(opts)
	snnOut := make([]float32, ann.OutputSize())
	for _, T := range opts.Timesteps {
		if opts.Progress != nil {
			opts.Progress(T)
		}
		res := TResult{Timesteps: T, ANNMACsPerDecision: ann.MACs()}
		if err := ref.measure(&res, out, s, snnOut, T == scatterT, float32(opts.DecisiveMargin)); err != nil {
			return nil, err
		}
		p := &comparingPolicy{ann: ann, ws: ann.NewWorkspace(1), q: make([]float32, ann.OutputSize()), snn: s,
			state: s.NewState(1), out: make([]float32, ann.OutputSize()), T: T, decisive: float32(opts.DecisiveMargin)}
		snnRes, err := env.Run(e, p, run)
		if err != nil {
			return nil, fmt.Errorf("convert: compare: T=%d: SNN episodes: %w", T, err)
		}
		if p.err != nil {
			return nil, fmt.Errorf("convert: compare: T=%d: %w", T, p.err)
		}
		p.fill(&res)
		res.SNNReturns = snnRes.Returns
		res.SNNReturnsMean, res.SNNReturnsStd = MeanStd(snnRes.Returns)
		res.ReturnRatio = returnRatio(res.SNNReturnsMean, out.ANN.ReturnsMean)
		res.LengthDiffers = lengthDiffers(snnRes.Lengths, annRes.Lengths)
		out.Results = append(out.Results, res)
	}
	return out, nil
}

// checkCompareInputs reports networks and an environment that do not fit
// together, and a T list or decisive margin that cannot be used.
func checkCompareInputs(e env.Env, ann *model.Network, s *snn.Network, opts CompareOptions) error {
	if e == nil || ann == nil || s == nil {
		return errors.New("needs an environment, an ANN and an SNN")
	}
	if err := CheckTimesteps(opts.Timesteps); err != nil {
		return err
	}
	if ann.InputSize() != s.InputSize() || ann.OutputSize() != s.OutputSize() {
		return fmt.Errorf("the ANN is %s but the SNN is %s", ann, s)
	}
	if ann.InputSize() != e.ObservationSize() || ann.OutputSize() != e.NumActions() {
		return fmt.Errorf("the networks map %d inputs to %d outputs, the environment has %d observations and %d actions",
			ann.InputSize(), ann.OutputSize(), e.ObservationSize(), e.NumActions())
	}
	if math.IsNaN(opts.DecisiveMargin) || opts.DecisiveMargin < 0 {
		return fmt.Errorf("decisive margin %v, want >= 0", opts.DecisiveMargin)
	}
	return nil
}

// scatterTimesteps is the T whose fixed-set outputs are kept for the Q
// scatter plot: opts.ScatterT, else 64 if measured, else the last T.
func scatterTimesteps(opts CompareOptions) int {
	if opts.ScatterT != 0 {
		return opts.ScatterT
	}
	scatterT := opts.Timesteps[len(opts.Timesteps)-1]
	for _, t := range opts.Timesteps {
		if t == 64 {
			scatterT = 64
		}
	}
	return scatterT
}

// fixedReference is the ANN's (and the source network's) view of the fixed
// state set, computed once for every T.
type fixedReference struct {
	states        States
	nOut          int
	q             []float32 // the ANN's outputs, one row per state
	marginMean    float64
	sourceActions []int     // nil without a source
	qSource       []float32 // the source's outputs
}

func newFixedReference(ann *model.Network, fixed States, source func(dst, x []float32)) *fixedReference {
	nOut := ann.OutputSize()
	rows := fixed.Rows()
	ref := &fixedReference{states: fixed, nOut: nOut, q: make([]float32, rows*nOut)}
	ws := ann.NewWorkspace(1)
	var marginSum float64
	for r := 0; r < rows; r++ {
		q := ref.q[r*nOut : (r+1)*nOut]
		ann.Forward(q, fixed.Row(r), ws)
		marginSum += float64(margin(q))
	}
	ref.marginMean = marginSum / float64(rows)
	if source != nil {
		sq := make([]float32, nOut)
		for r := 0; r < rows; r++ {
			source(sq, fixed.Row(r))
			ref.sourceActions = append(ref.sourceActions, model.Argmax(sq))
			ref.qSource = append(ref.qSource, sq...)
		}
	}
	return ref
}

// measure runs the SNN at res.Timesteps on every fixed state and fills the
// fixed-set agreements of res; with scatter it keeps the outputs in out.
func (ref *fixedReference) measure(res *TResult, out *Comparison, s *snn.Network, snnOut []float32, scatter bool, decisiveMargin float32) error {
	T, nOut, rows := res.Timesteps, ref.nOut, ref.states.Rows()
	state := s.NewState(1)
	agree, agreeSource, decisive, decisiveAgree := 0, 0, 0, 0
	var sourceErr float64
	for r := 0; r < rows; r++ {
		a, err := s.Run(snnOut, ref.states.Row(r), state, T)
		if err != nil {
			return fmt.Errorf("convert: compare: T=%d: fixed state %d: %w", T, r, err)
		}
		q := ref.q[r*nOut : (r+1)*nOut]
		annAction := model.Argmax(q)
		if a == annAction {
			agree++
		}
		if margin(q) > decisiveMargin {
			decisive++
			if a == annAction {
				decisiveAgree++
			}
		}
		reference := q
		if ref.sourceActions != nil {
			reference = ref.qSource[r*nOut : (r+1)*nOut]
			if a == ref.sourceActions[r] {
				agreeSource++
			}
			for i, v := range reference {
				sourceErr += math.Abs(float64(snnOut[i] - v))
			}
		}
		if scatter {
			out.ScatterT = T
			out.ScatterANN = append(out.ScatterANN, reference...)
			out.ScatterSNN = append(out.ScatterSNN, snnOut...)
		}
	}
	res.AgreementFixed = float64(agree) / float64(rows)
	res.AgreementFixedDecisive = ratioOrOne(decisiveAgree, decisive)
	if ref.sourceActions != nil {
		v := float64(agreeSource) / float64(rows)
		res.AgreementSource = &v
		e := sourceErr / float64(rows*nOut)
		res.SourceAbsError = &e
	}
	return nil
}

// fill sets the own-trajectory figures of res from the tallies of an SNN
// run: agreements, Q error and the spike counters.
func (p *comparingPolicy) fill(res *TResult) {
	nOut := len(p.q)
	res.OwnStates, res.DecisiveStates = p.steps, p.decisiveSteps
	res.AgreementOwn = ratioOrOne(p.agree, p.steps)
	res.AgreementDecisive = ratioOrOne(p.decisiveAgree, p.decisiveSteps)
	if p.steps > 0 {
		res.QAbsError = p.qErr / float64(p.steps*nOut)
		if p.marginSum > 0 {
			res.QErrorMarginRatio = res.QAbsError / (p.marginSum / float64(p.steps))
		}
	}
	c := &p.state.Counters
	if c.Decisions > 0 {
		d := float64(c.Decisions)
		res.SpikesPerDecision = float64(c.TotalSpikes()) / d
		res.SynOpsPerDecision = float64(c.SynOps) / d
		res.InputMACsPerDecision = float64(c.InputMACs) / d
	}
}

// returnRatio is snn/ann, 1 when both are 0 and nil when only the ANN's is
// (JSON has no infinity).
func returnRatio(snnMean, annMean float64) *float64 {
	r := 1.0
	switch {
	case annMean != 0:
		r = snnMean / annMean
	case snnMean != 0:
		return nil
	}
	return &r
}

// lengthDiffers is the share of episodes i with a[i] != b[i].
func lengthDiffers(a, b []int) float64 {
	if len(a) == 0 {
		return 0
	}
	n := 0
	for i := range a {
		if i >= len(b) || a[i] != b[i] {
			n++
		}
	}
	return float64(n) / float64(len(a))
}

func ratioOrOne(num, den int) float64 {
	if den == 0 {
		return 1
	}
	return float64(num) / float64(den)
}

// MeanStd returns the mean and the population standard deviation (numpy's
// default) of v; zeros for none.
func MeanStd(v []float64) (mean, std float64) {
	if len(v) == 0 {
		return 0, 0
	}
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		std += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(std / float64(len(v)))
}

// Raster runs one decision of s at T on x with spike recording and returns
// the events (at most capacity; dropped counts what did not fit).
func Raster(s *snn.Network, x []float32, T, capacity int) (events []snn.SpikeEvent, dropped int64, err error) {
	state := s.NewState(1)
	state.Recorder = &snn.Recorder{Events: make([]snn.SpikeEvent, 0, capacity)}
	if _, err := s.Run(nil, x, state, T); err != nil {
		return nil, 0, fmt.Errorf("convert: raster: %w", err)
	}
	return state.Recorder.Events, state.Recorder.Dropped, nil
}

// SNNPolicy acts with a spiking network at a fixed T; it implements
// env.Policy. An error of the simulator (a non-finite observation) is kept
// in Err and the policy then acts 0.
type SNNPolicy struct {
	Net   *snn.Network
	T     int
	state *snn.State
	out   []float32
	Err   error
}

// NewSNNPolicy returns a policy running s at T steps per decision (T = 0:
// the network's default).
func NewSNNPolicy(s *snn.Network, T int) (*SNNPolicy, error) {
	if T == 0 {
		T = s.Timesteps
	}
	if T <= 0 {
		return nil, fmt.Errorf("convert: timesteps %d, want T > 0 (the network's default is %d)", T, s.Timesteps)
	}
	return &SNNPolicy{Net: s, T: T, state: s.NewState(1), out: make([]float32, s.OutputSize())}, nil
}

// Act returns the SNN's decision for obs.
func (p *SNNPolicy) Act(obs []float32) int {
	a, err := p.Net.Run(p.out, obs, p.state, p.T)
	if err != nil {
		if p.Err == nil {
			p.Err = err
		}
		return 0
	}
	return a
}

// Output returns the outputs of the last decision (shared).
func (p *SNNPolicy) Output() []float32 { return p.out }

// Counters returns the policy's accumulated spike and SynOp counters.
func (p *SNNPolicy) Counters() *snn.Counters { return &p.state.Counters }
