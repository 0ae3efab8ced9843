package engines

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wrunc/wrunc/tests/nodecheck"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// criClient is what a kubelet uses of containerd: no crictl is obtainable
// here.
type criClient struct {
	runtimeapi.RuntimeServiceClient
	runtimeapi.ImageServiceClient
}

func dialCRI(t *testing.T, c *containerd) criClient {
	t.Helper()
	conn, err := grpc.NewClient("unix://"+c.sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("CRI client: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return criClient{runtimeapi.NewRuntimeServiceClient(conn), runtimeapi.NewImageServiceClient(conn)}
}

// waitImages waits until the CRI lists each image.
func (cri criClient) waitImages(t *testing.T, images ...string) {
	t.Helper()
	for _, img := range images {
		eventually(t, "the CRI to list "+img, func() bool {
			r, err := cri.ImageStatus(callCtx(t), &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: img}})
			return err == nil && r.Image != nil
		})
	}
}

// callCtx bounds one CRI call.
func callCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	t.Cleanup(cancel)
	return ctx
}

// TestCRIPodWithWasmApp runs a pod the way a kubelet would, under the
// runtime handler "wrunc": the pod asks for compat-smart, so its wasm app
// (a component) runs as wasm while the pause sandbox and a busybox sidecar
// run natively.
func TestCRIPodWithWasmApp(t *testing.T) {
	c := startContainerd(t)
	cri := dialCRI(t, c)
	cri.waitImages(t, pauseImage, wasmImage, busyboxImage)

	uid := randomName("pod")
	podCgroup := filepath.Join(cgroupParent, uid)
	podConfig := &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: "wasm-app", Uid: uid, Namespace: "default"},
		LogDirectory: t.TempDir(),
		Annotations:  map[string]string{variantAnnotation: "compat-smart"},
		// Host network: no CNI plugin needed, and then no hostname allowed.
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			CgroupParent: podCgroup,
			SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
				NamespaceOptions: &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_NODE},
			},
		},
	}
	pod := runPod(t, cri, podConfig)
	sandbox := pod.id
	// The app is a component: the Go probe adapted to wasi:cli/command.
	app := pod.start(t, "app", wasmImage, []string{"/probe.component.wasm", "sleep", "600"}, "ready")
	sidecar := pod.start(t, "sidecar", busyboxImage, sidecarWaiter, "ready")
	runcRoot := filepath.Join(c.runcRoot, criNamespace)

	t.Run("handlers", func(t *testing.T) {
		for id, want := range map[string]string{sandbox: "native", app: "wasm", sidecar: "native"} {
			st := stateOf(t, runcRoot, id)
			if st.Handler != want || st.Annotations[variantAnnotation] != "compat-smart" {
				t.Errorf("container %s: handler %q with annotations %v, want %q with %s=compat-smart", id, st.Handler, st.Annotations, want, variantAnnotation)
			}
		}
		if typ := stateOf(t, runcRoot, sandbox).Annotations["io.kubernetes.cri.container-type"]; typ != "sandbox" {
			t.Errorf("the sandbox's container-type annotation is %q", typ)
		}
	})
	t.Run("ExecSync", func(t *testing.T) {
		for _, c := range []struct {
			id   string
			cmd  []string
			out  string
			code int32
		}{
			{app, wasmWorkload.exec, wasmWorkload.execOut, 0},
			{app, []string{"/probe.wasm", "exit", "9"}, "", 9},
			{app, []string{"/hello-js.component.wasm", "x"}, "hello from JavaScript: /hello-js.component.wasm x\n", 0},
			{sidecar, []string{"sh", "-c", "echo side; exit 3"}, "side\n", 3},
		} {
			r, err := cri.ExecSync(callCtx(t), &runtimeapi.ExecSyncRequest{ContainerId: c.id, Cmd: c.cmd, Timeout: 60})
			if err != nil {
				t.Errorf("ExecSync %v in %s: %v", c.cmd, c.id, err)
				continue
			}
			if string(r.Stdout) != c.out || r.ExitCode != c.code {
				t.Errorf("ExecSync %v: exit %d, stdout %q, stderr %q; want exit %d, stdout %q", c.cmd, r.ExitCode, r.Stdout, r.Stderr, c.code, c.out)
			}
		}
	})
	t.Run("ContainerStats", func(t *testing.T) {
		for _, id := range []string{app, sidecar} {
			r, err := cri.ContainerStats(callCtx(t), &runtimeapi.ContainerStatsRequest{ContainerId: id})
			if err != nil {
				t.Fatalf("ContainerStats %s: %v", id, err)
			}
			s := r.Stats
			if s.GetCpu().GetUsageCoreNanoSeconds().GetValue() == 0 || s.GetMemory().GetWorkingSetBytes().GetValue() == 0 {
				t.Errorf("ContainerStats %s report no cpu or memory use: %v", id, s)
			}
		}
	})
	t.Run("UpdateContainerResources", func(t *testing.T) {
		// The shim hands the resources to `update --resources -` on stdin.
		for _, id := range []string{app, sidecar} {
			_, err := cri.UpdateContainerResources(callCtx(t), &runtimeapi.UpdateContainerResourcesRequest{
				ContainerId: id, Linux: &runtimeapi.LinuxContainerResources{CpuShares: 512},
			})
			if err != nil {
				t.Fatalf("UpdateContainerResources %s: %v", id, err)
			}
			if got := cgroupFile(t, "cpu", filepath.Join(podCgroup, id), "cpu.shares"); got != "512" {
				t.Errorf("container %s: cpu.shares %s after UpdateContainerResources, want 512", id, got)
			}
		}
	})
	t.Run("stop", func(t *testing.T) {
		// As a kubelet does: each container with its grace period, then
		// the sandbox. Exiting by TERM's status shows none needed KILL.
		for id, want := range map[string]int32{app: 128 + 15, sidecar: 0} {
			if _, err := cri.StopContainer(callCtx(t), &runtimeapi.StopContainerRequest{ContainerId: id, Timeout: 30}); err != nil {
				t.Fatalf("StopContainer %s: %v", id, err)
			}
			r, err := cri.ContainerStatus(callCtx(t), &runtimeapi.ContainerStatusRequest{ContainerId: id})
			if err != nil {
				t.Fatalf("ContainerStatus %s: %v", id, err)
			}
			if st := r.Status; st.State != runtimeapi.ContainerState_CONTAINER_EXITED || st.ExitCode != want {
				t.Errorf("container %s after StopContainer: %v, exit %d; want EXITED, exit %d", id, st.State, st.ExitCode, want)
			}
		}
		if _, err := cri.StopPodSandbox(callCtx(t), &runtimeapi.StopPodSandboxRequest{PodSandboxId: sandbox}); err != nil {
			t.Fatalf("StopPodSandbox: %v", err)
		}
		r, err := cri.PodSandboxStatus(callCtx(t), &runtimeapi.PodSandboxStatusRequest{PodSandboxId: sandbox})
		if err != nil {
			t.Fatalf("PodSandboxStatus: %v", err)
		}
		if r.Status.State != runtimeapi.PodSandboxState_SANDBOX_NOTREADY {
			t.Errorf("sandbox %v after StopPodSandbox", r.Status.State)
		}
		eventually(t, "the pod's processes to exit", func() bool { return len(cgroupProcs(podCgroup)) == 0 })
	})
	t.Run("remove", func(t *testing.T) {
		if _, err := cri.RemovePodSandbox(callCtx(t), &runtimeapi.RemovePodSandboxRequest{PodSandboxId: sandbox}); err != nil {
			t.Fatalf("RemovePodSandbox: %v", err)
		}
		_, err := cri.PodSandboxStatus(callCtx(t), &runtimeapi.PodSandboxStatusRequest{PodSandboxId: sandbox})
		if status.Code(err) != codes.NotFound {
			t.Errorf("PodSandboxStatus after RemovePodSandbox: %v, want NotFound", err)
		}
		r, err := cri.ListContainers(callCtx(t), &runtimeapi.ListContainersRequest{Filter: &runtimeapi.ContainerFilter{PodSandboxId: sandbox}})
		if err != nil || len(r.Containers) > 0 {
			t.Errorf("containers of the removed pod: %v (err=%v)", r.GetContainers(), err)
		}
		assertNoTrace(t, []string{sandbox, app, sidecar}, runcRoot, c.taskDir(criNamespace),
			c.criDir("root", "sandboxes"), c.criDir("root", "containers"),
			c.criDir("state", "sandboxes"), c.criDir("state", "containers"))
	})
}

// sidecarWaiter, unlike nativeWaiter, obeys TERM, as a well-behaved
// sidecar does.
var sidecarWaiter = []string{"sh", "-c", `trap 'exit 0' TERM; echo ready; while :; do sleep 1 & wait $!; done`}

// criPod is a pod sandbox run through the CRI, removed when the test ends.
type criPod struct {
	cri    criClient
	config *runtimeapi.PodSandboxConfig
	id     string
}

func runPod(t *testing.T, cri criClient, config *runtimeapi.PodSandboxConfig) *criPod {
	t.Helper()
	r, err := cri.RunPodSandbox(callCtx(t), &runtimeapi.RunPodSandboxRequest{Config: config, RuntimeHandler: criHandler})
	if err != nil {
		t.Fatalf("RunPodSandbox: %v", err)
	}
	p := &criPod{cri: cri, config: config, id: r.PodSandboxId}
	t.Cleanup(func() {
		cri.StopPodSandbox(callCtx(t), &runtimeapi.StopPodSandboxRequest{PodSandboxId: p.id})
		cri.RemovePodSandbox(callCtx(t), &runtimeapi.RemovePodSandboxRequest{PodSandboxId: p.id})
	})
	return p
}

// start creates and starts a container of the pod, and waits until its log
// has a line ending in ready.
func (p *criPod) start(t *testing.T, name, image string, command []string, ready string) string {
	t.Helper()
	cri := p.cri
	r, err := cri.CreateContainer(callCtx(t), &runtimeapi.CreateContainerRequest{
		PodSandboxId: p.id,
		Config: &runtimeapi.ContainerConfig{
			Metadata: &runtimeapi.ContainerMetadata{Name: name},
			Image:    &runtimeapi.ImageSpec{Image: image},
			Command:  command,
			LogPath:  name + ".log",
		},
		SandboxConfig: p.config,
	})
	if err != nil {
		t.Fatalf("CreateContainer %s: %v", name, err)
	}
	if _, err := cri.StartContainer(callCtx(t), &runtimeapi.StartContainerRequest{ContainerId: r.ContainerId}); err != nil {
		t.Fatalf("StartContainer %s: %v", name, err)
	}
	log := filepath.Join(p.config.LogDirectory, name+".log")
	var st *runtimeapi.ContainerStatus
	eventually(t, name+" to be ready", func() bool {
		if b, _ := os.ReadFile(log); strings.Contains(string(b), " "+ready+"\n") {
			return true
		}
		s, err := cri.ContainerStatus(callCtx(t), &runtimeapi.ContainerStatusRequest{ContainerId: r.ContainerId})
		st = s.GetStatus()
		return err == nil && st.State == runtimeapi.ContainerState_CONTAINER_EXITED
	})
	if st.GetState() == runtimeapi.ContainerState_CONTAINER_EXITED {
		t.Fatalf("%s exited with %d (%s) before it was ready; its log:\n%s", name, st.ExitCode, st.Message, nodecheck.ReadFile(t, log))
	}
	return r.ContainerId
}

// cgroupProcs lists the processes in the cgroup rel and below it, from the
// pids hierarchy.
func cgroupProcs(rel string) []int {
	var pids []int
	filepath.WalkDir(filepath.Join("/sys/fs/cgroup/pids", rel), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Name() == "cgroup.procs" {
			b, _ := os.ReadFile(p)
			for _, f := range strings.Fields(string(b)) {
				if pid, err := strconv.Atoi(f); err == nil {
					pids = append(pids, pid)
				}
			}
		}
		return nil
	})
	return pids
}
