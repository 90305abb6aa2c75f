package formats

import "testing"

func FuzzParseBytes(f *testing.F) {
	for _, s := range []string{"4GiB", "512MiB", "1e9", "1048576", "8G", "1.5 TB", "", "-1", "NaN", "1e400KiB", "KiB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseBytes(s)
		if err == nil && n <= 0 {
			t.Fatalf("ParseBytes(%q) = %d without an error", s, n)
		}
	})
}

func TestParseBytes(t *testing.T) {
	for s, want := range map[string]int64{"4GiB": 4 << 30, "512MiB": 512 << 20, "1e9": 1e9, "1048576": 1 << 20, "8g": 8 << 30, "2 KB": 2048} {
		if got, err := ParseBytes(s); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "lots", "-1", "0", "0.1", "NaN", "1e400"} {
		if _, err := ParseBytes(s); err == nil {
			t.Errorf("ParseBytes(%q) accepted", s)
		}
	}
}

// TestAboutBytes: estimates are written in binary units, and sizes past
// what an int64 holds (or NaN) as "more than 4 EiB".
func TestAboutBytes(t *testing.T) {
	for b, want := range map[float64]string{1.5 * (1 << 30): "about 1.5 GiB", 512: "about 512 B", 1e30: "more than 4 EiB"} {
		if got := AboutBytes(b); got != want {
			t.Errorf("AboutBytes(%g) = %q, want %q", b, got, want)
		}
	}
}
