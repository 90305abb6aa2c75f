package env

// ProbeSystem returns the built-in driven system of that name (vanderpol,
// van-der-pol or vdp with mu = 1; arm) and its default probe settings; ok
// is false for a name it does not know.
func ProbeSystem(name string) (sys DrivenSystem, defaults ProbeConfig, ok bool) {
	switch name {
	case "vanderpol", "van-der-pol", "vdp":
		return NewVanDerPol(1), DefaultVanDerPolProbe(), true
	case "arm":
		return NewArm(), DefaultArmProbe(), true
	}
	return nil, ProbeConfig{}, false
}
