// Package version reports which build of focal is running. Version is set at
// link time with -ldflags "-X focal/internal/version.Version=v1.2.3"; without
// it, the module and VCS information Go embeds in the binary is used.
package version

import (
	"runtime"
	"runtime/debug"
)

// Version is the release name, set by the linker. Empty means a development build.
var Version = ""

// String returns a one-line description: version, commit (if known) and Go version.
func String() string {
	v := Version
	commit := ""
	dirty := false
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if v == "" {
		v = "dev"
	}
	out := "focal " + v
	if commit != "" {
		if len(commit) > 12 {
			commit = commit[:12]
		}
		out += " (" + commit
		if dirty {
			out += "-dirty"
		}
		out += ")"
	}
	return out + " " + runtime.Version()
}
