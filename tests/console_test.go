package tests

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestConsoleSocket(t *testing.T) {
	e := newEnv(t)
	id, bundle := e.newID(), e.bundle(withTerminal(), withArgs("sh"))
	sock, receive := consoleSocket(t)
	// create blocks until the pty master is handed over, so it runs
	// alongside the receiving end.
	create := e.background("create", "--bundle", bundle, "--console-socket", sock, id)
	pty := receive()
	if r := create.wait(); r.code != 0 {
		t.Fatalf("create: %s", r)
	}

	e.mustRun("start", id)
	if _, err := pty.WriteString("echo hello-$((6*7))\n"); err != nil {
		t.Fatal(err)
	}
	// The tty echoes the input back unexpanded, so only the shell's
	// own output contains the result.
	readUntil(t, pty, "hello-42")
	if _, err := pty.WriteString("exit\n"); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(id, specs.StateStopped)
}

// consoleSocket listens, as an engine does, on a new unix socket for the
// pty master of a terminal process; receive returns the master once the
// runtime has sent it.
func consoleSocket(t *testing.T) (path string, receive func() *os.File) {
	t.Helper()
	path, ln := listenUnix(t, "console.sock")
	return path, func() *os.File {
		t.Helper()
		pty := receivePty(t, ln)
		t.Cleanup(func() { pty.Close() })
		return pty
	}
}

// listenUnix listens on a new unix socket named name, until the test ends.
func listenUnix(t *testing.T, name string) (string, *net.UnixListener) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return path, ln
}

// receivePty returns the fd receiveFD receives as a pollable file, so
// reads can time out.
func receivePty(t *testing.T, ln *net.UnixListener) *os.File {
	t.Helper()
	fd := receiveFD(t, ln)
	if err := unix.SetNonblock(fd, true); err != nil {
		t.Fatal(err)
	}
	return os.NewFile(uintptr(fd), "pty-master")
}

// receiveFD accepts one connection on ln and returns the fd sent over it
// with SCM_RIGHTS.
func receiveFD(t *testing.T, ln *net.UnixListener) int {
	t.Helper()
	ln.SetDeadline(time.Now().Add(cmdTimeout))
	conn, err := ln.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(cmdTimeout))
	buf, oob := make([]byte, 4096), make([]byte, unix.CmsgSpace(4*4))
	_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		t.Fatalf("control messages %v: %v", msgs, err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		t.Fatalf("fds %v: %v", fds, err)
	}
	return fds[0]
}

func readUntil(t *testing.T, f *os.File, want string) {
	t.Helper()
	f.SetReadDeadline(time.Now().Add(15 * time.Second))
	var got bytes.Buffer
	buf := make([]byte, 1024)
	for !strings.Contains(got.String(), want) {
		n, err := f.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			t.Fatalf("reading pty for %q: %v; got %q", want, err, got.String())
		}
	}
}
