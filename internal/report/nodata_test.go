package report

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
)

// dataset is the records of ndjson as the engine applies them.
func dataset(t *testing.T, ndjson string) *metrics.Dataset {
	t.Helper()
	ds := metrics.NewDataset(metrics.DefaultConfig())
	for _, line := range strings.Split(ndjson, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		r, err := domain.ParseJSON([]byte(line), "", domain.ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ds.Apply(r, time.Time{})
	}
	ds.Prepare()
	return ds
}

// A board pack of an organisation that sends no revenue data says so, on
// the scorecard page and in place of the Revenue section's rows and
// charts, rather than listing ARR, NRR and the rest each "—" and unknown.
func TestBoardPackWithoutRevenueData(t *testing.T) {
	pdftotext := poppler(t, "pdftotext")
	var eng []string
	for _, l := range strings.Split(org(), "\n") {
		if !strings.Contains(l, `"kind":"subscription"`) {
			eng = append(eng, l)
		}
	}
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	month := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	b := BuildBoard(cat, dataset(t, strings.Join(eng, "\n")), month, nil, nil, "USD", asOf)
	text := boardText(t, pdftotext, b)
	if n := strings.Count(text, "No revenue data has been sent: no subscription"); n != 2 {
		t.Errorf("the pack says %d times that no revenue data has been sent, want twice (scorecard, Revenue):\n%s", n, text)
	}
	for _, gone := range []string{"Annual recurring revenue", "Net revenue retention"} {
		if n := strings.Count(text, gone); n != 1 {
			t.Errorf("%q is in the pack %d times, want once (the appendix's definitions)", gone, n)
		}
	}
}

// boardText is b's PDF as pdftotext reads it, its white space folded.
func boardText(t *testing.T, pdftotext string, b *Board) string {
	t.Helper()
	pdf, err := b.PDF()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "board.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, file, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}
