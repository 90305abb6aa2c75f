package formats

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// Memory planning: a job estimates the bytes it will hold from its sizes
// before it allocates, and compares them with a limit the user sets
// (ParseBytes) or DefaultMemoryLimit. The same limit is the read budget of
// compressed members (SetReadBudget).

// DefaultMemoryLimit is half of the memory this process may use: the
// machine's RAM, or its cgroup's limit when lower; 4 GiB when neither can
// be read.
func DefaultMemoryLimit() int64 {
	total := int64(0)
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var kb int64
			if n, _ := fmt.Sscanf(sc.Text(), "MemTotal: %d kB", &kb); n == 1 {
				total = kb << 10
				break
			}
		}
		f.Close()
	}
	if raw, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if v, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64); err == nil && v > 0 && (total == 0 || v < total) {
			total = v
		}
	}
	if total <= 0 {
		return 4 << 30
	}
	return total / 2
}

// ParseBytes reads a size: plain bytes ("1e9", "1048576") or with a unit
// (K, M, G, T with an optional B or iB; powers of 1024).
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSpace(strings.ToUpper(s))
	mult := 1.0
	for _, u := range []struct {
		suffix string
		m      float64
	}{{"T", 1 << 40}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}} {
		for _, tail := range []string{u.suffix + "IB", u.suffix + "B", u.suffix} {
			if strings.HasSuffix(t, tail) {
				t, mult = strings.TrimSpace(strings.TrimSuffix(t, tail)), u.m
				goto parsed
			}
		}
	}
	t = strings.TrimSuffix(t, "B")
parsed:
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || !(v*mult >= 1) || v*mult > math.MaxInt64/2 { // "0.1" would be 0 bytes
		return 0, fmt.Errorf("%q: want a size such as 4GiB, 512MiB or a number of bytes", s)
	}
	return int64(v * mult), nil
}

// AboutBytes writes an estimate: "about 1.5 GiB", or "more than 4 EiB"
// for one too large (or NaN) to count.
func AboutBytes(b float64) string {
	if math.IsNaN(b) || b > math.MaxInt64/2 {
		return "more than 4 EiB"
	}
	return "about " + FormatBytes(int64(b))
}
