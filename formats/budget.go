package formats

import (
	"fmt"
	"sync/atomic"
)

// Readers allocate what a file declares only after checking it against the
// file's own length; compressed members (deflated .npz and .pt members) can
// declare far more than the file holds, so they are also read against a
// memory budget:
//
//   - the memory a member costs once decoded (its inflated bytes plus the
//     float64 values they become) must fit in ReadBudget, which the CLI sets
//     from --max-memory;
//   - a member that inflates beyond maxInflateFloor bytes at more than
//     maxInflateRatio times its compressed size is refused as a likely zip
//     bomb, whatever the budget (numeric data deflates about 1.1:1 to 10:1;
//     a 777 KB member that declares 800 MB is 1030:1).

// DefaultReadBudget is the read budget until SetReadBudget is called.
const DefaultReadBudget = 4 << 30

const (
	maxInflateRatio = 100
	maxInflateFloor = 64 << 20
)

var readBudget atomic.Int64

// SetReadBudget sets the most bytes one file's decoded arrays may take
// (n <= 0 restores DefaultReadBudget).
func SetReadBudget(n int64) {
	if n <= 0 {
		n = 0
	}
	readBudget.Store(n)
}

// ReadBudget returns the current read budget in bytes.
func ReadBudget() int64 {
	if n := readBudget.Load(); n > 0 {
		return n
	}
	return DefaultReadBudget
}

// budget tracks what one file's reading has reserved.
type budget struct {
	limit, used int64
}

func newBudget() *budget { return &budget{limit: ReadBudget()} }

// reserve accounts n more bytes; what names them in the error.
func (b *budget) reserve(n int64, what string) error {
	if b == nil {
		return nil
	}
	if n < 0 || n > b.limit-b.used {
		return &BudgetError{What: what, Need: n, Left: max(b.limit-b.used, 0), Limit: b.limit}
	}
	b.used += n
	return nil
}

// BudgetError is a read that would take more memory than the read budget
// (SetReadBudget) has left: a genuine file needs a larger budget.
type BudgetError struct {
	What              string // the file and member or tensor
	Need, Left, Limit int64  // bytes
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("%s needs %s in memory, more than the %s left of the read budget of %s",
		e.What, FormatBytes(e.Need), FormatBytes(e.Left), FormatBytes(e.Limit))
}

// checkInflation refuses a compressed member that declares a zip-bomb
// expansion.
func checkInflation(member string, compressed, declared uint64) error {
	if declared > maxInflateFloor && declared/maxInflateRatio > compressed {
		return fmt.Errorf("member %s inflates from %s to %s (%d:1); more than %d:1 beyond %s is refused as a likely zip bomb",
			member, FormatBytes(int64(min(compressed, 1<<62))), FormatBytes(int64(min(declared, 1<<62))),
			declared/max(compressed, 1), maxInflateRatio, FormatBytes(maxInflateFloor))
	}
	return nil
}

// FormatBytes writes n as a size in B, KiB, MiB, GiB or TiB.
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	for _, suffix := range []string{"KiB", "MiB", "GiB", "TiB", "PiB"} {
		v /= unit
		if v < unit || suffix == "PiB" {
			return fmt.Sprintf("%.3g %s", v, suffix)
		}
	}
	return fmt.Sprintf("%d B", n)
}
