package engines

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// serverPort is what the wasm HTTP server guest (testdata/httpserver)
// listens on in a pod's own network namespace.
const serverPort = "8080"

// serverArgs run the wasm HTTP server on IPv4 and IPv6 alike.
var serverArgs = []string{"/httpserver.wasm", "[::]:" + serverPort}

// fetchScript fetches a path of the wasm server over each loopback address
// from a busybox sidecar in the server's network namespace.
func fetchScript(addrs ...string) []string {
	var gets []string
	for _, a := range addrs {
		gets = append(gets, "busybox wget -q -O- 'http://"+a+":"+serverPort+"/"+loopbackName(a)+"'")
	}
	return []string{"sh", "-c", strings.Join(gets, " && ")}
}

// loopbackName is the path the sidecar asks for over addr, so that the
// answer shows which address it came through.
func loopbackName(addr string) string {
	if strings.HasPrefix(addr, "[") {
		return "v6"
	}
	return "v4"
}

// TestPodmanPodWasmServerAndSidecar: a podman pod of a wasm HTTP server and
// a native busybox sidecar, which reaches it over the pod's loopback.
func TestPodmanPodWasmServerAndSidecar(t *testing.T) {
	p := newPodman(t)
	pod := randomName("netpod")
	t.Cleanup(func() { p.exec("pod", "rm", "--force", "--time", "0", pod) })
	p.must(t, "pod", "create", "--name", pod, "--infra-image", pauseImage, "--cgroup-parent", cgroupParent, "--network", "none")
	server := pod + "-server"
	id := strings.TrimSpace(p.must(t, append([]string{"run", "-d", "--pod", pod, "--name", server, wasmImage}, serverArgs...)...).stdout)
	p.explainFailure(t, id)
	p.waitLog(t, server, "listening [::]:"+serverPort, 1)
	r := p.run(t, append([]string{"run", "--rm", "--pod", pod, busyboxImage}, fetchScript("127.0.0.1", "[::1]")...)...)
	if want := "hello from wasm /v4\nhello from wasm /v6\n"; r.code != 0 || r.stdout != want {
		t.Errorf("sidecar: %s\nwant exit 0 and %q", r, want)
	}
	infra := strings.TrimSpace(p.must(t, "pod", "inspect", "--format", "{{.InfraContainerID}}", pod).stdout)
	// podman 4.3 with cgroupfs on cgroup v1 fails to remove a pod's conmon
	// cgroup ("directory not empty"), for a pod of native containers alike,
	// after it has removed the containers: only that is let pass.
	if r := p.run(t, "pod", "rm", "--force", "--time", "10", pod); r.code != 0 && !strings.Contains(r.stderr, "conmon cgroup") {
		t.Errorf("podman pod rm: %s", r)
	}
	assertNoTrace(t, []string{infra, id}, p.s.wruncRoot)
}

// TestPodmanPublishWasmServer: `podman run -p` publishes the wasm HTTP
// server's port on the host's loopback, where the test reaches it through
// the bridge network's port forwarding.
func TestPodmanPublishWasmServer(t *testing.T) {
	p := newPodman(t)
	name := randomName("publish")
	hostPort := freeLoopbackPort(t)
	t.Cleanup(func() { p.exec("rm", "-f", "--time", "0", name) })
	id := strings.TrimSpace(p.must(t, append(runArgs("-d", "--name", name, "--network", "bridge",
		"-p", fmt.Sprintf("127.0.0.1:%d:%s", hostPort, serverPort), wasmImage), serverArgs...)...).stdout)
	p.explainFailure(t, id)
	p.waitLog(t, name, "listening [::]:"+serverPort, 1)
	client := http.Client{Timeout: waitTimeout}
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/published", hostPort))
	if err != nil {
		t.Fatalf("GET from the host: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || string(body) != "hello from wasm /published\n" {
		t.Errorf("GET from the host: %s %q (err=%v), want 200 and %q", resp.Status, body, err, "hello from wasm /published\n")
	}
	p.must(t, "rm", "--force", "--time", "10", name)
	assertNoTrace(t, []string{id}, p.s.wruncRoot)
}

// freeLoopbackPort is a TCP port of the host's loopback that nothing
// listens on now.
func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestCRIPodWasmServerAndSidecar: a CRI pod of its own network namespace
// (from the CNI plugin) with a wasm HTTP server and a native busybox
// sidecar, which reaches it over the pod's loopback.
func TestCRIPodWasmServerAndSidecar(t *testing.T) {
	c := startContainerd(t)
	for _, plugin := range []string{"ptp", "host-local", "loopback"} {
		if _, err := os.Stat(filepath.Join(cniPluginDir, plugin)); err != nil {
			t.Skipf("CNI plugin %s (Debian's containernetworking-plugins) is not installed: %v", plugin, err)
		}
	}
	cri := dialCRI(t, c)
	cri.waitImages(t, pauseImage, wasmImage, busyboxImage)
	uid := randomName("netpod")
	pod := runPod(t, cri, &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: "wasm-server", Uid: uid, Namespace: "default"},
		Hostname:     "wasm-server",
		LogDirectory: t.TempDir(),
		Annotations:  map[string]string{variantAnnotation: "compat-smart"},
		Linux:        &runtimeapi.LinuxPodSandboxConfig{CgroupParent: filepath.Join(cgroupParent, uid)},
	})
	server := pod.start(t, "server", wasmImage, serverArgs, "listening [::]:"+serverPort)
	sidecar := pod.start(t, "sidecar", busyboxImage, sidecarWaiter, "ready")
	if h := stateOf(t, filepath.Join(c.runcRoot, criNamespace), server).Handler; h != "wasm" {
		t.Errorf("the server runs as %q, want wasm", h)
	}
	r, err := cri.ExecSync(callCtx(t), &runtimeapi.ExecSyncRequest{ContainerId: sidecar, Cmd: fetchScript("127.0.0.1", "[::1]"), Timeout: 60})
	if err != nil {
		t.Fatalf("ExecSync in the sidecar: %v", err)
	}
	if want := "hello from wasm /v4\nhello from wasm /v6\n"; r.ExitCode != 0 || string(r.Stdout) != want {
		t.Errorf("sidecar: exit %d, stdout %q, stderr %q; want exit 0 and %q", r.ExitCode, r.Stdout, r.Stderr, want)
	}
}
