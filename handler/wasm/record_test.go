package wasm

import (
	"strings"
	"testing"
)

func TestRecordRoundTrip(t *testing.T) {
	r := recordOf([]byte("artifact"), ModuleFacts{Memories: 2, Tables: 3})
	got, err := parseRecord(r.String())
	if err != nil || got != r {
		t.Fatalf("parseRecord(%q) = %+v, %v; want %+v", r.String(), got, err, r)
	}
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
	} {
		if _, err := parseRecord(text); err == nil {
			t.Errorf("%s: %q parsed", name, text)
		}
	}
}
