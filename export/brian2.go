package export

import (
	"github.com/spikebridge/spikebridge/snn"
)

// Brian2Script writes a Brian2 script for net (see the package
// documentation). Brian2's schedule is snn's next-step mode: the script of a
// same-step network is graded approximate.
func Brian2Script(net *snn.Network, opts Options) (*Script, error) {
	c, arrays, err := describe(net, Brian2, opts)
	if err != nil {
		return nil, err
	}
	c.Grades = append(c.Grades, inputGrade(net))
	for i, l := range c.Layers {
		g := LayerGrade{Layer: l.Name, Grade: Faithful}
		if net.Propagation != snn.NextStep && i > 0 {
			g.Grade, g.Note = Approximate, "Brian2's schedule delivers spikes one step later (snn's next-step mode); this network runs same-step"
		}
		c.Grades = append(c.Grades, g)
	}
	return render(pyPrelude+brian2Body, c, arrays)
}

func inputGrade(net *snn.Network) LayerGrade {
	g := LayerGrade{Layer: "input", Grade: Faithful}
	if net.Input.Encoding == snn.Rate {
		g.Note = "rate encoder as IF neurons; rows with negative inputs add negative spikes in index order, snn adds positive ones first (float rounding may differ)"
	}
	return g
}

const brian2Body = `

def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    import warnings
    warnings.filterwarnings("ignore")
    import brian2 as b2
    b2.prefs.codegen.target = "numpy"
    b2.BrianLogger.log_level_error()
    P = np.load(WEIGHTS)
    x = load_inputs(sys.argv[1])
    rows, T, layers = x.shape[0], CONFIG["timesteps"], CONFIG["layers"]
    batch = max(1, min(rows, CONFIG["batch"]))
    rate = CONFIG["encoding"] == "rate"

    b2.start_scope()
    b2.defaultclock.dt = 1 * b2.ms
    objects, groups, monitors = [], [], []
    eqs = "v : 1\nI : 1 (constant)\nbeta : 1 (constant)\ntheta : 1 (constant)"
    encoder = None
    if rate:
        n = CONFIG["input_size"]
        encoder = b2.NeuronGroup(batch * n, eqs, threshold="v >= theta or v <= -theta",
                                 reset="v -= theta * (2 * int(v > 0) - 1)", name="encoder")
        encoder.run_regularly("v = v + I", when="groups")
        encoder.theta = CONFIG["input_threshold"]
        encoder.v = CONFIG["input_initial_membrane"] * CONFIG["input_threshold"]
        objects.append(encoder)
    for l, layer in enumerate(layers):
        n = layer["out"]
        if layer["integrator"]:
            g = b2.NeuronGroup(batch * n, eqs, name="L%d" % l)
        else:
            op = ">" if layer["strict"] else ">="
            reset = "v = 0" if layer["reset"] == "zero" else "v -= theta"
            g = b2.NeuronGroup(batch * n, eqs, threshold="v %s theta" % op, reset=reset, name="L%d" % l)
        g.run_regularly("v = beta * v + I", when="groups")
        g.beta = layer["leak"]
        g.theta = np.tile(P["layer%d_threshold" % l].astype(np.float64), batch)
        g.v = np.tile(P["layer%d_v0" % l], batch)
        if l > 0 or rate:
            g.I = np.tile(P["layer%d_bias" % l].astype(np.float64), batch)
        groups.append(g)
        objects.append(g)
        if not layer["integrator"]:
            m = b2.SpikeMonitor(g, record=False, name="M%d" % l)
            monitors.append(m)
            objects.append(m)
        else:
            monitors.append(None)
    sources = ([encoder] if rate else []) + groups[:-1]
    targets = groups if rate else groups[1:]
    first = 0 if rate else 1
    for k, (pre, post) in enumerate(zip(sources, targets)):
        l = first + k
        w = P["layer%d_weight" % l].astype(np.float64)  # (out, in)
        n_in, n_out = w.shape[1], w.shape[0]
        on_pre = "v_post += w * (2 * int(v_pre > 0) - 1)" if (rate and l == 0) else "v_post += w"
        S = b2.Synapses(pre, post, model="w : 1", on_pre=on_pre, name="S%d" % l)
        pre_local = np.repeat(np.arange(n_in), n_out)
        post_local = np.tile(np.arange(n_out), n_in)
        copy = np.repeat(np.arange(batch), n_in * n_out)
        S.connect(i=np.tile(pre_local, batch) + copy * n_in, j=np.tile(post_local, batch) + copy * n_out)
        S.w = np.tile(w[post_local, pre_local], batch)
        objects.append(S)
    net = b2.Network(*objects)
    net.store()

    counts = [np.zeros((rows, layer["out"])) for layer in layers]
    v_last = np.zeros((rows, layers[-1]["out"]))
    drive = None if rate else analog_drive(P, x)
    for start, end in chunks(rows, batch):
        net.restore()
        k = end - start
        if rate:
            cur = np.zeros((batch, CONFIG["input_size"]))
            cur[:k] = CONFIG["gain"] * x[start:end]
            encoder.I = cur.reshape(-1)
        else:
            d = np.zeros((batch, layers[0]["out"]))
            d[:k] = drive[start:end]
            groups[0].I = d.reshape(-1)
        net.run(T * b2.ms)
        for l, m in enumerate(monitors):
            if m is not None:
                counts[l][start:end] = np.asarray(m.count[:]).reshape(batch, -1)[:k]
        v_last[start:end] = np.asarray(groups[-1].v[:]).reshape(batch, -1)[:k]
    outputs, actions = readout(v_last, counts[-1])
    save(sys.argv[2], outputs, actions, counts)


if __name__ == "__main__":
    main()
`
