// Package browsertest drives Debian's Chromium from tests through chromedp: one headless
// browser per test, screenshots and PDFs written as test artefacts, and the page's console
// errors collected. Import it only from _test.go files: it is test scaffolding and would pull
// chromedp into the candor binary.
//
//	func TestPage(t *testing.T) {
//		ctx := browsertest.New(t) // skips (or fails, see below) without Chromium
//		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil { t.Fatal(err) }
//		browsertest.Screenshot(ctx, t, "scorecard")
//		pdf, err := browsertest.PrintPDF(ctx)
//		… browsertest.PageCount(pdf) …
//	}
//
// The browser is /usr/bin/chromium (Debian package chromium). When it is missing the test is
// skipped with a message saying how to install it, or fails when CANDOR_REQUIRE_BROWSER=1 (as CI
// sets it, so a missing package cannot turn the browser tests into silent skips).
//
// The browser runs headless with a fresh profile in a temporary directory, no sandbox (tests run
// as root in containers), no GPU, no QUIC, no first-run, sync, component-update or background
// network traffic, and it resolves no host name except localhost: a page that loads anything
// from the internet (a CDN font, a script) fails in the test the way it would fail offline,
// visibly, as a console error.
//
// Artefacts (screenshots, PDFs) go to $CANDOR_ARTIFACTS when set, else to test-artifacts/ at the
// module root (ignored by git), under the test package's directory, named after the test:
// test-artifacts/internal/web/TestScorecard-laptop.png. They are kept after the run, overwritten by
// the next one, and each path is logged.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

const (
	// ExecPath is the browser the tests drive: Debian's chromium package.
	ExecPath = "/usr/bin/chromium"
	// RequireEnv, set to 1, turns "Chromium is not installed" from a skip into a failure.
	RequireEnv = "CANDOR_REQUIRE_BROWSER"
	// ArtifactsEnv names the directory for screenshots and PDFs instead of test-artifacts/.
	ArtifactsEnv = "CANDOR_ARTIFACTS"
)

// Viewport is a window size to lay pages out at.
type Viewport struct {
	Name          string
	Width, Height int64
	// Mobile makes the page see a phone: the meta viewport tag applies, as on a device.
	Mobile bool
	// Scale is the device pixel ratio; screenshots are Width×Scale pixels wide.
	Scale float64
}

// The two widths every page is checked at.
var (
	Laptop = Viewport{Name: "laptop", Width: 1366, Height: 900, Scale: 1}
	Phone  = Viewport{Name: "phone", Width: 390, Height: 844, Mobile: true, Scale: 2}
)

// execPath is ExecPath, replaced by tests of the missing-browser path.
var execPath = ExecPath

var skipNotice sync.Once

// New starts a headless Chromium for the test and returns the context of its one tab, laid out
// at Laptop. The context ends shortly before the test's deadline, so a hung page fails the test
// with a message rather than the whole binary with a timeout; the browser is closed and its
// profile removed when the test ends.
func New(t testing.TB) context.Context {
	t.Helper()
	if err := available(); err != nil {
		msg := fmt.Sprintf("browser tests need Chromium: %v; install it with `apt-get install chromium` (Debian)", err)
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("%s (%s=1 requires it)", msg, RequireEnv)
		}
		skipNotice.Do(func() {
			// Also on stderr, which `go test` shows for a package run directly, so the skip is
			// noticed by someone not running with -v.
			fmt.Fprintf(os.Stderr, "\n*** browsertest: SKIPPING browser tests: %s\n\n", msg)
		})
		t.Skipf("SKIPPED: %s (set %s=1 to fail instead of skipping)", msg, RequireEnv)
	}

	// Chromium now and then dies while starting (a crash before it prints its DevTools
	// address, seen once in CI among thousands of starts), which says nothing about the page
	// under test. A fresh browser with a fresh profile is tried again; a browser that cannot
	// start three times running is a real failure.
	var (
		browserCtx context.Context
		rec        *recorder
		failures   []string
	)
	for attempt := 1; attempt <= startAttempts; attempt++ {
		var err error
		browserCtx, rec, err = start(t)
		if err == nil {
			break
		}
		failures = append(failures, fmt.Sprintf("attempt %d: %v", attempt, err))
		if attempt < startAttempts {
			t.Logf("browsertest: %s did not start (attempt %d of %d), starting a fresh one: %v", execPath, attempt, startAttempts, err)
		}
	}
	if browserCtx == nil {
		t.Fatalf("browsertest: starting %s failed %d times:\n%s", execPath, startAttempts, strings.Join(failures, "\n"))
	}
	ctx := context.WithValue(browserCtx, recorderKey{}, rec)
	if tt, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if d, ok := tt.Deadline(); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, d.Add(-15*time.Second))
			t.Cleanup(cancel)
		}
	}
	return ctx
}

// startAttempts is how many times New starts a browser before failing the test.
const startAttempts = 3

// start starts one headless Chromium with a fresh profile and lays its tab out at Laptop. On
// success the browser is closed when the test ends; on failure it has been stopped already and
// the error carries the browser's own output.
func start(t testing.TB) (context.Context, *recorder, error) {
	t.Helper()
	// Registered before the browser's cleanup, so it runs after the browser has exited and
	// released the profile.
	profile := t.TempDir()
	// The browser's own output, for the failure message when it does not start. A file rather
	// than a buffer: the allocator writes from its goroutine, and file writes need no lock.
	output, err := os.Create(filepath.Join(t.TempDir(), "chromium.log"))
	if err != nil {
		return nil, nil, err
	}
	t.Cleanup(func() { output.Close() })
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(execPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-domain-reliability", true),
		// MediaRouter looks for cast devices on the local network; the tests stay on loopback.
		chromedp.Flag("disable-features", "MediaRouter,DialMediaRouteProvider,OptimizationHints,Translate"),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE [::1]"),
		// Containers often have a 64 MB /dev/shm, which crashes tabs rendering large pages.
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(int(Laptop.Width), int(Laptop.Height)),
		chromedp.CombinedOutput(output),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	rec := &recorder{}
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithListener(rec.listen))
	// The first action starts the browser and binds its lifetime to browserCtx, which must
	// therefore not be the deadline-bound context New hands out.
	if err := chromedp.Do(browserCtx, emulate(Laptop)); err != nil {
		cancelBrowser()
		cancelAlloc() // waits for the process to exit
		// chromedp's "failed to start" carries what the browser printed;
		// another failure (a timeout, a closed connection) does not.
		if strings.Contains(err.Error(), "failed to start") {
			return nil, nil, err
		}
		log, _ := os.ReadFile(output.Name())
		return nil, nil, fmt.Errorf("%v\nbrowser output:\n%s", err, tail(string(log), 2000))
	}
	t.Cleanup(func() {
		// Close gracefully so Chromium flushes and releases the profile; one that does not
		// close in time is killed by the cancels below, and cancelAlloc waits for it to exit.
		closing, stop := context.WithTimeout(browserCtx, 20*time.Second)
		defer stop()
		if err := chromedp.Cancel(closing); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("browsertest: closing the browser: %v", err)
		}
		cancelBrowser()
		cancelAlloc()
	})
	return browserCtx, rec, nil
}

// available reports why the browser cannot run, or nil.
func available() error {
	fi, err := os.Stat(execPath)
	if err != nil {
		return fmt.Errorf("%s not found", execPath)
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", execPath)
	}
	return nil
}

// SetViewport lays the page out at v from now on; a later Screenshot shows it at that size.
func SetViewport(ctx context.Context, t testing.TB, v Viewport) {
	t.Helper()
	if err := chromedp.Do(ctx, emulate(v)); err != nil {
		t.Fatalf("browsertest: viewport %s (%d×%d): %v", v.Name, v.Width, v.Height, err)
	}
}

func emulate(v Viewport) chromedp.Action[chromedp.Void] {
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(v.Scale)}
	if v.Mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	return chromedp.EmulateViewport(v.Width, v.Height, opts...)
}

// Screenshot saves a full-page PNG of the tab as the artefact <test>-<name>.png and returns
// its path.
func Screenshot(ctx context.Context, t testing.TB, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100 means PNG
	if err != nil {
		t.Fatalf("browsertest: screenshot %q: %v", name, err)
	}
	return SaveArtifact(t, name+".png", png)
}

// PrintPDF prints the page as the browser's print dialog would (print stylesheet, A4 unless the
// page's @page rule sets a size, backgrounds on) and returns the PDF. opts are applied after
// these defaults.
func PrintPDF(ctx context.Context, opts ...chromedp.PDFOption) ([]byte, error) {
	all := append([]chromedp.PDFOption{
		chromedp.PDFPaper(chromedp.PaperA4),
		chromedp.PDFPreferCSSPageSize(),
		chromedp.PDFPrintBackground(),
	}, opts...)
	return chromedp.Run(ctx, chromedp.PrintToPDF(all...))
}

// pageObject matches a page object's type entry but not the page tree's (/Type /Pages).
var pageObject = regexp.MustCompile(`/Type\s*/Page\b`)

// PageCount counts the pages of a PDF as Chromium writes it: the objects whose /Type is /Page.
// (A PDF that hid its page objects in compressed object streams would count 0; Chromium's
// writer does not.)
func PageCount(pdf []byte) int {
	return len(pageObject.FindAll(pdf, -1))
}

// ArtifactDir returns (creating it) the directory for the test package's artefacts.
func ArtifactDir(t testing.TB) string {
	t.Helper()
	base := os.Getenv(ArtifactsEnv)
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	root := moduleRoot(wd)
	if base == "" {
		base = filepath.Join(root, "test-artifacts")
		if root == "" {
			base = filepath.Join(os.TempDir(), "candor-test-artifacts")
		}
	}
	// go test runs in the package directory: keep packages' artefacts apart.
	if rel, err := filepath.Rel(root, wd); root != "" && err == nil && !strings.HasPrefix(rel, "..") {
		base = filepath.Join(base, rel)
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		t.Fatalf("browsertest: artefact directory: %v", err)
	}
	return base
}

// moduleRoot is the nearest directory at or above dir holding go.mod, or "".
func moduleRoot(dir string) string {
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// SaveArtifact writes data as the artefact <test>-<name> (the test's name with subtests, made
// safe for a file name), logs and returns its path.
func SaveArtifact(t testing.TB, name string, data []byte) string {
	t.Helper()
	file := unsafeName.ReplaceAllString(t.Name()+"-"+name, "_")
	path := filepath.Join(ArtifactDir(t), file)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatalf("browsertest: writing artefact: %v", err)
	}
	t.Logf("artefact: %s", path)
	return path
}

// ConsoleErrors returns what the tab has reported as errors so far: console.error calls,
// uncaught exceptions, and browser log errors (a resource that failed to load, a Content
// Security Policy violation, a blocked request to the internet).
func ConsoleErrors(ctx context.Context) []string {
	rec, _ := ctx.Value(recorderKey{}).(*recorder)
	if rec == nil {
		return []string{"browsertest: ConsoleErrors needs a context from New"}
	}
	// A command round trip first: events the browser sent before its reply have then been
	// through the listener, which runs in order on the tab's reader.
	if _, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{}); err != nil {
		rec.add("browsertest: " + err.Error())
	}
	return rec.list()
}

type recorderKey struct{}

// recorder keeps the tab's error messages; listen runs on the tab's reader goroutine.
type recorder struct {
	mu   sync.Mutex
	errs []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, s)
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errs...)
}

func (r *recorder) listen(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		var parts []string
		for _, a := range ev.Args {
			switch {
			case a.Description != "":
				parts = append(parts, a.Description)
			case len(a.Value) > 0:
				parts = append(parts, strings.Trim(string(a.Value), `"`))
			default:
				parts = append(parts, string(a.Type))
			}
		}
		r.add("console." + string(ev.Type) + ": " + strings.Join(parts, " "))
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		r.add("exception: " + text)
	case *log.EventEntryAdded:
		if e := ev.Entry; e != nil && e.Level == log.EntryLevelError {
			msg := string(e.Source) + ": " + e.Text
			if e.URL != "" {
				msg += " (" + e.URL + ")"
			}
			r.add(msg)
		}
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
