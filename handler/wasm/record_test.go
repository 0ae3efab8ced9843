package wasm

import (
	"strings"
	"testing"
)

func TestRecordRoundTrip(t *testing.T) {
	for _, facts := range []ModuleFacts{{Memories: 2, Tables: 3}, {Memories: 1, Tables: 2, Component: true}} {
		r := recordOf([]byte("artifact"), facts)
		if got, err := parseRecord(r.String()); err != nil || got != r {
			t.Fatalf("parseRecord(%q) = %+v, %v; want %+v", r.String(), got, err, r)
		}
	}
	r := recordOf([]byte("artifact"), ModuleFacts{Memories: 2, Tables: 3})
	got, _ := parseRecord(r.String())
	if !got.matches([]byte("artifact")) || got.matches([]byte("artifacT")) || got.matches([]byte("artifact!")) {
		t.Errorf("matches does not tell the artifact from others")
	}
}

func TestRecordRefusesOtherFormats(t *testing.T) {
	good := recordOf([]byte("artifact"), ModuleFacts{Memories: 1}).String()
	for name, text := range map[string]string{
		"older wrunc's CRC-32C": "8 1c2c4d6f\n",
		"empty":                 "",
		"no newline":            strings.TrimSuffix(good, "\n"),
		"trailing data":         good + "x",
		"short hash":            strings.Replace(good, "sha256=", "sha256=0", 1)[:len(good)-20] + "\n",
		"negative size":         strings.Replace(good, "size=8", "size=-8", 1),
		"upper-case hash":       strings.Replace(good, "sha256=c", "sha256=C", 1),
		"no kind":               strings.Replace(good, " kind=module", "", 1),
		"unknown kind":          strings.Replace(good, "kind=module", "kind=reactor", 1),
		"previous format":       strings.Replace(strings.Replace(good, " kind=module", "", 1), "artifact-3", "artifact-2", 1),
	} {
		if _, err := parseRecord(text); err == nil {
			t.Errorf("%s: %q parsed", name, text)
		}
	}
}
