package env

import "testing"

// TestProbeSystem: the names give the van der Pol oscillator (input u,
// state x, y) and the two-link arm (two torques; two angles and their
// velocities); other names none.
func TestProbeSystem(t *testing.T) {
	for name, want := range map[string][2]int{"vanderpol": {1, 2}, "vdp": {1, 2}, "van-der-pol": {1, 2}, "arm": {2, 4}} {
		sys, cfg, ok := ProbeSystem(name)
		if !ok || sys.InputSize() != want[0] || sys.StateSize() != want[1] || cfg.Check() != nil {
			t.Errorf("%s: ok %v, sizes %d -> %d, defaults %+v", name, ok, sys.InputSize(), sys.StateSize(), cfg)
		}
	}
	if _, _, ok := ProbeSystem("pendulum"); ok {
		t.Error("pendulum: accepted")
	}
}
