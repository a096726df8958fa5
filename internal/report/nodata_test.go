package report

import (
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

// engOrg is the tests' organisation without its subscriptions: no revenue
// data at all.
func engOrg() string {
	var eng []string
	for _, l := range strings.Split(org(), "\n") {
		if !strings.Contains(l, `"kind":"subscription"`) {
			eng = append(eng, l)
		}
	}
	return strings.Join(eng, "\n")
}

// A digest of an organisation that sends no revenue data says so once, in
// place of the Growth headline lines (ARR, NRR, pipeline coverage) each
// "—" and unknown, as the scorecard does.
func TestDigestWithoutRevenueData(t *testing.T) {
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	d := BuildDigest(cat, dataset(t, engOrg()), nil, DigestOptions{AsOf: asOf})
	for _, l := range d.Headline {
		if m, _ := cat.Metric(l.Metric); m != nil && m.Pillar == "growth" {
			t.Errorf("a Growth headline line without revenue data: %+v", l)
		}
	}
	html, text, err := d.Render("ceo@example.com")
	if err != nil {
		t.Fatal(err)
	}
	for part, body := range map[string]string{"HTML": html, "text": text} {
		if n := strings.Count(body, "No revenue data has been sent: no subscription"); n != 1 {
			t.Errorf("the %s part says %d times that no revenue data has been sent, want once:\n%s", part, n, body)
		}
	}
	if d := BuildDigest(cat, dataset(t, org()), nil, DigestOptions{AsOf: asOf}); d.NoRevenue != "" {
		t.Errorf("with subscriptions the digest says %q", d.NoRevenue)
	}
}

// A board pack of an organisation that sends no revenue data says so, on
// the scorecard page and in place of the Revenue section's rows and
// charts, rather than listing ARR, NRR and the rest each "—" and unknown.
func TestBoardPackWithoutRevenueData(t *testing.T) {
	pdftotext := poppler(t, "pdftotext")
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	month := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	b := BuildBoard(cat, dataset(t, engOrg()), month, nil, nil, "USD", asOf)
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
func boardText(t *testing.T, pdftotext string, b *Board, flags ...string) string {
	t.Helper()
	pdf, err := b.PDF()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(popplerText(t, pdf, flags...)), " ")
}
