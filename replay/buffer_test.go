package replay

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

func obsFor(i int) []float32 { return []float32{float32(i), float32(-i), 0.5, float32(i) * 2} }

func TestNewRejectsBadSizes(t *testing.T) {
	for _, tc := range []struct{ capacity, obs int }{{0, 4}, {-1, 4}, {10, 0}, {10, -3}} {
		if _, err := New(tc.capacity, tc.obs); err == nil {
			t.Errorf("New(%d, %d): want error", tc.capacity, tc.obs)
		}
	}
}

func TestRingOverwritesOldest(t *testing.T) {
	b, _ := New(3, 4)
	for i := 0; i < 5; i++ {
		b.Add(obsFor(i), i%2, float32(i), obsFor(i+1), i == 4)
	}
	if b.Len() != 3 || b.Pos() != 2 {
		t.Fatalf("Len, Pos = %d, %d; want 3, 2", b.Len(), b.Pos())
	}
	// Slots hold transitions 3, 4, 2 (0 and 1 overwritten).
	want := []int{3, 4, 2}
	for slot, tr := range want {
		if got := b.rewards[slot]; got != float32(tr) {
			t.Errorf("slot %d reward = %v, want %v", slot, got, tr)
		}
		if got := b.obs[slot*4]; got != float32(tr) {
			t.Errorf("slot %d obs[0] = %v, want %v", slot, got, tr)
		}
		if got := b.nextObs[slot*4+1]; got != float32(-(tr + 1)) {
			t.Errorf("slot %d nextObs[1] = %v, want %v", slot, got, -(tr + 1))
		}
	}
	if b.terminated[1] != 1 || b.terminated[0] != 0 {
		t.Errorf("terminated = %v, want [0 1 0]", b.terminated)
	}
}

// Sample must draw rng.IntN(Len) once per sample in order, so an identically
// seeded generator predicts every index.
func TestSampleFollowsRNG(t *testing.T) {
	b, _ := New(100, 4)
	for i := 0; i < 37; i++ {
		b.Add(obsFor(i), i%2, float32(i), obsFor(i+1), false)
	}
	batch := NewBatch(16, 4)
	rng := rand.New(rand.NewPCG(7, 8))
	ref := rand.New(rand.NewPCG(7, 8))
	b.Sample(batch, rng)
	for i := 0; i < batch.Size; i++ {
		j := ref.IntN(37)
		if batch.Indices[i] != j || batch.Rewards[i] != float32(j) || batch.Actions[i] != j%2 ||
			batch.Obs[i*4] != float32(j) || batch.NextObs[i*4] != float32(j+1) {
			t.Fatalf("sample %d: index %d reward %v action %d, want index %d", i, batch.Indices[i], batch.Rewards[i], batch.Actions[i], j)
		}
	}
}

// Uniform sampling: each of n slots is drawn with probability 1/n; over
// N draws the counts' chi-square statistic with n-1 = 9 degrees of freedom
// stays below 27.9 (p = 0.001).
func TestSampleIsUniform(t *testing.T) {
	const n, draws = 10, 20000
	b, _ := New(n, 4)
	for i := 0; i < n; i++ {
		b.Add(obsFor(i), 0, float32(i), obsFor(i), false)
	}
	batch := NewBatch(100, 4)
	rng := rand.New(rand.NewPCG(1, 2))
	counts := make([]float64, n)
	for k := 0; k < draws/batch.Size; k++ {
		b.Sample(batch, rng)
		for _, j := range batch.Indices {
			counts[j]++
		}
	}
	expected := float64(draws) / n
	chi2 := 0.0
	for _, c := range counts {
		chi2 += (c - expected) * (c - expected) / expected
	}
	if chi2 > 27.9 {
		t.Errorf("chi-square %.1f > 27.9 for counts %v", chi2, counts)
	}
}

func TestAddAndSampleAllocateNothing(t *testing.T) {
	b, _ := New(1000, 4)
	batch := NewBatch(64, 4)
	rng := rand.New(rand.NewPCG(3, 4))
	o, o2 := obsFor(1), obsFor(2)
	if a := testing.AllocsPerRun(100, func() { b.Add(o, 1, 1, o2, false) }); a != 0 {
		t.Errorf("Add allocates %v times", a)
	}
	if a := testing.AllocsPerRun(100, func() { b.Sample(batch, rng) }); a != 0 {
		t.Errorf("Sample allocates %v times", a)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, n := range []int{0, 3, 5, 8} {
		b, _ := New(5, 4)
		for i := 0; i < n; i++ {
			b.Add(obsFor(i), i%2, float32(i)+0.25, obsFor(i+1), i%3 == 0)
		}
		var buf bytes.Buffer
		if _, err := b.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		c, _ := New(5, 4)
		if _, err := c.ReadFrom(bytes.NewReader(buf.Bytes())); err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if c.pos != b.pos || c.size != b.size {
			t.Fatalf("n=%d: pos/size %d/%d, want %d/%d", n, c.pos, c.size, b.pos, b.size)
		}
		for i := 0; i < b.size; i++ {
			if c.rewards[i] != b.rewards[i] || c.actions[i] != b.actions[i] || c.terminated[i] != b.terminated[i] ||
				c.obs[4*i+3] != b.obs[4*i+3] || c.nextObs[4*i] != b.nextObs[4*i] {
				t.Fatalf("n=%d: slot %d differs", n, i)
			}
		}
	}
}

func TestReadFromRejectsBadData(t *testing.T) {
	b, _ := New(5, 4)
	for i := 0; i < 7; i++ {
		b.Add(obsFor(i), 1, 1, obsFor(i), false)
	}
	var buf bytes.Buffer
	b.WriteTo(&buf)
	good := buf.Bytes()

	other, _ := New(6, 4)
	if _, err := other.ReadFrom(bytes.NewReader(good)); err == nil || !strings.Contains(err.Error(), "capacity") {
		t.Errorf("mismatched capacity: err = %v", err)
	}
	for _, cut := range []int{0, 5, 20, len(good) - 1} {
		c, _ := New(5, 4)
		c.Add(obsFor(9), 0, 9, obsFor(9), false)
		if _, err := c.ReadFrom(bytes.NewReader(good[:cut])); !errors.Is(err, ErrCorrupt) {
			t.Errorf("truncated at %d: err = %v, want ErrCorrupt", cut, err)
		}
		if c.size != 1 || c.rewards[0] != 9 {
			t.Errorf("truncated at %d: buffer changed on error", cut)
		}
	}
	bad := append([]byte(nil), good...)
	bad[0] = 'X'
	if _, err := b.ReadFrom(bytes.NewReader(bad)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("bad magic: err = %v", err)
	}
}

func FuzzReadFrom(f *testing.F) {
	b, _ := New(4, 2)
	b.Add([]float32{1, 2}, 1, 1, []float32{3, 4}, true)
	var buf bytes.Buffer
	b.WriteTo(&buf)
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		c, _ := New(4, 2)
		if _, err := c.ReadFrom(bytes.NewReader(data)); err == nil {
			var out bytes.Buffer
			c.WriteTo(&out)
			if !bytes.Equal(out.Bytes(), data[:out.Len()]) {
				t.Fatal("accepted data does not round-trip")
			}
		}
	})
}
