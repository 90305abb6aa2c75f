package export

import (
	"math"

	"github.com/spikebridge/spikebridge/snn"
)

// PyNNScript writes a PyNN 0.10 script for net with the standard
// IF_curr_delta cell (simulator chosen by --simulator on the script:
// nest, brian2, neuron or spiNNaker). The cell's limits are graded per layer:
// it resets to v_reset (never by subtraction), spikes at v > v_thresh, and
// spikes take at least one step (min_delay) on top of the step the
// threshold test takes, so every layer after the first sees its input one
// step later than in snn's next-step mode; a membrane readout becomes a cell
// whose threshold is out of reach.
func PyNNScript(net *snn.Network, opts Options) (*Script, error) {
	c, arrays, err := describe(net, PyNN, opts)
	if err != nil {
		return nil, err
	}
	in := inputGrade(net)
	if net.Input.Encoding == snn.Rate {
		in.Grade = Approximate
		in.Note = "rate encoder precomputed as SpikeSourceArray spike times (negative spikes through a second source with negated weights), each one step (min_delay) late"
	}
	c.Grades = append(c.Grades, in)
	for i, l := range net.Layers {
		g := LayerGrade{Layer: c.Layers[i].Name, Grade: Faithful}
		var notes []string
		integrator := c.Layers[i].Integrator
		switch {
		case integrator:
			notes = append(notes, "membrane readout as an IF_curr_delta cell with an unreachable threshold")
		default:
			if l.Reset != snn.ResetZero {
				notes = append(notes, "reset by subtraction is not in PyNN's standard cells: resets to v_reset = 0")
			}
		}
		if i > 0 || net.Input.Encoding == snn.Rate {
			notes = append(notes, "on nest, neuron and spiNNaker spikes arrive one step later than in snn's next-step mode (their minimum delay is one step; on brian2 the script uses delay 0)")
		}
		notes = append(notes, "PyNN's units (mV, nA, nF) scale every value, so float rounding differs from snn's")
		if net.Propagation != snn.NextStep && i > 0 {
			notes = append(notes, "the network runs same-step in snn")
		}
		if l.Leak != 1 && !math.IsInf(-1/math.Log(float64(l.Leak)), 0) {
			notes = append(notes, "leak as tau_m = -dt/ln(leak), integrated by the simulator")
		}
		if len(notes) > 0 {
			g.Grade, g.Note = Approximate, joinNotes(notes)
		}
		c.Grades = append(c.Grades, g)
	}
	return render(pyPrelude+pynnBody, c, arrays)
}

func joinNotes(notes []string) string {
	s := notes[0]
	for _, n := range notes[1:] {
		s += "; " + n
	}
	return s
}

const pynnBody = `

def encoder_spikes(x):
    """snn's rate encoder (IF input neurons, signed spikes) as spike times."""
    T, th = CONFIG["timesteps"], CONFIG["input_threshold"]
    v = np.full(x.shape, CONFIG["input_initial_membrane"] * th)
    pos = [[[] for _ in range(x.shape[1])] for _ in range(x.shape[0])]
    neg = [[[] for _ in range(x.shape[1])] for _ in range(x.shape[0])]
    cur = CONFIG["gain"] * x
    for t in range(T):
        v = v + cur
        up = v >= th
        v = np.where(up, v - th, v)
        down = (~up) & (v <= -th)
        v = np.where(down, v + th, v)
        for r, i in zip(*np.nonzero(up)):
            pos[r][i].append(float(t))
        for r, i in zip(*np.nonzero(down)):
            neg[r][i].append(float(t))
    return pos, neg


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("result")
    ap.add_argument("--simulator", default="brian2", choices=["nest", "brian2", "neuron", "spiNNaker"])
    a = ap.parse_args()
    import importlib
    import warnings
    warnings.filterwarnings("ignore")
    sim = importlib.import_module("pyNN." + a.simulator)
    P = np.load(WEIGHTS)
    x = load_inputs(a.input)
    rows, T, layers = x.shape[0], CONFIG["timesteps"], CONFIG["layers"]
    batch = max(1, min(rows, CONFIG["batch"]))
    rate = CONFIG["encoding"] == "rate"
    dt = 1.0  # ms; one snn step
    # Brian2 delivers a spike of delay 0 after the threshold test of its own
    # step: snn's next-step schedule. The other simulators need one step.
    delay = 0.0 if a.simulator == "brian2" else dt
    sim.setup(timestep=dt, min_delay=dt)
    if a.simulator == "brian2":
        import brian2
        brian2.prefs.codegen.target = "numpy"

    pops = []
    for l, layer in enumerate(layers):
        n = layer["out"]
        leak = layer["leak"]
        tau_m = -dt / np.log(leak) if leak < 1 else 1e12
        # v = leak*v + b per step: a constant current i with (1 - leak) tau_m i / cm = b.
        per_step = (1 - leak) * tau_m if leak < 1 else dt
        theta = np.tile(P["layer%d_threshold" % l].astype(np.float64), batch)
        if layer["integrator"]:
            theta = np.full(batch * n, 1e30)
        elif not layer["strict"]:
            theta = np.nextafter(theta, -np.inf)  # v > prev(theta) is v >= theta
        cell = sim.IF_curr_delta(tau_m=tau_m, cm=1.0, v_rest=0.0, v_reset=0.0, v_thresh=theta,
                                 tau_refrac=0.0, i_offset=0.0)
        p = sim.Population(batch * n, cell, label="L%d" % l)
        p.record(["spikes", "v"] if l == len(layers) - 1 else "spikes")
        p._per_step = per_step
        pops.append(p)
    pre_pops = pops[:-1]
    sources = []
    if rate:
        n_in = CONFIG["input_size"]
        src_pos = sim.Population(batch * n_in, sim.SpikeSourceArray(spike_times=[[] for _ in range(batch * n_in)]), label="in+")
        src_neg = sim.Population(batch * n_in, sim.SpikeSourceArray(spike_times=[[] for _ in range(batch * n_in)]), label="in-")
        sources = [(src_pos, pops[0], 0, 1.0), (src_neg, pops[0], 0, -1.0)]
    for l in range(1, len(layers)):
        sources.append((pre_pops[l - 1], pops[l], l, 1.0))
    for pre, post, l, sign in sources:
        w = sign * P["layer%d_weight" % l].astype(np.float64)  # (out, in)
        n_out, n_in = w.shape
        pre_local = np.repeat(np.arange(n_in), n_out)
        post_local = np.tile(np.arange(n_out), n_in)
        copy = np.repeat(np.arange(batch), n_in * n_out)
        i = np.tile(pre_local, batch) + copy * n_in
        j = np.tile(post_local, batch) + copy * n_out
        wv = np.tile(w[post_local, pre_local], batch)
        for mask, receptor in ((wv > 0, "excitatory"), (wv < 0, "inhibitory")):
            if mask.any():
                conns = np.column_stack([i[mask], j[mask], wv[mask], np.full(int(mask.sum()), delay)])
                sim.Projection(pre, post, sim.FromListConnector(conns, column_names=["weight", "delay"]),
                               sim.StaticSynapse(), receptor_type=receptor)

    counts = [np.zeros((rows, layer["out"])) for layer in layers]
    v_last = np.zeros((rows, layers[-1]["out"]))
    drive = None if rate else analog_drive(P, x)
    for start, end in chunks(rows, batch):
        k = end - start
        for l, (layer, p) in enumerate(zip(layers, pops)):
            b = np.tile(P["layer%d_bias" % l].astype(np.float64), batch)
            if l == 0 and not rate:
                d = np.zeros((batch, layer["out"]))
                d[:k] = drive[start:end]
                b = d.reshape(-1)
            p.set(i_offset=b / p._per_step)
            p.initialize(v=np.tile(P["layer%d_v0" % l], batch))
        if rate:
            pos, neg = encoder_spikes(x[start:end])
            n_in = CONFIG["input_size"]
            empty = [[] for _ in range(n_in)]
            # A spike of encoder step t is emitted at t ms, as snn's next-step encoder.
            def times(lists):
                flat = []
                for r in range(batch):
                    for tl in (lists[r] if r < k else empty):
                        flat.append(sim.Sequence([t * dt for t in tl]))
                return flat
            src_pos.set(spike_times=times(pos))
            src_neg.set(spike_times=times(neg))
        sim.run(T * dt)
        for l, p in enumerate(pops):
            seg = p.get_data(clear=True).segments[-1]
            c = np.array([len(st) for st in seg.spiketrains], dtype=np.float64).reshape(batch, -1)
            counts[l][start:end] = c[:k]
            if l == len(pops) - 1:
                sig = seg.analogsignals[0] if seg.analogsignals else None
                if sig is not None:
                    v = np.asarray(sig.magnitude)[-1].reshape(batch, -1)
                    v_last[start:end] = v[:k]
        sim.reset()
    sim.end()
    outputs, actions = readout(v_last, counts[-1])
    save(a.result, outputs, actions, counts)


if __name__ == "__main__":
    main()
`
