package image

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Builds without a VCS stamp (a release archive, -buildvcs=false) are all
// "(devel)": the build an image names must be the executable's own, as the
// Go tool identifies it, or a new version reads an older one's image and
// state as its own.
func TestBuildNamesTheExecutable(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go tool is not on PATH to read the test binary's build ID")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(goTool, "tool", "buildid", exe).Output()
	if err != nil {
		t.Fatalf("go tool buildid: %v", err)
	}
	id := strings.TrimSpace(string(out))
	if id == "" {
		t.Fatal("go tool buildid printed nothing")
	}
	if got := Build(); !strings.HasSuffix(got, " buildid="+id) {
		t.Fatalf("Build() = %q, want it to end with the executable's build ID %q", got, id)
	}
}
