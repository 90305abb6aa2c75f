package main

import (
	"bytes"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = execute(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestExitCodes(t *testing.T) {
	cases := []struct {
		args     []string
		code     int
		inStdout string
		inStderr string
	}{
		{[]string{"version"}, 0, "spikebridge ", ""},
		{[]string{"version", "extra"}, 2, "", `unknown command "extra"`},
		{[]string{"--no-such-flag"}, 2, "", "unknown flag: --no-such-flag"},
		{[]string{"no-such-verb"}, 2, "", `unknown command "no-such-verb"`},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, out, errOut := runCLI(t, c.args...)
			if code != c.code {
				t.Fatalf("exit code %d, want %d (stderr %q)", code, c.code, errOut)
			}
			if !strings.Contains(out, c.inStdout) || !strings.Contains(errOut, c.inStderr) {
				t.Fatalf("stdout %q / stderr %q, want them to contain %q / %q", out, errOut, c.inStdout, c.inStderr)
			}
		})
	}
}
