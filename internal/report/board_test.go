package report

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/alert"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/smtptest"
)

// poppler finds a poppler-utils tool; CANDOR_REQUIRE_POPPLER=1 (CI) makes
// its absence a failure rather than a skip.
func poppler(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("CANDOR_REQUIRE_POPPLER") == "1" {
			t.Fatalf("%s not found (Debian poppler-utils) and CANDOR_REQUIRE_POPPLER=1", tool)
		}
		t.Skipf("%s not found (Debian poppler-utils)", tool)
	}
	return p
}

func TestParseMonth(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	if m, err := ParseMonth("", now); err != nil || !m.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("default month = %v, %v; want November, the last complete one", m, err)
	}
	if m, _ := ParseMonth("", time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)); m.Format("2006-01") != "2025-12" {
		t.Errorf("default in January = %v", m)
	}
	if _, err := ParseMonth("2026-13", now); err == nil || !strings.Contains(err.Error(), "YYYY-MM") {
		t.Errorf("bad month: %v", err)
	}
	// A month not over is refused, the current one and any later one.
	for _, m := range []string{"2026-12", "2027-06"} {
		if _, err := ParseMonth(m, now); err == nil || !strings.Contains(err.Error(), "has not ended") || !strings.Contains(err.Error(), "the last complete one is 2026-11") {
			t.Errorf("%s as of %s: %v, want it refused as not ended", m, now, err)
		}
	}
	if m, err := ParseMonth("2026-11", now); err != nil || m.Format("2006-01") != "2026-11" {
		t.Errorf("November, ended at midnight: %v, %v", m, err)
	}
}

// A board pack's figures are the calendar month's: a metric defined over
// 30 days is taken over the month's own days (31 for October), one with a
// window of another length over its own; the scorecard page says so.
func TestBoardPackCalendarMonth(t *testing.T) {
	f := newFixture(t)
	month := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	var b *Board
	err := f.svc.Engine.Read(context.Background(), func(ds *metrics.Dataset) error {
		b = BuildBoard(f.svc.Catalog, ds, month, nil, nil, "USD", asOf)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	windows := map[string]string{}
	for _, p := range b.Scorecard.Pillars {
		for _, c := range p.Metrics {
			windows[c.ID] = c.Window
		}
	}
	if windows["change_failure_rate"] != "31d" || windows["security_incidents_90d"] != "90d" {
		t.Fatalf("windows: change failure rate %q, security incidents %q; want 31d (October) and 90d (its own)", windows["change_failure_rate"], windows["security_incidents_90d"])
	}
	if b.monthSpan() != "1–31 October 2026" || b.days() != 31 {
		t.Errorf("the month is said to be %q, %d days", b.monthSpan(), b.days())
	}
}

func TestBoardPackPDF(t *testing.T) {
	pdftotext := poppler(t, "pdftotext")
	f := newFixture(t)
	ctx := context.Background()
	month := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	run, err := f.svc.MakeBoard(ctx, month, time.Time{}, false, "test")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "board.pdf")
	if err := os.WriteFile(file, run.Report.PDF, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, "-layout", file, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, want := range []string{
		"Scorecard, November 2026", "as of 1 Dec 2026 00:00 UTC",
		"Change failure rate", "AMBER", "Trends", "Revenue", "Annual recurring revenue", "148,080 USD",
		"Delivery", "Appendix: definitions", "Sign-off", "assumed", "page 1 of",
		// The appendix runs onto another page with its title and columns.
		"Appendix: definitions (continued)",
		"Q4 change freeze",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the board pack's text lacks %q", want)
		}
	}
	if !regexp.MustCompile(`\d+ (red|amber|green|unknown)[a-z0-9, ]* of \d+ metrics`).MatchString(text) {
		t.Error("no pillar says how many of its metrics are of each status")
	}
	if !strings.Contains(text, "v1") {
		t.Error("the appendix names no definition version")
	}
	got, err := List(ctx, f.st, 0)
	if err != nil || len(got) != 1 || got[0].Kind != KindBoard || got[0].Month != "2026-11" || len(got[0].PDF) == 0 || len(got[0].Definitions) == 0 {
		t.Fatalf("archive: %v", err)
	}
	if pdftoppm, err := exec.LookPath("pdftoppm"); err == nil {
		if err := exec.Command(pdftoppm, "-png", "-r", "60", "-f", "1", "-l", "1", file, filepath.Join(dir, "page")).Run(); err != nil {
			t.Errorf("pdftoppm could not render page 1: %v", err)
		}
	}
}

func TestBoardPackByMail(t *testing.T) {
	f := newFixture(t)
	box, url := smtptest.Start(t)
	srv, err := alert.ParseSMTP(url, "candor@example.com")
	if err != nil {
		t.Fatal(err)
	}
	f.svc.Mail = srv
	ctx := context.Background()
	month := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	// The engineering role may not see revenue: the pack is not for it.
	f.svc.Settings.BoardTo = []string{"ceo@example.com", "eng@example.com"}
	if _, err := f.svc.MakeBoard(ctx, month, time.Time{}, true, "test"); err == nil || !strings.Contains(err.Error(), "eng@example.com") {
		t.Fatalf("a board pack for a recipient without revenue:read: %v", err)
	}
	if n := len(box.Messages()); n != 0 {
		t.Fatalf("%d messages sent", n)
	}
	f.svc.Settings.BoardTo = []string{"ceo@example.com"}
	if _, err := f.svc.MakeBoard(ctx, month, time.Time{}, true, "test"); err != nil {
		t.Fatal(err)
	}
	msgs := box.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "ceo@example.com" {
		t.Fatalf("messages: %+v", msgs)
	}
	for _, want := range []string{"Subject: Candor board pack, November 2026", "Content-Type: application/pdf", `filename="candor-board-2026-11.pdf"`} {
		if !strings.Contains(msgs[0].Data, want) {
			t.Errorf("the board pack e-mail lacks %q", want)
		}
	}
}
