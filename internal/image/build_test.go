package image

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// Builds without a VCS stamp (a release archive, -buildvcs=false) are all
// "(devel)": the build an image names must be the executable's own, as the
// Go tool identifies it, or a new version reads an older one's image and
// state as its own.
func TestBuildNamesTheExecutable(t *testing.T) {
	goTool := goTool(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	id := goBuildID(t, goTool, exe)
	if got := Build(); !strings.HasSuffix(got, " buildid="+id) {
		t.Fatalf("Build() = %q, want it to end with the executable's build ID %q", got, id)
	}
}

// An upgrade puts the new binary at the running one's path: a process
// still running the old build must go on naming its own, or the images it
// writes afterwards carry the new build's ID and the new build takes them
// for its own. A copy of this test binary puts another Go binary (the go
// tool) over its own path, then reports the build ID it reads.
func TestBuildIDSurvivesReplacedExecutable(t *testing.T) {
	if os.Getenv("IMAGE_TEST_REPLACE_SELF") != "" {
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		other, err := os.ReadFile(os.Getenv("IMAGE_TEST_REPLACE_SELF"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(exe+".new", other, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(exe+".new", exe); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("buildid=%s\n", BuildID())
		return
	}
	if runtime.GOOS != "linux" {
		t.Skip("only Linux names the running file (/proc/self/exe)")
	}
	goTool := goTool(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	own, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(t.TempDir(), "image.test")
	if err := os.WriteFile(cp, own, 0o755); err != nil {
		t.Fatal(err)
	}
	want := goBuildID(t, goTool, cp)
	if want == goBuildID(t, goTool, goTool) {
		t.Fatal("the go tool has this test's build ID")
	}
	cmd := exec.Command(cp, "-test.run=^TestBuildIDSurvivesReplacedExecutable$")
	cmd.Env = append(os.Environ(), "IMAGE_TEST_REPLACE_SELF="+goTool)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the copy: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "buildid="+want+"\n") {
		t.Fatalf("after its file was replaced the process read %q; want its own build ID %s", out, want)
	}
}

// goTool is the go command, which reads build IDs as Candor should.
func goTool(t *testing.T) string {
	p, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go tool is not on PATH to read build IDs")
	}
	return p
}

// goBuildID is the build ID `go tool buildid` reads from the file at path.
func goBuildID(t *testing.T, goTool, path string) string {
	out, err := exec.Command(goTool, "tool", "buildid", path).Output()
	if err != nil {
		t.Fatalf("go tool buildid %s: %v", path, err)
	}
	id := strings.TrimSpace(string(out))
	if id == "" {
		t.Fatalf("go tool buildid %s printed nothing", path)
	}
	return id
}

// The version stamped into the binary (SetVersion, from cmd/candor's
// main.version) names the build over the module's "(devel)": the image's
// log lines had called a release built with -ldflags "-X
// main.version=v1.2.0" "(devel)".
func TestBuildNameTakesTheStampedVersion(t *testing.T) {
	info := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "x"}}}
	v := "v1.2.0"
	for _, c := range []struct {
		stamped *string
		info    *debug.BuildInfo
		ok      bool
		want    string
	}{
		{&v, info, true, "v1.2.0 vcs.revision=0123abcd buildid=ID"},
		{nil, info, true, "(devel) vcs.revision=0123abcd buildid=ID"},
		{new(string), info, true, "(devel) vcs.revision=0123abcd buildid=ID"},
		{&v, nil, false, "v1.2.0 buildid=ID"},
		{nil, nil, false, "(unknown) buildid=ID"},
	} {
		if got := buildName(c.stamped, c.info, c.ok, "ID"); got != c.want {
			t.Errorf("buildName = %q, want %q", got, c.want)
		}
	}
	defer stamped.Store(stamped.Load())
	SetVersion("v9.9.9")
	if got := Build(); !strings.HasPrefix(got, "v9.9.9 ") || !strings.HasSuffix(got, " buildid="+BuildID()) {
		t.Errorf("Build() after SetVersion = %q", got)
	}
}
