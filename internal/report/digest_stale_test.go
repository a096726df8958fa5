package report

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/escalation"
)

// staleDigest is the tests' organisation's digest two days after its data
// ends: the deployments are past their freshness limit, so change failure
// rate is unknown on a value of stale data (the review of 2026-12-07 read
// CSAT so), and the kinds never sent are unknown without a value.
func staleDigest(t *testing.T) (d *Digest, html, text string) {
	t.Helper()
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	d = BuildDigest(cat, dataset(t, org()), nil, DigestOptions{AsOf: asOf.Add(2 * day)})
	html, text, err = d.Render("ceo@example.com")
	if err != nil {
		t.Fatal(err)
	}
	return d, html, text
}

// lineOf is d's headline line of metric.
func lineOf(t *testing.T, d *Digest, metric string) Line {
	t.Helper()
	for _, l := range d.Headline {
		if l.Metric == metric {
			return l
		}
	}
	t.Fatalf("no headline line of %s: %+v", metric, d.Headline)
	return Line{}
}

// The subject counts the headline metrics gone unknown (stale data, no
// data) beside the red and amber ones: it had counted red and amber only,
// so a week whose headline metrics all went stale read as all clear
// ("2 amber, 1 escalated" with two of four unknown). All green is said
// only when it is so.
func TestDigestSubjectCountsUnknown(t *testing.T) {
	d, _, _ := staleDigest(t)
	unknown := 0
	for _, l := range d.Headline {
		if l.Status == catalog.Unknown {
			unknown++
		}
	}
	if unknown < 2 {
		t.Fatalf("the stale digest has %d unknown headline lines; the test wants several", unknown)
	}
	if got, want := d.Subject(), fmt.Sprintf("Candor weekly digest, week to 2 Dec 2026: %d unknown, ", unknown); !strings.HasPrefix(got, want) {
		t.Errorf("subject %q; want it to count the %d unknown headline metrics", got, unknown)
	}
	week := time.Date(2026, 12, 8, 10, 30, 0, 0, time.UTC)
	esc := []escalation.Escalation{{Metric: "pipeline_coverage"}}
	for _, c := range []struct {
		name string
		d    Digest
		want string
	}{
		{"amber, unknown, escalated", Digest{AsOf: week, Escalations: esc, Headline: []Line{
			{Status: catalog.Amber}, {Status: catalog.Unknown}, {Status: catalog.Green}, {Status: catalog.Amber}, {Status: catalog.Unknown}}},
			"Candor weekly digest, week to 8 Dec 2026: 2 amber, 2 unknown, 1 escalated"},
		{"all unknown", Digest{AsOf: week, Headline: []Line{{Status: catalog.Unknown}, {Status: catalog.Unknown}}},
			"Candor weekly digest, week to 8 Dec 2026: 2 unknown"},
		{"red first", Digest{AsOf: week, Headline: []Line{{Status: catalog.Unknown}, {Status: catalog.Red}}},
			"Candor weekly digest, week to 8 Dec 2026: 1 red, 1 unknown"},
		{"all green", Digest{AsOf: week, Headline: []Line{{Status: catalog.Green}, {Status: catalog.Green}}},
			"Candor weekly digest, week to 8 Dec 2026: all headline metrics green"},
		// Another metric turned amber: the headline's green is no all-clear.
		{"green, one turned", Digest{AsOf: week, Headline: []Line{{Status: catalog.Green}}, Turned: []Change{{To: catalog.Amber}}},
			"Candor weekly digest, week to 8 Dec 2026"},
		// The Growth lines left out for "No revenue data has been sent".
		{"no revenue data", Digest{AsOf: week, Headline: []Line{{Status: catalog.Green}}, NoRevenue: "No revenue data has been sent: no subscription records."},
			"Candor weekly digest, week to 8 Dec 2026: no revenue data"},
		{"no headline metric", Digest{AsOf: week}, "Candor weekly digest, week to 8 Dec 2026"},
	} {
		if got := c.d.Subject(); got != c.want {
			t.Errorf("%s: subject %q, want %q", c.name, got, c.want)
		}
	}
}

// A stale metric's last value is greyed in the HTML digest, as the
// scorecard and the role views grey it (kpi__value--stale,
// rv-metric__value--stale: the muted colour, not bold), and the text says
// "stale data" beside it: it had been bold in full ink.
func TestDigestStaleValueGreyed(t *testing.T) {
	d, html, text := staleDigest(t)
	cfr := lineOf(t, d, "change_failure_rate")
	if !cfr.Stale || cfr.Value != "60 %" || cfr.Status != catalog.Unknown {
		t.Fatalf("change failure rate = %+v; want 60 %% on stale data, unknown", cfr)
	}
	if want := `<strong style="white-space:nowrap;color:#5b6675;font-weight:500;">60 %</strong>`; !strings.Contains(html, want) {
		t.Errorf("the HTML part does not grey the stale value; want %s in:\n%s", want, html)
	}
	// A fresh green value stays in full ink.
	if p := lineOf(t, d, "incidents_p0_p1"); p.Stale || p.Muted() || !strings.Contains(html, `<strong style="white-space:nowrap;">0</strong>`) {
		t.Errorf("the fresh P0/P1 incidents line %+v is greyed, or not in full ink", p)
	}
	// "—" of a kind never sent is greyed by its unknown status, and is no
	// stale value.
	if a := lineOf(t, d, "availability"); a.Stale || !a.Muted() {
		t.Errorf("availability without data = %+v; want greyed, not stale", a)
	}
	if want := "Change failure rate: 60 % over the last 7 days (stale data: not compared with the week before)"; !strings.Contains(text, want) {
		t.Errorf("the text part lacks %q:\n%s", want, text)
	}
}

// A reason quotes its times as the pages write them, in UTC ("no
// deployment data since 29 Nov 2026 16:00 UTC"): the digest had written
// RFC 3339 ("2026-11-29T16:00:00Z") beside its own "2 Dec 2026 07:00 UTC".
func TestDigestReasonTimesReadable(t *testing.T) {
	_, html, text := staleDigest(t)
	for part, body := range map[string]string{"HTML": html, "text": text} {
		if want := "no deployment data since 29 Nov 2026 16:00 UTC"; !strings.Contains(body, want) {
			t.Errorf("the %s part lacks %q:\n%s", part, want, body)
		}
		if strings.Contains(body, "2026-11-29T16:00:00Z") {
			t.Errorf("the %s part quotes an RFC 3339 time:\n%s", part, body)
		}
	}
}

// A line not compared on stale data says so once: "not compared with the
// 7 days before: not compared on stale data: no deployment data since …"
// had said "not compared" twice and the reason the status gives beside it.
func TestDigestNotComparedOnce(t *testing.T) {
	_, html, text := staleDigest(t)
	for part, body := range map[string]string{"HTML": html, "text": text} {
		if strings.Contains(body, "not compared on stale data") {
			t.Errorf("the %s part repeats itself (not compared on stale data):\n%s", part, body)
		}
		if n := strings.Count(body, "no deployment data since"); n != 1 {
			t.Errorf("the %s part gives the change failure rate's reason %d times, want once:\n%s", part, n, body)
		}
	}
	if want := "stale data: not compared with the 7 days before"; !strings.Contains(html, want) {
		t.Errorf("the HTML part lacks %q:\n%s", want, html)
	}
}

// Without reports.base_url the digest says its links are off and how to
// have them; it had had no link at all and said nothing of it.
func TestDigestSaysLinksAreOff(t *testing.T) {
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, base := range []string{"", "https://candor.example.com"} {
		d := BuildDigest(cat, dataset(t, org()), nil, DigestOptions{AsOf: asOf, BaseURL: base})
		html, text, err := d.Render("ceo@example.com")
		if err != nil {
			t.Fatal(err)
		}
		for part, body := range map[string]string{"HTML": html, "text": text} {
			says := strings.Contains(body, "reports.base_url") && strings.Contains(body, "No links:")
			if says != (base == "") {
				t.Errorf("base_url %q: the %s part says the links are off: %v\n%s", base, part, says, body)
			}
		}
	}
}

// A digest of a week that has not ended is refused: one written with
// --out as of tomorrow had been archived as the report of a week a day
// from its end. The board pack refuses a month that has not ended
// (ParseMonth); the digest does alike (candor report digest calls it).
func TestDigestRefusesAWeekNotEnded(t *testing.T) {
	now := asOf.Add(time.Minute)
	if err := WeekEnded(now.Add(time.Hour), now); err == nil || !strings.Contains(err.Error(), "the week to 2026-11-30T08:01:00Z has not ended (the clock reads 2026-11-30 07:01 UTC)") {
		t.Errorf("a week ending an hour past the clock: %v; want it refused", err)
	}
	for _, t0 := range []time.Time{now, now.Add(-time.Second), now.Add(-30 * day)} {
		if err := WeekEnded(t0, now); err != nil {
			t.Errorf("a week to %s, the clock at %s: %v", t0, now, err)
		}
	}
}
