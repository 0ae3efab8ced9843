package engines

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The suite's images exist only in its private storage; nothing is pulled.
const (
	busyboxImage = "localhost/wrunc-busybox:latest"
	wasmImage    = "localhost/wrunc-wasm:latest"
	mixedImage   = "localhost/wrunc-mixed:latest" // busybox plus a wasm module, for compat-smart
	pauseImage   = "localhost/wrunc-pause:latest"
)

const variantAnnotation = "module.wasm.image/variant"

// images are built with `buildah build` the way users build theirs: the
// wasm image FROM scratch with the variant annotation given to buildah,
// which podman then copies into config.json.
var images = []struct {
	name, containerfile string
	flags               []string
}{
	{busyboxImage, "FROM scratch\nCOPY rootfs/ /\nCMD [\"sh\"]\n", nil},
	{wasmImage, "FROM scratch\nCOPY hello.wasm probe.wasm trap.wasm httpserver.wasm hello.component.wasm probe.component.wasm hello-js.component.wasm /\nCMD [\"/hello.wasm\"]\n",
		[]string{"--annotation", variantAnnotation + "=compat"}},
	{mixedImage, "FROM " + busyboxImage + "\nCOPY probe.wasm /\n", nil},
	{pauseImage, "FROM scratch\nCOPY pause /\nENTRYPOINT [\"/pause\"]\n", nil},
}

// store is the suite's private containers-storage and containers.conf,
// which buildah, podman and skopeo all find through the environment.
type store struct {
	dir        string
	env        []string
	policy     string // signature policy accepting the local images
	wruncRoot  string // the state dir of the wrunc podman runs
	runtimeLog string // every runtime call podman and conmon make, one a line
}

var storeFixture fixture[*store]

// containersStore returns the private store, with the suite's images built.
func containersStore(t *testing.T) *store {
	t.Helper()
	requireTools(t, "buildah", "gcc", "wat2wasm")
	return storeFixture.get(t, setupStore)
}

func setupStore() (*store, error) {
	dir := filepath.Join(workDir, "containers")
	s := &store{
		dir:        dir,
		policy:     filepath.Join(dir, "policy.json"),
		wruncRoot:  filepath.Join(dir, "wrunc-state"),
		runtimeLog: filepath.Join(dir, "runtime-calls.log"),
	}
	s.env = []string{
		"CONTAINERS_CONF=" + filepath.Join(dir, "containers.conf"),
		"CONTAINERS_STORAGE_CONF=" + filepath.Join(dir, "storage.conf"),
		"CONTAINERS_REGISTRIES_CONF=" + filepath.Join(dir, "registries.conf"),
		"TMPDIR=" + filepath.Join(dir, "tmp"),
	}
	err := writeFiles(dir, map[string]string{
		"storage.conf": fmt.Sprintf("[storage]\ndriver = \"vfs\"\ngraphroot = %q\nrunroot = %q\n",
			filepath.Join(dir, "storage"), filepath.Join(dir, "run")),
		"containers.conf": fmt.Sprintf(`[containers]
# Root here lacks CAP_SYS_RESOURCE: podman's default nofile of 1048576 fails.
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
netns = "none"

[engine]
runtime = "wrunc"
runtime_supports_json = ["crun", "runc", "kata", "runsc", "krun", "wrunc"]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = %q
tmp_dir = %q
volume_path = %q

[engine.runtimes]
wrunc = [%q]

[network]
network_config_dir = %q
`, filepath.Join(dir, "events.log"), filepath.Join(dir, "libpod"), filepath.Join(dir, "volumes"),
			filepath.Join(dir, "bin", "wrunc"), filepath.Join(dir, "networks")),
		"registries.conf": "unqualified-search-registries = []\n",
		"policy.json":     `{"default": [{"type": "insecureAcceptAnything"}]}` + "\n",
		// podman drops --runtime-flag when its cleanup process deletes an
		// exited container, so the state dir can't be given that way: a
		// wrapper gives it to every call (and logs the call). Its name is
		// what conmon matches against runtime_supports_json.
		"bin/wrunc": fmt.Sprintf("#!/bin/sh\nprintf '%%s\\n' \"$*\" >> %s\nWRUNC_CACHE_DIR=%s exec %s --root %s \"$@\"\n",
			s.runtimeLog, wasmCacheDir(), wruncBin, s.wruncRoot),
	})
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(filepath.Join(dir, "bin", "wrunc"), 0o755); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		return nil, err
	}
	if _, err := exec.LookPath("podman"); err == nil {
		atTeardown(removePodmanContainers(s))
	}
	context := filepath.Join(dir, "context")
	if err := buildContext(context); err != nil {
		return nil, err
	}
	buildah := cli{name: "buildah", env: s.env}
	for i, img := range images {
		file := filepath.Join(dir, fmt.Sprintf("Containerfile.%d", i))
		if err := os.WriteFile(file, []byte(img.containerfile), 0o644); err != nil {
			return nil, err
		}
		args := append([]string{"build", "--quiet", "--signature-policy", s.policy, "-f", file, "-t", img.name}, img.flags...)
		if _, err := buildah.output(append(args, context)...); err != nil {
			return nil, fmt.Errorf("building %s: %w", img.name, err)
		}
	}
	return s, nil
}

// removePodmanContainers removes what tests left in podman, which is
// reported: each test removes its own containers.
func removePodmanContainers(s *store) func() error {
	return func() error {
		podman := cli{name: "podman", env: s.env}
		left, err := podman.output("ps", "--all", "--quiet")
		if err != nil || strings.TrimSpace(left) == "" {
			return err
		}
		_, err = podman.output("rm", "--all", "--force", "--time", "0")
		return errors.Join(fmt.Errorf("podman containers left behind: %s", strings.Fields(left)), err)
	}
}

// ociArchive exports an image from the store for other engines to import.
func (s *store) ociArchive(image, path string) error {
	skopeo := cli{name: "skopeo", env: s.env}
	_, err := skopeo.output("--policy", s.policy, "copy", "--quiet", "containers-storage:"+image, "oci-archive:"+path+":"+image)
	return err
}

// wasmCacheDir is where every wrunc the engines run keeps compiled modules,
// so that each module is compiled once per suite run.
func wasmCacheDir() string { return filepath.Join(workDir, "wasm-cache") }
