package main

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/candor/candor/internal/image"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.0".
// Without it the module version from the build information is used
// ("(devel)" for a build from a checkout).
var version string

func init() {
	register(command{name: "version", args: "", help: "print the version, VCS revision and Go version", run: runVersion})
	stampVersion()
}

// stampVersion passes the stamped version down to what names the build
// in the dataset image's header and log lines (image.Build), which
// debug.BuildInfo alone had called "(devel)" in a release built with
// -ldflags "-X main.version=v1.2.0".
func stampVersion() { image.SetVersion(version) }

func runVersion(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "version", "", "Prints the version of this candor binary, its VCS revision when the build recorded one, and the Go version.")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	info, ok := debug.ReadBuildInfo()
	fmt.Fprintln(env.Stdout, versionLine(info, ok, image.BuildID()))
	return nil
}

// versionLine is "candor VERSION (revision REV[, modified], TIME) GOVERSION
// (build ID ID)". The build ID is what the dataset image's log lines name a
// build by: builds without a version or VCS stamp all print "(devel)".
func versionLine(info *debug.BuildInfo, ok bool, buildID string) string {
	v := version
	if v == "" && ok {
		v = info.Main.Version
	}
	if v == "" {
		v = "(unknown)"
	}
	var rev, at string
	var modified bool
	if ok {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	line := "candor " + v
	if rev != "" {
		parts := []string{"revision " + rev}
		if modified {
			parts = append(parts, "modified")
		}
		if at != "" {
			parts = append(parts, at)
		}
		line += " (" + strings.Join(parts, ", ") + ")"
	}
	if ok && info.GoVersion != "" {
		line += " " + info.GoVersion
	}
	if buildID != "" {
		line += " (build ID " + buildID + ")"
	}
	return line
}
