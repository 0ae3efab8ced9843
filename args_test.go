package main

import (
	"slices"
	"strings"
	"testing"
)

// TestReorderArgs covers every command's flags after its positional
// arguments, and what must stay where it is: values that look like flags,
// `--`, exec's command line and ps's options.
func TestReorderArgs(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		// Global flags, and their values, before the command.
		{"--root /r --log-format json delete ID --force", "--root /r --log-format json delete --force ID"},
		{"--debug --root=/r kill ID", "--debug --root=/r kill ID"},
		{"--root /r", "--root /r"},
		// Flags after the id, for each command that has some.
		{"create ID --bundle b --pid-file p", "create --bundle b --pid-file p ID"},
		{"run ID -d -b b --keep", "run -d -b b --keep ID"},
		{"delete ID -f", "delete -f ID"},
		{"kill ID KILL --all", "kill --all ID KILL"},
		{"kill ID --all KILL", "kill --all ID KILL"},
		{"kill -a ID 9", "kill -a ID 9"},
		{"events ID --stats --interval=1s", "events --stats --interval=1s ID"},
		{"events ID --interval 1s", "events --interval 1s ID"},
		{"update ID --pids-limit 10 --cpuset-cpus 1", "update --pids-limit 10 --cpuset-cpus 1 ID"},
		{"update ID --memory-swap -1", "update --memory-swap -1 ID"},
		{"update ID --resources -", "update --resources - ID"},
		{"state ID", "state ID"},
		{"start ID", "start ID"},
		{"pause ID", "pause ID"},
		{"list --format json", "list --format json"},
		{"list -q", "list -q"},
		{"checkpoint ID --image-path i --leave-running", "checkpoint --image-path i --leave-running ID"},
		{"restore ID -d --image-path i", "restore -d --image-path i ID"},
		{"spec --rootless -b dir", "spec --rootless -b dir"},
		{"cache prune --all", "cache prune --all"},
		{"precompile a.wasm --help", "precompile --help a.wasm"},
		// A positional argument that looks like a flag stays one.
		{"kill ID -- -9", "kill -- ID -9"},
		{"delete -- -ID", "delete -- -ID"},
		{"delete ID --bogus", "delete ID --bogus"},
		// An unknown flag before any positional argument is left for the
		// parser to report.
		{"delete --bogus ID", "delete --bogus ID"},
		// exec: flags up to the command, never in it.
		{"exec ID sh -c 'echo --tty' --tty", "exec ID sh -c 'echo --tty' --tty"},
		{"exec ID -t -e A=1 sh -e", "exec -t -e A=1 ID sh -e"},
		{"exec ID --user 1000 -- id -u", "exec --user 1000 -- ID id -u"},
		{"exec -ti ID sh", "exec -ti ID sh"},
		{"exec ID -td sh", "exec -td ID sh"},
		{"exec ID -tu 1000 sh", "exec -tu 1000 ID sh"},
		{"exec ID -x sh", "exec ID -x sh"},
		{"exec ID", "exec ID"},
		// ps: wrunc's flags after the id, then ps(1)'s options.
		{"ps ID -f json", "ps -f json ID"},
		{"ps ID -e -x", "ps ID -e -x"},
		{"ps ID -e -f", "ps ID -e -f"},
		{"ps -f json ID", "ps -f json ID"},
		// Not a command of wrunc's: left to the parser.
		{"help exec", "help exec"},
		{"frobnicate ID --force", "frobnicate ID --force"},
	} {
		t.Run(c.in, func(t *testing.T) {
			in := append([]string{"wrunc"}, splitWords(c.in)...)
			want := append([]string{"wrunc"}, splitWords(c.want)...)
			if got := reorderArgs(newApp(), in); !slices.Equal(got, want) {
				t.Errorf("reorderArgs(%q) = %q, want %q", in, got, want)
			}
		})
	}
}

// splitWords splits s at spaces, keeping single-quoted words whole.
func splitWords(s string) []string {
	var words []string
	for i, part := range strings.Split(s, "'") {
		if i%2 == 1 {
			words = append(words, part)
			continue
		}
		words = append(words, strings.Fields(part)...)
	}
	return words
}
