package engines

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Namespaces: ctr's containers and the CRI's pods.
const (
	ctrNamespace = "wrunc-tests"
	criNamespace = "k8s.io"
)

// containerd is the suite's private containerd; the CRI plugin's runtime
// handler "wrunc" runs the runc v2 shim with wrunc as its runc.
type containerd struct {
	dir, sock string
	runcRoot  string // the shim runs wrunc with --root <runcRoot>/<namespace>
	log       string
	cmd       *exec.Cmd
	exited    chan struct{}
}

const criHandler = "wrunc"

// The CNI plugins of Debian's containernetworking-plugins, and the range
// pods of their own network namespace get their address from: TEST-NET-2,
// never routed, unlike the VM's own TEST-NET-1.
const (
	cniPluginDir = "/usr/lib/cni"
	podSubnet    = "198.51.100.0/24"
)

var containerdFixture fixture[*containerd]

// startContainerd returns the suite's containerd, started by the first test
// that needs it, with the images imported into both namespaces.
func startContainerd(t *testing.T) *containerd {
	t.Helper()
	requireTools(t, "containerd", "ctr", "containerd-shim-runc-v2", "skopeo")
	s := containersStore(t)
	return containerdFixture.get(t, func() (*containerd, error) { return launchContainerd(s) })
}

func launchContainerd(s *store) (*containerd, error) {
	dir := filepath.Join(workDir, "containerd")
	c := &containerd{
		dir:      dir,
		sock:     filepath.Join(dir, "containerd.sock"),
		runcRoot: filepath.Join(dir, "runc"),
		log:      filepath.Join(dir, "containerd.log"),
		exited:   make(chan struct{}),
	}
	// Only the CRI plugin and the runc v2 shim are wanted: the snapshotters
	// that can't work here are disabled rather than left to fail loudly.
	config := fmt.Sprintf(`version = 2
root = %[1]q
state = %[2]q
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = %[3]q

[ttrpc]
  address = "%[3]s.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = %[4]q

[plugins."io.containerd.grpc.v1.cri"]
  # The sandbox asks for oomScoreAdj -998, which needs CAP_SYS_RESOURCE.
  restrict_oom_score_adj = true
  sandbox_image = %[5]q
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %[10]q
    conf_dir = %[6]q
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = %[7]q
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.%[7]s]
      runtime_type = "io.containerd.runc.v2"
      pod_annotations = ["module.wasm.image/variant*"]
      container_annotations = ["module.wasm.image/variant*"]
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.%[7]s.options]
        BinaryName = %[8]q
        Root = %[9]q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), c.sock, filepath.Join(dir, "opt"),
		pauseImage, filepath.Join(dir, "cni"), criHandler, wruncBin, c.runcRoot, cniPluginDir)
	// Pods of their own network get a point-to-point link to the host
	// (no bridge, no NAT) with an address from a range of the suite's own.
	cniConfig := fmt.Sprintf(`{"cniVersion": "1.0.0", "name": "wrunc-tests", "plugins": [{"type": "ptp", "ipMasq": false,
  "ipam": {"type": "host-local", "ranges": [[{"subnet": %q}]], "dataDir": %q}}]}
`, podSubnet, filepath.Join(dir, "cni-ipam"))
	if err := writeFiles(dir, map[string]string{"config.toml": config, "cni/10-wrunc-tests.conflist": cniConfig}); err != nil {
		return nil, err
	}
	logFile, err := os.Create(c.log)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	c.cmd = exec.Command("containerd", "--config", filepath.Join(dir, "config.toml"))
	// The shims inherit containerd's environment, and wrunc the shims'.
	c.cmd.Env = append(os.Environ(), "WRUNC_CACHE_DIR="+wasmCacheDir())
	c.cmd.Stdout, c.cmd.Stderr = logFile, logFile
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting containerd: %w", err)
	}
	go func() { c.cmd.Wait(); close(c.exited) }()
	atTeardown(c.stop)
	if err := c.waitReady(); err != nil {
		return nil, err
	}
	for ns, imgs := range map[string][]string{
		ctrNamespace: {busyboxImage, wasmImage, mixedImage},
		criNamespace: {pauseImage, busyboxImage, wasmImage},
	} {
		for _, img := range imgs {
			if err := c.importImage(s, ns, img); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

func (c *containerd) waitReady() error {
	for deadline := time.Now().Add(waitTimeout); ; time.Sleep(100 * time.Millisecond) {
		select {
		case <-c.exited:
			b, _ := os.ReadFile(c.log)
			return fmt.Errorf("containerd exited at start-up: %v\n%s", c.cmd.ProcessState, b)
		default:
		}
		if _, err := c.ctr("").output("version"); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			return fmt.Errorf("containerd not serving on %s: %w", c.sock, err)
		}
	}
}

// importImage brings an image from the store into a namespace, the way
// engines.md describes: an OCI archive from skopeo, imported by ctr.
func (c *containerd) importImage(s *store, ns, image string) error {
	archive := filepath.Join(c.dir, "archives", strings.NewReplacer("/", "_", ":", "_").Replace(image)+".tar")
	if _, err := os.Stat(archive); err != nil {
		if err := os.MkdirAll(filepath.Dir(archive), 0o755); err != nil {
			return err
		}
		if err := s.ociArchive(image, archive); err != nil {
			return err
		}
	}
	base, _, _ := strings.Cut(image, ":")
	_, err := c.ctr(ns).output("image", "import", "--base-name", base, archive)
	return err
}

func (c *containerd) ctr(ns string) cli {
	args := []string{"--address", c.sock}
	if ns != "" {
		args = append(args, "--namespace", ns)
	}
	return cli{name: "ctr", args: args}
}

// stop removes whatever tests left in containerd, which is reported, then
// stops containerd. The shims exit with their last task.
func (c *containerd) stop() error {
	var errs []error
	for _, ns := range []string{ctrNamespace, criNamespace} {
		ctr := c.ctr(ns)
		tasks, _ := ctr.output("task", "list", "--quiet")
		containers, _ := ctr.output("container", "list", "--quiet")
		for _, id := range strings.Fields(tasks) {
			ctr.exec("task", "delete", "--force", id)
		}
		for _, id := range strings.Fields(containers) {
			ctr.exec("container", "delete", id)
		}
		if ids := strings.Fields(containers); len(ids) > 0 {
			errs = append(errs, fmt.Errorf("containers left in containerd namespace %s: %v", ns, ids))
		}
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(waitTimeout):
		c.cmd.Process.Kill()
		<-c.exited
		errs = append(errs, errors.New("containerd ignored SIGTERM"))
	}
	return errors.Join(errs...)
}

// taskDir is where the shim keeps the bundles of a namespace.
func (c *containerd) taskDir(ns string) string {
	return filepath.Join(c.dir, "state", "io.containerd.runtime.v2.task", ns)
}

// criDir is where the CRI plugin keeps its sandboxes' or containers' files,
// under containerd's root or state dir.
func (c *containerd) criDir(rootOrState, kind string) string {
	return filepath.Join(c.dir, rootOrState, "io.containerd.grpc.v1.cri", kind)
}

// ctrRun starts `ctr run` of w's image in the foreground, in the
// background of the test: its exit status is the container's.
func (c *containerd) ctrRun(t *testing.T, id string, w workload, args ...string) *proc {
	t.Helper()
	ctr := c.ctr(ctrNamespace)
	flags := []string{"run", "--rm", "--runc-binary", wruncBin, "--runc-root", c.runcRoot,
		"--fifo-dir", filepath.Join(c.dir, "fifo"), "--cgroup", filepath.Join(cgroupParent, id)}
	// ctr never copies an image's annotations into config.json.
	switch {
	case w.annotation != "":
		flags = append(flags, "--annotation", w.annotation)
	case w.image == wasmImage:
		flags = append(flags, "--annotation", variantAnnotation+"=compat")
	}
	p, err := ctr.start(append(append(flags, w.image, id), args...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctr.exec("task", "delete", "--force", id)
		ctr.exec("container", "delete", id)
		p.wait()
	})
	return p
}

// waitOutput waits until the container run by p prints line.
func waitOutput(t *testing.T, p *proc, line string) {
	t.Helper()
	eventually(t, "the container to print "+strconv.Quote(line), func() bool {
		return p.done() || strings.Contains(p.output(), line+"\n")
	})
	if !p.done() {
		return
	}
	if r, _ := p.wait(); !strings.Contains(r.stdout, line+"\n") {
		t.Fatalf("the container exited before printing %q:\n%s", line, r)
	}
}

func TestCtrRun(t *testing.T) {
	for _, c := range []struct {
		name string
		w    workload
		args []string
		code int
		out  string
	}{
		{"native exit status", nativeWorkload, []string{"sh", "-c", "echo out; exit 5"}, 5, "out\n"},
		{"wasm image CMD", wasmWorkload, nil, 0, "hello from wasm\n"},
		{"wasm exit status", wasmWorkload, []string{"/probe.wasm", "exit", "42"}, 42, ""},
		{"Go component", wasmWorkload, []string{"/hello.component.wasm"}, 0, "hello from wasm\n"},
		{"JavaScript component", wasmWorkload, []string{"/hello-js.component.wasm", "a"}, 0, "hello from JavaScript: /hello-js.component.wasm a\n"},
		{"compat-smart wasm", smartWasmWorkload, []string{"/probe.wasm", "args", "a"}, 0, "/probe.wasm\nargs\na\n"},
		{"compat-smart native", smartNativeWorkload, []string{"sh", "-c", "echo native; exit 3"}, 3, "native\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctd := startContainerd(t)
			id := randomName("run")
			r, err := ctd.ctrRun(t, id, c.w, c.args...).wait()
			if err != nil {
				t.Fatal(err)
			}
			if r.code != c.code || r.stdout != c.out {
				t.Errorf("ctr run: want exit %d, stdout %q; got\n%s", c.code, c.out, r)
			}
			assertNoTrace(t, []string{id}, filepath.Join(ctd.runcRoot, ctrNamespace), ctd.taskDir(ctrNamespace))
		})
	}
}

// taskMetrics is the part of `ctr task metrics --format json` (cgroup v1
// metrics, which the shim reads from the container's cgroups) checked here.
type taskMetrics struct {
	Pids struct {
		Current uint64 `json:"current"`
	} `json:"pids"`
	CPU struct {
		Usage struct {
			Total uint64 `json:"total"`
		} `json:"usage"`
	} `json:"cpu"`
	Memory struct {
		Usage struct {
			Usage uint64 `json:"usage"`
		} `json:"usage"`
	} `json:"memory"`
}

// TestCtrTask drives a running container through ctr's task commands.
func TestCtrTask(t *testing.T) {
	for _, w := range []workload{nativeWorkload, wasmWorkload} {
		t.Run(w.name, func(t *testing.T) {
			t.Parallel()
			c := startContainerd(t)
			ctr := c.ctr(ctrNamespace)
			id := randomName("task")
			run := c.ctrRun(t, id, w, w.waiter...)
			waitOutput(t, run, "ready")
			st := stateOf(t, filepath.Join(c.runcRoot, ctrNamespace), id)
			status := func() string {
				out := ctr.must(t, "task", "list").stdout
				if f := strings.Fields(lines(out, id)); len(f) == 3 {
					return f[2]
				}
				t.Fatalf("task %s not listed:\n%s", id, out)
				return ""
			}

			t.Run("handler", func(t *testing.T) {
				if st.Handler != w.handler {
					t.Errorf("handler %q, want %q", st.Handler, w.handler)
				}
			})
			t.Run("exec", func(t *testing.T) {
				r := ctr.must(t, append([]string{"task", "exec", "--exec-id", "probe", "--fifo-dir", filepath.Join(c.dir, "fifo"), id}, w.exec...)...)
				if r.stdout != w.execOut {
					t.Errorf("task exec %v: stdout %q, want %q", w.exec, r.stdout, w.execOut)
				}
			})
			t.Run("ps", func(t *testing.T) {
				out := ctr.must(t, "task", "ps", id).stdout
				if !strings.Contains(out, "\n"+strconv.Itoa(st.Pid)+" ") {
					t.Errorf("task ps does not list init (pid %d):\n%s", st.Pid, out)
				}
			})
			t.Run("pause", func(t *testing.T) {
				cgroup := filepath.Join(cgroupParent, id)
				ctr.must(t, "task", "pause", id)
				if got, freezer := status(), cgroupFile(t, "freezer", cgroup, "freezer.state"); got != "PAUSED" || freezer != "FROZEN" {
					t.Errorf("after pause: task %s, freezer.state %s; want PAUSED, FROZEN", got, freezer)
				}
				ctr.must(t, "task", "resume", id)
				if got, freezer := status(), cgroupFile(t, "freezer", cgroup, "freezer.state"); got != "RUNNING" || freezer != "THAWED" {
					t.Errorf("after resume: task %s, freezer.state %s; want RUNNING, THAWED", got, freezer)
				}
			})
			t.Run("metrics", func(t *testing.T) {
				r := ctr.must(t, "task", "metrics", "--format", "json", id)
				var m taskMetrics
				if err := json.Unmarshal([]byte(r.stdout), &m); err != nil {
					t.Fatalf("task metrics: %v\n%s", err, r)
				}
				if m.Pids.Current == 0 || m.CPU.Usage.Total == 0 || m.Memory.Usage.Usage == 0 {
					t.Errorf("task metrics report no pids, cpu or memory:\n%s", r.stdout)
				}
			})
			if w.usr1Out != "" {
				t.Run("kill USR1", func(t *testing.T) {
					ctr.must(t, "task", "kill", "--signal", "SIGUSR1", id)
					waitOutput(t, run, w.usr1Out)
				})
			}
			t.Run("kill", func(t *testing.T) {
				ctr.must(t, "task", "kill", "--signal", w.stopSignal, id)
				r, err := run.wait()
				if err != nil {
					t.Fatal(err)
				}
				if r.code != w.stopCode {
					t.Errorf("exit status %d after %s, want %d\n%s", r.code, w.stopSignal, w.stopCode, r)
				}
				assertNoTrace(t, []string{id}, filepath.Join(c.runcRoot, ctrNamespace), c.taskDir(ctrNamespace))
			})
		})
	}
}
