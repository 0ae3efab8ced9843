package tests

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// inNetNS joins the container of pid's network namespace, as a pod's
// containers share their sandbox's.
func inNetNS(pid int) specOpt {
	return func(s *specs.Spec) {
		for i, ns := range s.Linux.Namespaces {
			if ns.Type == specs.NetworkNamespace {
				s.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/net", pid)
			}
		}
	}
}

// withNetAdmin lets a busybox container bring its namespace's loopback up,
// as a pod's network set-up does before its containers start.
func withNetAdmin() specOpt {
	return func(s *specs.Spec) {
		c := s.Process.Capabilities
		c.Bounding = append(c.Bounding, "CAP_NET_ADMIN")
		c.Effective = append(c.Effective, "CAP_NET_ADMIN")
		c.Permitted = append(c.Permitted, "CAP_NET_ADMIN")
	}
}

// listening polls until a TCP socket of the network namespace of pid
// listens on port.
func listening(t *testing.T, pid, port int) {
	t.Helper()
	want := fmt.Sprintf(":%04X 00000000000000000000000000000000:0000 0A", port)
	poll(t, fmt.Sprintf("port %d to listen", port), func() bool {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/tcp6", pid))
		return err == nil && strings.Contains(string(b), want)
	})
}

// A pod without an engine: a wasm HTTP server container and a native
// busybox container in its network namespace, which fetches from it over
// 127.0.0.1 and ::1.
func TestWasmNetworkServerAndSidecar(t *testing.T) {
	e := newEnv(t)
	server, _ := e.startSleeper(withRootfs(e.guestRootfs(false, "httpserver.wasm")), wasmHandler,
		withArgs("/httpserver.wasm", "[::]:8080"))
	pid := e.state(server).Pid
	listening(t, pid, 8080)
	sidecar := e.bundle(inNetNS(pid), withNetAdmin(), withArgs("sh", "-c",
		"busybox ip link set lo up && busybox wget -q -O- http://127.0.0.1:8080/v4 && busybox wget -q -O- 'http://[::1]:8080/v6'"))
	r := e.run("run", "--bundle", sidecar, e.newID())
	if want := "hello from wasm /v4\nhello from wasm /v6\n"; r.code != 0 || r.stdout != want {
		t.Errorf("sidecar: %s\nwant exit 0 and %q", r, want)
	}
	e.mustRun("kill", server, "TERM")
	e.waitStatus(server, specs.StateStopped)
	e.mustRun("delete", server)
}

// serveDNS answers A queries for name with 127.0.0.1 (and every other query
// with no answer) on 127.0.0.1:53 of the network namespace of pid.
func serveDNS(t *testing.T, pid int, name string) {
	t.Helper()
	conn := make(chan net.PacketConn, 1)
	go func() {
		// A socket belongs to the namespace it is made in: make it on a
		// thread of that namespace, which then ends with the goroutine.
		runtime.LockOSThread()
		ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
		if err == nil {
			err = unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET)
			ns.Close()
		}
		if err != nil {
			t.Error(err)
			conn <- nil
			return
		}
		c, err := net.ListenPacket("udp", "127.0.0.1:53")
		if err != nil {
			t.Error(err)
		}
		conn <- c
	}()
	c := <-conn
	if c == nil {
		t.FailNow()
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, peer, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			if reply := dnsReply(buf[:n], name); reply != nil {
				c.WriteTo(reply, peer)
			}
		}
	}()
}

// dnsReply answers one query: name's A record, or nothing found.
func dnsReply(q []byte, name string) []byte {
	if len(q) < 12 {
		return nil
	}
	var labels []string
	i := 12
	for i < len(q) && q[i] != 0 {
		n := int(q[i])
		if i+1+n > len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+n]))
		i += 1 + n
	}
	if i+5 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i+1:])
	question := q[12 : i+5]
	found := strings.EqualFold(strings.Join(labels, "."), name)
	reply := append([]byte{}, q[:2]...)
	rcode := byte(0)
	if !found {
		rcode = 3 // NXDOMAIN
	}
	answers := uint16(0)
	if found && qtype == 1 {
		answers = 1
	}
	reply = append(reply, 0x81, 0x80|rcode, 0, 1, byte(answers>>8), byte(answers), 0, 0, 0, 0)
	reply = append(reply, question...)
	if answers == 1 {
		reply = append(reply, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1)
	}
	return reply
}

// A wasm client in a native httpd's network namespace fetches from it by
// address, by a name of its /etc/hosts and by a name a DNS server of the
// namespace knows (as its /etc/resolv.conf says), with Go's resolver and
// with sock_getaddrinfo's.
func TestWasmNetworkClient(t *testing.T) {
	e := newEnv(t)
	web, _ := e.startSleeper(withWritableRootfs(), withNetAdmin(), withArgs("sh", "-c",
		"busybox ip link set lo up && mkdir -p /tmp/www && echo native page > /tmp/www/page && exec busybox httpd -f -p 8080 -h /tmp/www"))
	pid := e.state(web).Pid
	listening(t, pid, 8080)
	serveDNS(t, pid, "web.dns.test")

	rootfs := e.guestRootfs(false, "httpclient.wasm", "wasicheck.wasm")
	files := map[string]string{
		"etc/hosts":       "127.0.0.1 localhost\n127.0.0.1 web.hosts.test\n",
		"etc/resolv.conf": "nameserver 127.0.0.1\noptions attempts:1\n",
		"etc/services":    "# name port/protocol aliases\nhttp 80/tcp www\n",
	}
	if err := os.MkdirAll(filepath.Join(rootfs, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(rootfs, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	client := e.bundle(withRootfs(rootfs), wasmHandler, inNetNS(pid), withArgs("/httpclient.wasm",
		"http://127.0.0.1:8080/page", "http://web.hosts.test:8080/page", "http://web.dns.test:8080/page"))
	if r := e.run("run", "--bundle", client, e.newID()); r.code != 0 || r.stdout != strings.Repeat("native page\n", 3) {
		t.Errorf("client: %s\nwant the page three times", r)
	}
	// A service by name, from the container's /etc/services.
	for _, args := range [][]string{{"web.hosts.test", "80"}, {"web.dns.test", "www"}} {
		resolve := e.bundle(withRootfs(rootfs), wasmHandler, inNetNS(pid), withArgs(append([]string{"/wasicheck.wasm", "resolve"}, args...)...))
		if r := e.run("run", "--bundle", resolve, e.newID()); r.code != 0 || r.stdout != "127.0.0.1\n" {
			t.Errorf("sock_getaddrinfo %s: %s\nwant 127.0.0.1", args, r)
		}
	}
	e.mustRun("kill", web, "KILL")
	e.waitStatus(web, specs.StateStopped)
	e.mustRun("delete", web)
}

// fuzz.wat calls the runner's host functions with random arguments on a
// memory of random contents, through wasmtime: each run must end with the
// guest's exit 0, never a crash of the runner. Its rootfs is its own,
// writable, for the files it creates and removes at random.
func TestWasmHostCallFuzz(t *testing.T) {
	for i := range 6 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			e := newEnv(t)
			bundle := e.wasmBundle([]string{"fuzz.wasm"}, withWritableRootfs())
			if r := e.run("run", "--bundle", bundle, e.newID()); r.code != 0 {
				t.Errorf("run: %s\nwant exit 0", r)
			}
		})
	}
}
