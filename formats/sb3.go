package formats

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/spikebridge/spikebridge/model"
)

// SB3Model describes a Stable-Baselines3 zip (model.save): the policy's
// class and what its `data` member says about the network.
type SB3Model struct {
	// PolicyModule and PolicyName are policy_class's __module__ and name
	// (__doc__'s first word when the name is not stored).
	PolicyModule string
	// Algorithm is "dqn" (a Q-network) or "actor-critic" (PPO, A2C).
	Algorithm string
	// Activation is the hidden activation: policy_kwargs' activation_fn,
	// else the library's default for the policy (ReLU for DQN, Tanh for
	// ActorCriticPolicy); ActivationWhy says which.
	Activation    model.Kind
	ActivationWhy string
	// ActivationAlpha is LeakyReLU's slope or ELU's alpha: SB3 calls
	// activation_fn() without arguments, so torch's defaults (0.01, 1).
	ActivationAlpha float32
	// Actions is the Discrete action space's n (0 when not discrete).
	Actions int
	// Observations is the observation space's width (0 when unknown).
	Observations int
}

// ApplyTo sets what the zip says in import options: the hidden activation,
// and the action count unless one is set already.
func (m *SB3Model) ApplyTo(opts *ImportOptions) {
	opts.Activation, opts.ActivationAlpha, opts.ActivationWhy = m.Activation, m.ActivationAlpha, m.ActivationWhy
	if opts.Actions == 0 {
		opts.Actions = m.Actions
	}
}

// maxSB3DataBytes bounds the `data` JSON member we read.
const maxSB3DataBytes = 64 << 20

// LoadTorchOrSB3 reads a torch.save file, or a Stable-Baselines3 zip (a zip
// holding `policy.pth` and `data`): then its policy.pth and the model's
// description. sb3 is nil for plain torch files.
func LoadTorchOrSB3(path string) (tf *TorchFile, sb3 *SB3Model, err error) {
	f, size, err := openSized(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return ReadTorchOrSB3(f, size, path)
}

// ReadTorchOrSB3 is LoadTorchOrSB3 on a reader of size bytes; name is used
// in errors.
func ReadTorchOrSB3(r io.ReaderAt, size int64, name string) (tf *TorchFile, sb3 *SB3Model, err error) {
	defer func() {
		if p := recover(); p != nil {
			tf, sb3, err = nil, nil, fmt.Errorf("formats: %s: malformed file (decoder failed: %v)", name, p)
		}
	}()
	head := make([]byte, 4)
	if n, _ := r.ReadAt(head, 0); n == 4 && bytes.Equal(head, torchZipMagic) {
		if zr, zerr := zip.NewReader(r, size); zerr == nil || errors.Is(zerr, zip.ErrInsecurePath) {
			var policy, data *zip.File
			for _, f := range zr.File {
				switch f.Name {
				case "policy.pth":
					policy = f
				case "data":
					data = f
				}
			}
			if policy != nil {
				return readSB3(zr, policy, data, size, name)
			}
		}
	}
	tf, err = ReadTorch(r, size, name)
	return tf, nil, err
}

func readSB3(zr *zip.Reader, policy, data *zip.File, size int64, name string) (*TorchFile, *SB3Model, error) {
	if data == nil {
		return nil, nil, fmt.Errorf("formats: %s: a Stable-Baselines3 zip without its `data` member: the policy's class and activation are unknown", name)
	}
	raw, err := readZipMember(data, size, maxSB3DataBytes)
	if err != nil {
		return nil, nil, fmt.Errorf("formats: %s: member data: %w", name, err)
	}
	sb3, err := parseSB3Data(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("formats: %s: member data: %w", name, err)
	}
	pth, err := readZipMember(policy, size, min(size, maxSB3PolicyBytes/maxDeflateExpansion)*maxDeflateExpansion)
	if err != nil {
		return nil, nil, fmt.Errorf("formats: %s: member policy.pth: %w", name, err)
	}
	tf, err := ReadTorch(bytes.NewReader(pth), int64(len(pth)), name+":policy.pth")
	if err != nil {
		return nil, nil, err
	}
	tf.Format = "sb3 zip (" + tf.Format + ")"
	return tf, sb3, nil
}

// maxDeflateExpansion bounds how much larger than its archive a member may
// inflate (deflate's own limit is about 1032:1; real policies compress less
// than 2:1), and maxSB3PolicyBytes the policy.pth read into memory.
const (
	maxDeflateExpansion = 64
	maxSB3PolicyBytes   = 1 << 30
)

// readZipMember reads a member (stored or deflated) of at most limit bytes,
// checking its declared size before allocating and its CRC after reading.
func readZipMember(f *zip.File, archiveSize, limit int64) ([]byte, error) {
	if f.UncompressedSize64 > uint64(limit) || f.CompressedSize64 > uint64(archiveSize) {
		return nil, fmt.Errorf("declares %d bytes (%d compressed), more than the %d allowed for a %d-byte archive",
			f.UncompressedSize64, f.CompressedSize64, limit, archiveSize)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	buf := make([]byte, f.UncompressedSize64)
	if _, err := io.ReadFull(rc, buf); err != nil {
		return nil, fmt.Errorf("%w (truncated archive?)", err)
	}
	// Reading to the end makes archive/zip verify the CRC-32.
	if n, err := io.Copy(io.Discard, io.LimitReader(rc, 1)); err != nil || n != 0 {
		return nil, fmt.Errorf("more bytes than declared or a bad checksum (%v)", err)
	}
	return buf, nil
}

var torchClassRE = regexp.MustCompile(`torch\.nn\.modules\.[a-z_.]+\.([A-Za-z0-9_]+)`)

// parseSB3Data reads what the `data` JSON says about the network. SB3
// writes each item either as plain JSON or, for objects, as a dict with
// ":type:", ":serialized:" (cloudpickle) and the object's attributes as
// strings; both are read.
func parseSB3Data(raw []byte) (*SB3Model, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	var pc map[string]any
	if err := json.Unmarshal(doc["policy_class"], &pc); err != nil || pc == nil {
		return nil, errors.New("no policy_class object: not a Stable-Baselines3 model")
	}
	m := &SB3Model{}
	m.PolicyModule, _ = pc["__module__"].(string)
	doc0, _ := pc["__doc__"].(string)
	policy := m.PolicyModule + " " + doc0
	switch {
	case strings.Contains(m.PolicyModule, ".dqn."):
		m.Algorithm, m.Activation = "dqn", model.ReLU
		m.ActivationWhy = "Stable-Baselines3's default for DQN policies (policy_kwargs names no activation_fn)"
	case strings.Contains(m.PolicyModule, "stable_baselines3.common.policies") || strings.Contains(m.PolicyModule, ".ppo.") ||
		strings.Contains(m.PolicyModule, ".a2c."):
		m.Algorithm, m.Activation = "actor-critic", model.Tanh
		m.ActivationWhy = "Stable-Baselines3's default for ActorCriticPolicy (PPO, A2C; policy_kwargs names no activation_fn)"
	default:
		return nil, fmt.Errorf("policy_class %q: spikebridge imports Stable-Baselines3 DQN and actor-critic (PPO, A2C) MLP policies", strings.TrimSpace(policy))
	}
	if kw := doc["policy_kwargs"]; len(kw) > 0 {
		var kwargs map[string]any
		if err := json.Unmarshal(kw, &kwargs); err != nil {
			return nil, fmt.Errorf("policy_kwargs: %w", err)
		}
		if fn, ok := kwargs["activation_fn"]; ok {
			s := fmt.Sprint(fn)
			match := torchClassRE.FindStringSubmatch(s)
			kind := model.Kind("")
			if match != nil {
				kind = torchActivationKinds[match[1]]
			}
			if kind == "" {
				return nil, fmt.Errorf("policy_kwargs activation_fn %q: spikebridge reads ReLU, Tanh, Sigmoid, LeakyReLU and ELU", s)
			}
			m.Activation, m.ActivationWhy = kind, fmt.Sprintf("policy_kwargs activation_fn %s", match[1])
			switch kind {
			case model.LeakyReLU:
				m.ActivationAlpha, m.ActivationWhy = 0.01, m.ActivationWhy+" (SB3 makes it without arguments: slope 0.01)"
			case model.ELU:
				m.ActivationAlpha, m.ActivationWhy = 1, m.ActivationWhy+" (SB3 makes it without arguments: alpha 1)"
			}
		}
		if _, ok := kwargs[":serialized:"]; ok && kwargs["activation_fn"] == nil {
			m.ActivationWhy += "; policy_kwargs is serialized and lists no activation_fn beside it"
		}
	}
	var as map[string]any
	if err := json.Unmarshal(doc["action_space"], &as); err == nil {
		m.Actions = jsonInt(as["n"])
	}
	var obsSpace map[string]any
	if err := json.Unmarshal(doc["observation_space"], &obsSpace); err == nil {
		if shape := jsonInts(obsSpace["_shape"]); len(shape) == 1 {
			m.Observations = shape[0]
		}
	}
	return m, nil
}

// jsonInt reads an integer written as a number or a string ("2").
func jsonInt(v any) int {
	switch x := v.(type) {
	case float64:
		if x == float64(int(x)) && x > 0 && x < 1<<31 {
			return int(x)
		}
	case string:
		if n, err := strconv.Atoi(strings.TrimSpace(x)); err == nil && n > 0 {
			return n
		}
	}
	return 0
}

// jsonInts reads a shape written as a list ([4]) or a string ("(4,)").
func jsonInts(v any) []int {
	var out []int
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			n := jsonInt(e)
			if n == 0 {
				return nil
			}
			out = append(out, n)
		}
	case string:
		for _, f := range strings.FieldsFunc(x, func(r rune) bool { return r == '(' || r == ')' || r == ',' || r == ' ' || r == '[' || r == ']' }) {
			n, err := strconv.Atoi(f)
			if err != nil {
				return nil
			}
			out = append(out, n)
		}
	}
	return out
}
