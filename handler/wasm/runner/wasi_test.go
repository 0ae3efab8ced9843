package runner

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestWasiGroups runs the C guest's check of each group of WASI functions
// (testdata/c/wasicheck.c), each in a directory of its own as its cwd.
func TestWasiGroups(t *testing.T) {
	for _, group := range []string{"files", "escape", "clocks", "random", "misc", "sockets"} {
		t.Run(group, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Symlink("/", filepath.Join(dir, "abs")); err != nil {
				t.Fatal(err)
			}
			cmd := guestCmd(t, "wasicheck.wasm", []string{"HOME=/nowhere"}, group, dir)
			cmd.Dir = dir
			if got, want := runGuest(t, cmd), (outcome{0, "ok " + group + "\n", ""}); got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

// startGuest starts cmd and returns the first line it prints.
func startGuest(t *testing.T, cmd *exec.Cmd) (string, *strings.Builder) {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &strings.Builder{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("guest printed %q, %v; stderr %q", line, err, stderr)
	}
	go io.Copy(io.Discard, stdout)
	return strings.TrimSpace(line), stderr
}

// stopGuest sends SIGTERM to a guest blocked in accept or poll_oneoff and
// checks that it ends at once with 143.
func stopGuest(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("guest still running 2s after SIGTERM")
	}
	if status := cmd.ProcessState.ExitCode(); status != 143 {
		t.Errorf("exit status %d after SIGTERM, want 143", status)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %q %v", url, resp.Status, body, err)
	}
	return string(body)
}

// A Go guest serves HTTP over WasmEdge's socket extension, on IPv4 and IPv6
// at once, until SIGTERM stops it where it waits.
func TestWasiGoHTTPServer(t *testing.T) {
	cmd := guestCmd(t, "httpserver.wasm", nil, "[::]:0")
	line, stderr := startGuest(t, cmd)
	addr, ok := strings.CutPrefix(line, "listening ")
	if !ok {
		t.Fatalf("guest printed %q, want listening ADDR", line)
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"127.0.0.1", "[::1]"} {
		url := fmt.Sprintf("http://%s:%s/path/%s", host, port, strings.Trim(host, "[]"))
		if got, want := get(t, url), "hello from wasm /path/"+strings.Trim(host, "[]")+"\n"; got != want {
			t.Errorf("GET %s: %q, want %q", url, got, want)
		}
	}
	stopGuest(t, cmd)
	if stderr.Len() != 0 {
		t.Errorf("stderr %q", stderr)
	}
}

// A Go guest fetches over HTTP, by address and by a name from /etc/hosts.
func TestWasiGoHTTPClient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "native %s\n", r.URL.Path)
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	urls := []string{srv.URL + "/by-address", "http://localhost:" + port + "/by-name"}
	got := runGuest(t, guestCmd(t, "httpclient.wasm", nil, urls...))
	if want := (outcome{0, "native /by-address\nnative /by-name\n", ""}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// A C guest accepts with wasi-libc's accept and answers with send, and a
// guest blocked in accept stops at once on SIGTERM.
func TestWasiCServe(t *testing.T) {
	cmd := guestCmd(t, "wasicheck.wasm", nil, "serve", "0")
	line, stderr := startGuest(t, cmd)
	port, ok := strings.CutPrefix(line, "listening ")
	if !ok {
		t.Fatalf("guest printed %q", line)
	}
	conn, err := net.Dial("tcp", "[::1]:"+port)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "hi there\n")
	reply, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || reply != "echo hi there\n" {
		t.Errorf("reply %q, %v", reply, err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("guest: %v, stderr %q", err, stderr)
	}

	blocked := guestCmd(t, "wasicheck.wasm", nil, "serve", "0")
	startGuest(t, blocked)
	stopGuest(t, blocked)
}

// sock_getaddrinfo resolves a name of the hosts file.
func TestWasiResolveHosts(t *testing.T) {
	got := runGuest(t, guestCmd(t, "wasicheck.wasm", nil, "resolve", "localhost"))
	if got.status != 0 || !strings.Contains(got.stdout, "127.0.0.1\n") {
		t.Errorf("got %+v, want 127.0.0.1 among the addresses", got)
	}
	got = runGuest(t, guestCmd(t, "wasicheck.wasm", nil, "resolve", "no-such-name.invalid"))
	if got.status != 1 || !strings.HasPrefix(got.stdout, "error ") {
		t.Errorf("got %+v, want an error", got)
	}
}

// A preview 0 module gets preview 0's layouts (preview0.wat checks them).
func TestWasiPreview0(t *testing.T) {
	stdin := filepath.Join(t.TempDir(), "stdin")
	if err := os.WriteFile(stdin, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(stdin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := guestCmd(t, "preview0.wasm", nil)
	cmd.Stdin = f
	if got, want := runGuest(t, cmd), (outcome{0, "ok\n", ""}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// Arguments out of bounds or naming nothing get their errnos (edge.wat,
// nomemory.wat check which).
func TestWasiEdgeCases(t *testing.T) {
	if got, want := runGuest(t, guestCmd(t, "edge.wasm", nil)), (outcome{0, "ok\n", ""}); got != want {
		t.Errorf("edge.wasm: got %+v, want %+v", got, want)
	}
	if got, want := runGuest(t, guestCmd(t, "nomemory.wasm", nil)), (outcome{21, "", ""}); got != want {
		t.Errorf("nomemory.wasm: got %+v, want %+v (EFAULT)", got, want)
	}
}

// A Go guest sets its stdio non-blocking; the runner emulates that mode
// rather than set it on the container's stdio, whose open file descriptions
// it shares with whoever started it (a shell's terminal would be left
// non-blocking after the container).
func TestWasiStdioStaysBlocking(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	cmd := guestCmd(t, "hello.wasm", nil)
	cmd.Stdin, cmd.Stdout = r, w
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []*os.File{r, w} {
		// Not f.Fd(), which would make it blocking first.
		var flags int
		raw, err := f.SyscallConn()
		if err == nil {
			err = raw.Control(func(fd uintptr) { flags, err = unix.FcntlInt(fd, unix.F_GETFL, 0) })
		}
		if err != nil || flags&unix.O_NONBLOCK != 0 {
			t.Errorf("%s: flags %#x, %v; want it blocking as it was", f.Name(), flags, err)
		}
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if line != "hello from wasm\n" {
		t.Errorf("guest wrote %q, %v", line, err)
	}
}
