// Command snnff times spikebridge's simulator on the `ff` benchmark of
// ../shared/reference/brian2_lif.py: the 4-16-16-2 IF network with the weights,
// biases and 1000 inputs stored in snn/brian2_ff_seed1.npz, T = 100, in Brian2's
// next-step order, all inputs in one batched run. It checks the decisions
// against the fixture and prints one "RESULT {json}" line, like the reference
// script, for bench/snn_vs_brian2.sh to read. RunBatch simulates the inputs in
// lockstep chunks of 32 (batch_kernel in the result names the SIMD kernel).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/sbinet/npyio/npz"

	"github.com/spikebridge/spikebridge/snn"
)

func main() {
	fixture := flag.String("fixture", defaultFixture(), "brian2_ff_seed1.npz (weights, inputs and Brian2's decisions)")
	repeats := flag.Int("repeats", 5, "timed runs of the whole batch; the median is reported")
	minTime := flag.Duration("min-time", 200*time.Millisecond, "each timed run repeats the batch until it lasts this long")
	precision := flag.String("precision", "float64", "float64 (Brian2's arithmetic) or float32")
	flag.Parse()
	ff, err := load(*fixture)
	if err != nil {
		fmt.Fprintln(os.Stderr, "snnff:", err)
		os.Exit(1)
	}
	var res map[string]any
	switch *precision {
	case "float64":
		res, err = bench[float64](ff, *repeats, *minTime)
	case "float32":
		res, err = bench[float32](ff, *repeats, *minTime)
	default:
		err = fmt.Errorf("-precision %q: want float64 or float32", *precision)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "snnff:", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(res)
	fmt.Println("RESULT " + string(out))
}

// defaultFixture is $SPIKEBRIDGE_FIXTURES/snn/..., else ../shared/fixtures
// beside the project root (the working directory of the bench script).
func defaultFixture() string {
	dir := os.Getenv("SPIKEBRIDGE_FIXTURES")
	if dir == "" {
		dir = filepath.Join("..", "shared", "fixtures")
	}
	return filepath.Join(dir, "snn", "brian2_ff_seed1.npz")
}

type ffData struct {
	w, b     [3][]float64 // w stored (in, out)
	sizes    [4]int
	x        []float64 // (n, 4)
	n, steps int
	dec      []int64
}

func load(path string) (*ffData, error) {
	f, err := npz.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d := &ffData{}
	read := func(name string, ptr any) ([]int, error) {
		if err := f.Read(name+".npy", ptr); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return f.Header(name + ".npy").Descr.Shape, nil
	}
	for l, name := range []string{"W0", "W1", "W2"} {
		shape, err := read(name, &d.w[l])
		if err != nil {
			return nil, err
		}
		if len(shape) != 2 {
			return nil, fmt.Errorf("%s: %s has shape %v, want (in, out)", path, name, shape)
		}
		d.sizes[l], d.sizes[l+1] = shape[0], shape[1]
		if _, err := read(fmt.Sprintf("b%d", l+1), &d.b[l]); err != nil {
			return nil, err
		}
	}
	shape, err := read("X", &d.x)
	if err != nil {
		return nil, err
	}
	if len(shape) != 2 || shape[1] != d.sizes[0] {
		return nil, fmt.Errorf("%s: X has shape %v, want (n, %d)", path, shape, d.sizes[0])
	}
	d.n = shape[0]
	var steps int64
	if _, err := read("steps", &steps); err != nil {
		return nil, err
	}
	d.steps = int(steps)
	if _, err := read("decisions", &d.dec); err != nil {
		return nil, err
	}
	return d, nil
}

// network is the ff net in Brian2's semantics: the input NeuronGroup is the
// Rate encoder (IF, v(0) = 0, threshold 1), three IF layers with constant
// drive b, threshold 1, subtractive reset, v(0) = 0, next-step propagation.
func network[F snn.Float](d *ffData) (*snn.NetworkOf[F], error) {
	spec := snn.NetworkOf[F]{
		Input:     snn.InputOf[F]{Encoding: snn.Rate, Gain: 1, Threshold: 1},
		Timesteps: d.steps, Propagation: snn.NextStep, Readout: snn.Spikes, OutputScale: 1,
	}
	for l := range 3 {
		in, out := d.sizes[l], d.sizes[l+1]
		w := make([]F, in*out)
		for i := range in {
			for o := range out {
				w[o*in+i] = F(d.w[l][i*out+o])
			}
		}
		b := make([]F, out)
		for o := range b {
			b[o] = F(d.b[l][o])
		}
		spec.Layers = append(spec.Layers, snn.LayerOf[F]{Name: fmt.Sprintf("L%d", l+1), In: in, Out: out,
			Weights: w, Bias: b, Threshold: 1, Leak: 1, Reset: snn.ResetSubtract})
	}
	return snn.New(spec)
}

func bench[F snn.Float](d *ffData, repeats int, minTime time.Duration) (map[string]any, error) {
	t0 := time.Now()
	net, err := network[F](d)
	if err != nil {
		return nil, err
	}
	x := make([]F, len(d.x))
	for i, v := range d.x {
		x[i] = F(v)
	}
	state := net.NewState(d.n)
	actions := make([]int, d.n)
	build := time.Since(t0)

	// First run: correctness against Brian2's decisions, and warm-up.
	if err := net.RunBatch(nil, actions, x, d.n, state, 0); err != nil {
		return nil, err
	}
	match := 0
	for i, a := range actions {
		if int64(a) == d.dec[i] {
			match++
		}
	}
	// Wall time is what Brian2's script reports; CPU time (user + system of
	// this process, which runs one goroutine and does not allocate) shows how
	// much of the wall time was lost to other load on a shared machine.
	perDecision := make([]float64, 0, repeats)
	cpuPerDecision := make([]float64, 0, repeats)
	for range repeats {
		start, cpuStart, batches := time.Now(), cpuSeconds(), 0
		for batches == 0 || time.Since(start) < minTime {
			if err := net.RunBatch(nil, actions, x, d.n, state, 0); err != nil {
				return nil, err
			}
			batches++
		}
		perDecision = append(perDecision, time.Since(start).Seconds()/float64(batches*d.n))
		cpuPerDecision = append(cpuPerDecision, (cpuSeconds()-cpuStart)/float64(batches*d.n))
	}
	slices.Sort(perDecision)
	slices.Sort(cpuPerDecision)
	median := perDecision[len(perDecision)/2]
	cpuMedian := cpuPerDecision[len(cpuPerDecision)/2]
	c := state.Counters
	return map[string]any{
		"bench": "ff", "simulator": "spikebridge/snn", "propagation": string(net.Propagation),
		"batch_kernel": snn.BatchKernel(),
		"precision":    fmt.Sprintf("%T", F(0)), "inputs": d.n, "steps": d.steps, "repeats": repeats,
		"build_s":                    build.Seconds(),
		"decisions_per_s_median":     1 / median,
		"us_per_decision_median":     1e6 * median,
		"cpu_us_per_decision_median": 1e6 * cpuMedian,
		"match_brian2_decisions":     match,
		"spikes_per_decision":        float64(c.TotalSpikes()) / float64(c.Decisions),
		"input_spikes_per_decision":  float64(c.InputSpikes) / float64(c.Decisions),
		"synops_per_decision":        float64(c.SynOps) / float64(c.Decisions),
	}, nil
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
