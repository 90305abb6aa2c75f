package hdf5

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestMutate is a mutation fuzzer for machines where go test -fuzz cannot
// run: SPIKEBRIDGE_HDF5_MUTATE=10m runs byte flips, truncations, splices and
// 8-byte field overwrites of the seed files for that long, failing on a
// panic, on an input that takes over 5 s, or on a tree that does not
// survive Write and Read. Without the variable it runs 2000 mutations.
func TestMutate(t *testing.T) {
	budget := time.Duration(0)
	if v := os.Getenv("SPIKEBRIDGE_HDF5_MUTATE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatal(err)
		}
		budget = d
	}
	var seeds [][]byte
	paths := append(nirFixtures(t), filepath.Join("testdata", "chunked_h5py.h5"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	var w bytes.Buffer
	if err := Write(&w, sampleTree()); err != nil {
		t.Fatal(err)
	}
	seeds = append(seeds, w.Bytes())
	r := rand.New(rand.NewPCG(15, uint64(budget)))
	start := time.Now()
	n, ok := 0, 0
	for budget == 0 && n < 2000 || budget > 0 && time.Since(start) < budget {
		n++
		d := mutate(r, seeds[r.IntN(len(seeds))])
		done := make(chan error, 1)
		go func() {
			defer func() {
				if p := recover(); p != nil {
					os.WriteFile(filepath.Join(t.TempDir(), "crash.h5"), d, 0o644)
					done <- errPanic{p}
				}
			}()
			done <- checkOne(d)
		}()
		select {
		case err := <-done:
			if err == nil {
				ok++
			} else if _, isPanic := err.(errPanic); isPanic || err == errRoundTrip {
				_ = os.WriteFile("/tmp/hdf5_mutate_failure.h5", d, 0o644)
				t.Fatalf("mutation %d: %v (input in /tmp/hdf5_mutate_failure.h5)", n, err)
			}
		case <-time.After(5 * time.Second):
			_ = os.WriteFile("/tmp/hdf5_mutate_slow.h5", d, 0o644)
			t.Fatalf("mutation %d ran over 5 s (input in /tmp/hdf5_mutate_slow.h5)", n)
		}
	}
	t.Logf("%d mutated files in %v, %d read without error, no panic or hang", n, time.Since(start).Round(time.Second), ok)
}

type errPanic struct{ v any }

func (e errPanic) Error() string { return "panic" }

var errRoundTrip = errors.New("the tree read did not survive Write and Read")

func checkOne(d []byte) error {
	g, err := Read(bytes.NewReader(d), int64(len(d)), ReadOptions{MaxBytes: 1 << 22})
	if err != nil {
		return err
	}
	dropUnsupported(g)
	var out bytes.Buffer
	if Write(&out, g) != nil {
		return nil
	}
	back, err := Read(bytes.NewReader(out.Bytes()), int64(out.Len()), ReadOptions{})
	if err != nil || !equalBits(g, back) {
		return errRoundTrip
	}
	return nil
}

func mutate(r *rand.Rand, seed []byte) []byte {
	d := append([]byte(nil), seed...)
	for k := 0; k < 1+r.IntN(6); k++ {
		if len(d) == 0 {
			break
		}
		i := r.IntN(len(d))
		switch r.IntN(6) {
		case 0, 1:
			d[i] = byte(r.IntN(256))
		case 2:
			d[i] ^= 1 << r.IntN(8)
		case 3: // an 8-byte field: small, huge, undefined or another address
			v := []uint64{0, 1, 8, 96, uint64(len(d)), 1 << 40, ^uint64(0), uint64(r.IntN(len(d)))}[r.IntN(8)]
			for b := 0; b < 8 && i+b < len(d); b++ {
				d[i+b] = byte(v >> (8 * b))
			}
		case 4:
			d = d[:i]
		case 5: // splice a block from elsewhere
			j, n := r.IntN(len(d)), 1+r.IntN(64)
			if i+n <= len(d) && j+n <= len(d) {
				copy(d[i:i+n], append([]byte(nil), d[j:j+n]...))
			}
		}
	}
	return d
}
