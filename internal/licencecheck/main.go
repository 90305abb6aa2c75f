// Command licencecheck lists every module of the build graph (`go list -m all`) with
// the licence its LICENSE/COPYING file holds, and whether spikebridge's packages or
// tests link it. It exits 1 when a module's licence is unknown or copyleft, unless the
// module and version are in the reviewed table below with the reason. Run it from the
// module root after `go mod download all`:
//
//	go run ./internal/licencecheck [-markdown]
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// licenceFileName matches the files a module's licence lives in, at its root.
var licenceFileName = regexp.MustCompile(`(?i)^(licen[cs]e|copying|unlicen[cs]e)([-_.].*)?$`)

// permissive are the licences a binary of this project may link; anything else fails.
var permissive = map[string]bool{
	"Apache-2.0": true, "MIT": true, "BSD-2-Clause": true, "BSD-3-Clause": true,
	"ISC": true, "Unlicense": true, "CC0-1.0": true, "Zlib": true, "CC-BY-4.0": true,
}

// reviewed holds the modules whose licence files the classifier cannot settle, each
// reviewed by hand for this exact version. notLinked entries are checked: if one of
// them becomes linked, the check fails again.
var reviewed = map[string]struct {
	licence, reason string
	notLinked       bool
}{
	"github.com/golang/freetype@v0.0.0-20170609003504-e2365dfdc4a0": {licence: "FTL",
		reason: "dual FTL or GPL-2.0+; spikebridge takes it under the FreeType License (BSD-style, credit in NOTICE)"},
	"github.com/ajstarks/deck/generate@v0.0.0-20210309230005-c3f852c02e19": {licence: "CC-BY-4.0 AND CC-BY-SA-3.0", notLinked: true,
		reason: "only in gonum/plot's module graph; no package of it is built into spikebridge"},
	"github.com/chengxilo/virtualterm@v1.0.4": {licence: "none stated", notLinked: true,
		reason: "used only by progressbar's own tests; not built into spikebridge"},
	"github.com/gonum/blas@v0.0.0-20181208220705-f22b278b28ac": {licence: "BSD-3-Clause (README: github.com/gonum/license)", notLinked: true,
		reason: "an old gonum module in the graph only; not built into spikebridge"},
}

// classify names the licence of one licence file's text by its defining sentences.
// Copyleft texts are looked for first, so a permissive file never hides them.
func classify(text string) string {
	t := strings.Join(strings.Fields(strings.ToLower(text)), " ")
	has := func(s ...string) bool {
		for _, x := range s {
			if !strings.Contains(t, x) {
				return false
			}
		}
		return true
	}
	switch {
	case has("gnu affero general public license"):
		return "AGPL"
	case has("gnu lesser general public license"), has("gnu library general public license"):
		return "LGPL"
	case has("gnu general public license"):
		return "GPL"
	case has("mozilla public license"):
		return "MPL"
	case has("eclipse public license"):
		return "EPL"
	case has("apache license", "version 2.0"):
		return "Apache-2.0"
	case has("permission is hereby granted, free of charge"):
		return "MIT"
	case has("redistribution and use in source and binary forms"):
		if has("neither the name") || has("names of its contributors") || has("name of the copyright holder") {
			return "BSD-3-Clause"
		}
		return "BSD-2-Clause"
	case has("permission to use, copy, modify, and/or distribute this software for any purpose"),
		has("permission to use, copy, modify, and distribute this software for any purpose"):
		return "ISC"
	case has("this is free and unencumbered software released into the public domain"):
		return "Unlicense"
	case has("creative commons attribution-sharealike"):
		return "CC-BY-SA"
	case has("creative commons attribution 4.0 international public license"):
		return "CC-BY-4.0"
	case has("cc0 1.0"):
		return "CC0-1.0"
	case has("this software is provided 'as-is'", "altered source versions must be plainly marked"):
		return "Zlib"
	}
	return ""
}

// moduleLicence reads every licence file at the root of dir and returns their
// licences, sorted and without repeats ("" when no file names a known licence).
func moduleLicence(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	found := map[string]bool{}
	for _, e := range entries {
		if e.IsDir() || !licenceFileName.MatchString(e.Name()) {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return "", err
		}
		text, err := io.ReadAll(io.LimitReader(f, 1<<20))
		f.Close()
		if err != nil {
			return "", err
		}
		if l := classify(string(text)); l != "" {
			found[l] = true
		}
	}
	var names []string
	for l := range found {
		names = append(names, l)
	}
	sort.Strings(names)
	return strings.Join(names, " AND "), nil
}

type module struct {
	Path, Version, Dir string
	Main               bool
}

func listModules() ([]module, error) {
	out, err := exec.Command("go", "list", "-m", "-json", "all").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("go list -m all: %v: %s", err, ee.Stderr)
		}
		return nil, err
	}
	var mods []module
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var m module
		if err := dec.Decode(&m); err != nil {
			return nil, err
		}
		mods = append(mods, m)
	}
	return mods, nil
}

// linkedModules returns path@version of every module whose packages the main
// module's packages or tests import.
func linkedModules() (map[string]bool, error) {
	out, err := exec.Command("go", "list", "-deps", "-test", "-f", "{{with .Module}}{{.Path}}@{{.Version}}{{end}}", "./...").Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps -test ./...: %v", err)
	}
	linked := map[string]bool{}
	for _, line := range strings.Fields(string(out)) {
		linked[line] = true
	}
	return linked, nil
}

// verdict gives a module's licence as printed and the problem that fails the check ("" if none).
func verdict(m module, linked bool) (licence, problem string) {
	key := m.Path + "@" + m.Version
	if r, ok := reviewed[key]; ok {
		if r.notLinked && linked {
			return r.licence, "reviewed as not linked, but spikebridge now links it"
		}
		return r.licence + " (reviewed: " + r.reason + ")", ""
	}
	if m.Dir == "" {
		return "", "not downloaded (run go mod download all)"
	}
	licence, err := moduleLicence(m.Dir)
	switch {
	case err != nil:
		return "", err.Error()
	case licence == "":
		return "", "no known licence file"
	}
	for _, l := range strings.Split(licence, " AND ") {
		if !permissive[l] {
			return licence, l + " is not on the permissive list"
		}
	}
	return licence, ""
}

func main() {
	markdown := flag.Bool("markdown", false, "print the table as Markdown")
	flag.Parse()
	mods, err := listModules()
	if err != nil {
		fmt.Fprintln(os.Stderr, "licencecheck:", err)
		os.Exit(1)
	}
	if *markdown {
		fmt.Println("| module | version | use | licence |\n|---|---|---|---|")
	}
	linked, err := linkedModules()
	if err != nil {
		fmt.Fprintln(os.Stderr, "licencecheck:", err)
		os.Exit(1)
	}
	bad := 0
	for _, m := range mods {
		if m.Main {
			continue
		}
		use := "graph only"
		if linked[m.Path+"@"+m.Version] {
			use = "linked"
		}
		licence, problem := verdict(m, linked[m.Path+"@"+m.Version])
		if problem != "" {
			bad++
			licence += " (FAIL: " + problem + ")"
		}
		if *markdown {
			fmt.Printf("| %s | %s | %s | %s |\n", m.Path, m.Version, use, licence)
		} else {
			fmt.Printf("%-55s %-36s %-10s %s\n", m.Path, m.Version, use, licence)
		}
	}
	if bad > 0 {
		fmt.Fprintf(os.Stderr, "licencecheck: %d of %d modules have an unknown or non-permissive licence\n", bad, len(mods)-1)
		os.Exit(1)
	}
}
