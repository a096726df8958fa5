package browsertest

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// recordingTB stands in for the test New is given, recording how it ends it.
type recordingTB struct {
	testing.TB
	fatal, skip string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recordingTB) Skipf(format string, args ...any) {
	r.skip = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// runNew calls New on a recording test in its own goroutine, since Fatalf and Skipf end it.
func runNew(t *testing.T) *recordingTB {
	r := &recordingTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		New(r)
	}()
	<-done
	return r
}

func TestMissingBrowserSkipsOrFails(t *testing.T) {
	execPath = filepath.Join(t.TempDir(), "no-chromium")
	t.Cleanup(func() { execPath = ExecPath })

	t.Setenv(RequireEnv, "")
	r := runNew(t)
	if r.fatal != "" || !strings.Contains(r.skip, "SKIPPED") || !strings.Contains(r.skip, "apt-get install chromium") ||
		!strings.Contains(r.skip, RequireEnv+"=1") {
		t.Errorf("without %s: skip %q, fatal %q; want a skip saying how to install and how to require", RequireEnv, r.skip, r.fatal)
	}

	t.Setenv(RequireEnv, "1")
	r = runNew(t)
	if r.skip != "" || !strings.Contains(r.fatal, "no-chromium not found") || !strings.Contains(r.fatal, "apt-get install chromium") {
		t.Errorf("with %s=1: fatal %q, skip %q; want a failure naming the path and the package", RequireEnv, r.fatal, r.skip)
	}
}

// TestOnlyTestsImportTheBrowser keeps chromedp out of the candor binary: no non-test file may
// import this package or chromedp.
func TestOnlyTestsImportTheBrowser(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root := moduleRoot(wd)
	if root == "" {
		t.Fatal("no go.mod above", wd)
	}
	fset := token.NewFileSet()
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "test-artifacts") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		if f.Name.Name == "browsertest" {
			return nil
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == "github.com/candor/candor/internal/browsertest" || strings.HasPrefix(p, "github.com/chromedp/") {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s imports %s: only _test.go files may", rel, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 20 {
		t.Fatalf("checked only %d files under %s", checked, root)
	}
}

// fakeBrowser writes a shell script standing in for Chromium: it records each start in a file,
// dies for the first failures starts as a browser crashing at start-up does, then runs then.
func fakeBrowser(t *testing.T, failures int, then string) (path, starts string) {
	dir := t.TempDir()
	path, starts = filepath.Join(dir, "chromium"), filepath.Join(dir, "starts")
	script := fmt.Sprintf(`#!/bin/sh
echo start >> %[1]q
if [ "$(wc -l < %[1]q)" -le %[2]d ]; then
	echo "crashed while starting, on purpose" >&2
	exit 1
fi
%[3]s
`, starts, failures, then)
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, starts
}

func countStarts(t *testing.T, starts string) int {
	b, err := os.ReadFile(starts)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "start\n")
}

// A browser that never starts fails the test after startAttempts tries, with each try's output.
func TestBrowserThatNeverStartsFails(t *testing.T) {
	path, starts := fakeBrowser(t, 100, "exit 1")
	execPath = path
	t.Cleanup(func() { execPath = ExecPath })
	r := runNew(t)
	if r.skip != "" || !strings.Contains(r.fatal, fmt.Sprintf("failed %d times", startAttempts)) ||
		strings.Count(r.fatal, "crashed while starting, on purpose") < startAttempts {
		t.Errorf("fatal %q, skip %q; want a failure after %d starts showing each one's output", r.fatal, r.skip, startAttempts)
	}
	if n := countStarts(t, starts); n != startAttempts {
		t.Errorf("started %d times, want %d", n, startAttempts)
	}
}

// A browser that crashes while starting, once, is started again and the test goes on.
func TestBrowserThatCrashesOnceIsStartedAgain(t *testing.T) {
	if err := available(); err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("needs Chromium: %v", err)
		}
		t.Skipf("needs Chromium: %v", err)
	}
	path, starts := fakeBrowser(t, 1, `exec `+ExecPath+` "$@"`)
	execPath = path
	t.Cleanup(func() { execPath = ExecPath })
	r := runNew(t)
	if r.fatal != "" || r.skip != "" {
		t.Fatalf("fatal %q, skip %q; want the second start to be used", r.fatal, r.skip)
	}
	if n := countStarts(t, starts); n != 2 {
		t.Errorf("started %d times, want 2", n)
	}
}
