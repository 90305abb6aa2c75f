package main

import (
	"os"
	"testing"
)

func TestClassify(t *testing.T) {
	own, err := os.ReadFile("../../LICENSE")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, text, want string }{
		{"this repository's LICENSE", string(own), "Apache-2.0"},
		{"MIT", "Permission is hereby granted, free of charge, to any person obtaining a copy", "MIT"},
		{"BSD-3", "Redistribution and use in source and binary forms, with or without\nmodification, are permitted ... * Neither the name of Google Inc. nor", "BSD-3-Clause"},
		{"BSD-2", "Redistribution and use in source and binary forms, with or without modification", "BSD-2-Clause"},
		{"ISC", "Permission to use, copy, modify, and/or distribute this software for any\npurpose with or without fee is hereby granted", "ISC"},
		{"GPL wins over a permissive sentence", "GNU GENERAL PUBLIC LICENSE Version 3\nPermission is hereby granted, free of charge", "GPL"},
		{"LGPL", "GNU LESSER GENERAL PUBLIC LICENSE Version 2.1", "LGPL"},
		{"MPL", "Mozilla Public License Version 2.0", "MPL"},
		{"CC-BY-SA is not CC-BY", "Creative Commons Attribution-ShareAlike 3.0 International Public License", "CC-BY-SA"},
		{"unknown", "All rights reserved.", ""},
	}
	for _, c := range cases {
		if got := classify(c.text); got != c.want {
			t.Errorf("%s: classify = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestVerdict(t *testing.T) {
	freetype := module{Path: "github.com/golang/freetype", Version: "v0.0.0-20170609003504-e2365dfdc4a0"}
	if _, problem := verdict(freetype, true); problem != "" {
		t.Errorf("reviewed freetype: %s", problem)
	}
	blas := module{Path: "github.com/gonum/blas", Version: "v0.0.0-20181208220705-f22b278b28ac"}
	if _, problem := verdict(blas, true); problem == "" {
		t.Error("a module reviewed as not linked passes while linked")
	}
	other := module{Path: "example.com/x", Version: "v1.0.0", Dir: t.TempDir()}
	if _, problem := verdict(other, true); problem == "" {
		t.Error("a module without a licence file passes")
	}
	if err := os.WriteFile(other.Dir+"/COPYING", []byte("GNU GENERAL PUBLIC LICENSE"), 0o644); err != nil {
		t.Fatal(err)
	}
	if licence, problem := verdict(other, true); problem == "" {
		t.Errorf("a GPL module passes (%s)", licence)
	}
}
