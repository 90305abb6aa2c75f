package train

import "fmt"

// SettingError reports a training setting that cannot work. Setting is the
// setting's name as config.json writes it (lr_final, hidden, ...); the
// command line maps it to its flag.
type SettingError struct {
	Setting string
	Problem string
}

func (e *SettingError) Error() string { return "train: " + e.Setting + " " + e.Problem }

// settingErrorf returns a *SettingError for setting.
func settingErrorf(setting, format string, args ...any) error {
	return &SettingError{Setting: setting, Problem: fmt.Sprintf(format, args...)}
}
