package web

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/report"
)

// The archived board packs are listed and served as archived to a reader
// whose roles open every metric a pack shows, and withheld, naming the
// metrics, from one whose roles do not: a CFO had had to ask whoever runs
// the CLI for November's pack.
func TestBoardPacks(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	pdf := []byte("%PDF-1.7 the pack as archived")
	save := func(r report.Report) int64 {
		t.Helper()
		saved, _, err := report.Save(ctx, e.srv.Store, &r)
		if err != nil {
			t.Fatal(err)
		}
		return saved.ID
	}
	eng := save(report.Report{Kind: report.KindBoard, Month: "2026-02", AsOf: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), CreatedAt: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC),
		By: "cli:ann", Definitions: []report.Definition{{Metric: "change_failure_rate"}, {Metric: "mttr"}}, PDF: pdf})
	rev := save(report.Report{Kind: report.KindBoard, Month: "2026-03", AsOf: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), CreatedAt: time.Date(2026, 4, 2, 8, 0, 0, 0, time.UTC),
		Definitions: []report.Definition{{Metric: "change_failure_rate"}, {Metric: "arr"}, {Metric: "mrr"}}, PDF: pdf})
	digest := save(report.Report{Kind: report.KindDigest, AsOf: time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC), CreatedAt: time.Date(2026, 3, 30, 8, 0, 0, 0, time.UTC)})

	list := func(role string) map[int64]map[string]any {
		t.Helper()
		status, b := e.apiAs(t, role, "/api/v1/reports/board")
		var doc struct {
			Packs []map[string]any `json:"board_packs"`
		}
		if status != 200 || json.Unmarshal(b, &doc) != nil {
			t.Fatalf("%s: %d %s", role, status, clip(b))
		}
		out := map[int64]map[string]any{}
		for _, p := range doc.Packs {
			out[int64(p["id"].(float64))] = p
		}
		if len(out) != 2 || out[digest] != nil {
			t.Errorf("%s lists %v, want the two board packs", role, out)
		}
		return out
	}
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	exec := list("executive")
	if exec[rev]["pdf"] != "/api/v1/reports/board/"+id(rev) || exec[rev]["withheld"] != nil || exec[eng]["month"] != "2026-02" || exec[eng]["by"] != "cli:ann" || exec[eng]["bytes"] != float64(len(pdf)) {
		t.Errorf("executive's list: %v", exec)
	}
	status, b, h := e.do(t, "GET", "/api/v1/reports/board/"+id(rev), "", nil)
	if status != 200 || !bytes.Equal(b, pdf) || h.Get("Content-Type") != "application/pdf" || !strings.Contains(h.Get("Content-Disposition"), `filename="candor-board-2026-03.pdf"`) {
		t.Errorf("the pack's PDF: %d %q %v", status, b, h)
	}
	// Engineering may not see revenue: March's pack is withheld, naming
	// what it shows; February's, of its own metrics, opens.
	engineering := list("engineering")
	if w, _ := engineering[rev]["withheld"].(string); engineering[rev]["pdf"] != nil || !strings.Contains(w, "do not open: arr, mrr") {
		t.Errorf("engineering's March: %v", engineering[rev])
	}
	if engineering[eng]["pdf"] == nil {
		t.Errorf("engineering's February: %v", engineering[eng])
	}
	if status, b := e.apiAs(t, "engineering", "/api/v1/reports/board/"+id(rev)); status != 403 || !strings.Contains(string(b), "arr, mrr") {
		t.Errorf("engineering fetching March: %d %s", status, clip(b))
	}
	for path, want := range map[string]int{"/api/v1/reports/board/" + id(digest): 404, "/api/v1/reports/board/999999": 404, "/api/v1/reports/board/abc": 400} {
		if status, _, _ := e.do(t, "GET", path, "", nil); status != want {
			t.Errorf("%s: %d, want %d", path, status, want)
		}
	}
	// The page lists them with links that download the PDF.
	page := e.sessionAs(t, "executive")
	status, b, _ = e.call(t, "GET", "/reports", "", "", page)
	if status != 200 || !strings.Contains(string(b), `href="/reports/board/`+id(rev)+`.pdf"`) || !strings.Contains(string(b), "March 2026") || !strings.Contains(string(b), "ann (command line)") {
		t.Errorf("/reports: %d\n%s", status, clip(b))
	}
	status, b, _ = e.call(t, "GET", "/reports/board/"+id(rev)+".pdf", "", "", page)
	if status != 200 || !bytes.Equal(b, pdf) {
		t.Errorf("/reports/board/%d.pdf: %d %q", rev, status, b)
	}
	status, b, _ = e.call(t, "GET", "/reports", "", "", e.sessionAs(t, "engineering"))
	if status != 200 || !strings.Contains(string(b), "Withheld: it shows metrics your roles do not open: arr, mrr") {
		t.Errorf("/reports as engineering: %d\n%s", status, clip(b))
	}
}
