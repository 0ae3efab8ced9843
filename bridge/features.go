package bridge

import (
	"fmt"

	"github.com/opencontainers/runc/libcontainer/apparmor"
	"github.com/opencontainers/runc/libcontainer/capabilities"
	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runc/libcontainer/seccomp"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	selinux "github.com/opencontainers/selinux/go-selinux"

	"github.com/wrunc/wrunc/handler"
)

// Features describes what this build supports, in the OCI features format.
func Features(version, commit string) *features.Features {
	yes := true
	apparmorOn, selinuxOn := apparmor.IsEnabled(), selinux.GetEnabled()
	f := &features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		Hooks:         configs.KnownHookNames(),
		MountOptions:  specconv.KnownMountOptions(),
		Annotations: map[string]string{
			"io.github.wrunc.version":  version,
			"io.github.wrunc.commit":   commit,
			"io.github.wrunc.handlers": fmt.Sprintf("%s,%s", handler.Native, handler.Wasm),
			// What the wasm handler runs: WASI preview 1 command modules
			// (binary or text), and WASI 0.2 wasi:cli/command components.
			"io.github.wrunc.wasm.formats": "module,wat,component",
			"io.github.wrunc.wasm.worlds":  "wasi_snapshot_preview1 command,wasi:cli/command@0.2",
		},
		Linux: &features.Linux{
			Namespaces:   specconv.KnownNamespaces(),
			Capabilities: capabilities.KnownCapabilities(),
			Cgroup: &features.Cgroup{
				V1: &yes, V2: &yes, Systemd: &yes, SystemdUser: &yes, Rdma: &yes,
			},
			Apparmor: &features.Apparmor{Enabled: &apparmorOn},
			Selinux:  &features.Selinux{Enabled: &selinuxOn},
			MemoryPolicy: &features.MemoryPolicy{
				Modes: specconv.KnownMemoryPolicyModes(),
				Flags: specconv.KnownMemoryPolicyFlags(),
			},
			MountExtensions: &features.MountExtensions{IDMap: &features.IDMap{Enabled: &yes}},
		},
		PotentiallyUnsafeConfigAnnotations: []string{
			"bundle",
			"org.systemd.property.",
			"org.criu.config",
		},
	}
	if seccomp.Enabled {
		f.Linux.Seccomp = &features.Seccomp{
			Enabled:        &yes,
			Actions:        seccomp.KnownActions(),
			Operators:      seccomp.KnownOperators(),
			Archs:          seccomp.KnownArchs(),
			KnownFlags:     seccomp.KnownFlags(),
			SupportedFlags: seccomp.SupportedFlags(),
		}
		major, minor, patch := seccomp.Version()
		f.Annotations["io.github.seccomp.libseccomp.version"] = fmt.Sprintf("%d.%d.%d", major, minor, patch)
	}
	return f
}
