package scorecard

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/metrics"
)

// flowOrg: team core's api shipped a1…a5 on 03-10 (coding 10 h, pickup
// 2 h, review 12 h, deploy 96 h each); team growth's web shipped w1 and w2
// on 03-20 (no first commit; pickup 48 h, review 24 h, deploy 48 h). A
// staging deployment and a change not yet deployed keep both sources fresh.
var flowOrg = func() string {
	var b strings.Builder
	b.WriteString(`{"kind":"deployment","id":"s1","service":"web","environment":"staging","finished_at":"2026-03-30T12:00:00Z","status":"success"}
{"kind":"change","id":"w9","service":"web","merged_at":"2026-03-30T12:00:00Z"}
{"kind":"service","id":"api","name":"API","team":"core"}
{"kind":"service","id":"web","name":"Web","team":"growth"}
{"kind":"deployment","id":"dA","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success","changes":["a1","a2","a3","a4","a5"]}
{"kind":"deployment","id":"dB","service":"web","environment":"production","finished_at":"2026-03-20T00:00:00Z","status":"success","changes":["w1","w2"]}
`)
	for i := 1; i <= 5; i++ {
		fmt.Fprintf(&b, `{"kind":"change","id":"a%d","service":"api","authored_at":"2026-03-05T00:00:00Z","opened_at":"2026-03-05T10:00:00Z","first_review_at":"2026-03-05T12:00:00Z","merged_at":"2026-03-06T00:00:00Z"}`+"\n", i)
	}
	for i := 1; i <= 2; i++ {
		fmt.Fprintf(&b, `{"kind":"change","id":"w%d","service":"web","opened_at":"2026-03-15T00:00:00Z","first_review_at":"2026-03-17T00:00:00Z","merged_at":"2026-03-18T00:00:00Z"}`+"\n", i)
	}
	return b.String()
}()

func stageText(ss []FlowStage) string {
	var out []string
	for _, s := range ss {
		out = append(out, fmt.Sprintf("%s=%s n=%d %s", s.ID, FormatValue(s.Value, "hours", ""), s.Count, s.Status))
	}
	return strings.Join(out, " | ")
}

// The lead-time drill-down shows the four stages side by side, each with
// the changes it rests on, for the drill-down's scope.
func TestLeadTimeDrillDownShowsTheStages(t *testing.T) {
	cat := defaultCatalog(t)
	ds := load(t, metrics.DefaultConfig(), flowOrg)
	d, err := Detail(cat, ds, LeadTime, Options{AsOf: asOf}, "", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	// Org: pickup 2 2 2 2 2 48 48, review 12×5 24×2, deploy 48 48 96×5.
	want := "coding_time=10 h n=5 green | pickup_time=2 h n=7 green | review_time=12 h n=7 green | deploy_time=96 h n=7 red"
	if got := stageText(d.FlowStages); got != want {
		t.Errorf("stages =\n%s\nwant\n%s", got, want)
	}
	text := DetailText(d, TextOptions{})
	for _, w := range []string{"Where the time goes", "Pickup time (median)", "2 h", "7 changes", "opened_at → first_review_at"} {
		if !strings.Contains(text, w) {
			t.Errorf("text lacks %q:\n%s", w, text)
		}
	}

	d, _ = Detail(cat, ds, LeadTime, Options{AsOf: asOf}, "", metrics.Scope{Dim: "team", Value: "growth"})
	want = "coding_time=— n=0 unknown | pickup_time=48 h n=2 unknown | review_time=24 h n=2 unknown | deploy_time=48 h n=2 unknown"
	if got := stageText(d.FlowStages); got != want {
		t.Errorf("growth stages =\n%s\nwant\n%s", got, want)
	}
	// Another metric's drill-down has none; a reader who may not see a
	// stage does not get it.
	if d, _ := Detail(cat, ds, "deployment_frequency", Options{AsOf: asOf}, "", metrics.Scope{}); d.FlowStages != nil {
		t.Errorf("deployment frequency has stages: %v", d.FlowStages)
	}
	hide := Options{AsOf: asOf, Visible: func(m *catalog.Metric) bool { return m.ID != "review_time" }}
	if d, _ := Detail(cat, ds, LeadTime, hide, "", metrics.Scope{}); len(d.FlowStages) != 3 || strings.Contains(stageText(d.FlowStages), "review_time") {
		t.Errorf("hidden review time shown: %s", stageText(d.FlowStages))
	}
}

// The Engineering view shows the stages per team, the organisation first.
func TestEngineeringViewFlowByTeam(t *testing.T) {
	cat := defaultCatalog(t)
	vr, err := View(cat, load(t, metrics.DefaultConfig(), flowOrg), "engineering", Options{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	fb := vr.Flow
	if fb == nil || fb.By != "team" || len(fb.Stages) != 4 || len(fb.Rows) != 3 {
		t.Fatalf("flow = %+v", fb)
	}
	var got []string
	for _, r := range fb.Rows {
		got = append(got, r.Key+": "+stageText(r.Stages))
	}
	want := []string{
		": coding_time=10 h n=5 green | pickup_time=2 h n=7 green | review_time=12 h n=7 green | deploy_time=96 h n=7 red",
		"core: coding_time=10 h n=5 green | pickup_time=2 h n=5 green | review_time=12 h n=5 green | deploy_time=96 h n=5 red",
		"growth: coding_time=— n=0 unknown | pickup_time=48 h n=2 unknown | review_time=24 h n=2 unknown | deploy_time=48 h n=2 unknown",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	text := ViewText(vr, TextOptions{})
	if !strings.Contains(text, "Where lead time goes, by team") || !strings.Contains(text, "48 h (n=2)") {
		t.Errorf("view text lacks the stages:\n%s", text)
	}
}

// bridgeOrg: A expands by 50 (a second subscription), B is new (200), D
// churns (300): MRR 400 at the start of March, 350 at as_of.
const bridgeOrg = `
{"kind":"subscription","id":"a1","customer":"A","started_at":"2025-06-01T00:00:00Z","mrr":100}
{"kind":"subscription","id":"a2","customer":"A","started_at":"2026-03-10T00:00:00Z","mrr":50}
{"kind":"subscription","id":"b1","customer":"B","started_at":"2026-03-05T00:00:00Z","mrr":200}
{"kind":"subscription","id":"d1","customer":"D","started_at":"2025-02-01T00:00:00Z","ended_at":"2026-03-20T00:00:00Z","mrr":300}
`

func TestVPCSViewBridge(t *testing.T) {
	cat := defaultCatalog(t)
	ds := load(t, metrics.DefaultConfig(), bridgeOrg)
	vr, err := View(cat, ds, "vp_cs", Options{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	mb := vr.Bridge
	if mb == nil || mb.Start == nil || mb.End == nil || *mb.Start != 400 || *mb.End != 350 || mb.Window != "30d" || mb.Currency != "USD" {
		t.Fatalf("bridge = %+v", mb)
	}
	var got []string
	sum := *mb.Start
	for _, m := range mb.Moves {
		got = append(got, fmt.Sprintf("%s %s n=%d", m.Move, FormatValue(m.Value, "", ""), m.Count))
		if m.Move == metrics.MoveContraction || m.Move == metrics.MoveChurn {
			sum -= *m.Value
		} else {
			sum += *m.Value
		}
	}
	if want := "new 200 n=1|reactivation 0 n=0|expansion 50 n=1|contraction 0 n=0|churn 300 n=1"; strings.Join(got, "|") != want {
		t.Errorf("moves = %s, want %s", strings.Join(got, "|"), want)
	}
	if sum != *mb.End {
		t.Errorf("start + moves = %v, end %v", sum, *mb.End)
	}
	text := ViewText(vr, TextOptions{})
	for _, w := range []string{"MRR bridge over 30d: 400 USD at the window's start", "− Churned MRR", "300 USD", "= MRR at as_of"} {
		if !strings.Contains(text, w) {
			t.Errorf("view text lacks %q:\n%s", w, text)
		}
	}
	// The churn drill-down names the customer, with m0 and m1.
	d, _ := Detail(cat, ds, "mrr_churn", Options{AsOf: asOf}, "", metrics.Scope{})
	// Its amounts to the cent, the currency in the heading.
	if text := DetailText(d, TextOptions{}); !strings.Contains(text, "m0 (USD)") || !strings.Contains(text, "300.00             0.00           300.00") {
		t.Errorf("the customers' amounts:\n%s", text)
	}
	if fmt.Sprint(d.Customers) != "[{D 300 0 300}]" || !strings.Contains(DetailText(d, TextOptions{}), "Customers behind the movement (1)") {
		t.Errorf("churn customers = %v", d.Customers)
	}
	// A reader without the bridge's metrics gets no bridge; the CEO's
	// view has it too.
	vr, _ = View(cat, ds, "vp_cs", Options{AsOf: asOf, Visible: func(m *catalog.Metric) bool { return !m.RevenueSensitive() }})
	if vr.Bridge != nil {
		t.Error("the bridge is shown to a reader who may not see revenue")
	}
	if vr, _ := View(cat, ds, "ceo", Options{AsOf: asOf}); vr.Bridge == nil || *vr.Bridge.End != 350 {
		t.Error("the CEO view has no bridge")
	}
	// Without subscription data the bridge says why it has no value.
	vr, _ = View(cat, load(t, metrics.DefaultConfig(), flowOrg), "vp_cs", Options{AsOf: asOf})
	if vr.Bridge == nil || vr.Bridge.Start != nil || !strings.Contains(vr.Bridge.Reason, "subscription") {
		t.Errorf("no data: %+v", vr.Bridge)
	}
}

// `candor view`'s MRR bridge adds up as printed, as the role view's page
// does (scorecard.BridgeShown). The demo's VP CS view printed 445,304 +
// 14,525 + 2,436 = 462,266, each amount rounded alone; then each step was
// the difference between the rounded running totals ("+2,437" beside
// expansion's card, 2,436.33): in whole units these amounts do not add
// up, so the bridge is to the cent, each movement its card's figure.
func TestViewTextBridgeAddsUpAsPrinted(t *testing.T) {
	cat := defaultCatalog(t)
	start := asOf.AddDate(0, 0, -45).Format(time.RFC3339)
	in := asOf.AddDate(0, 0, -10).Format(time.RFC3339)
	ds := load(t, metrics.DefaultConfig(), `{"kind":"subscription","id":"a1","customer":"A","started_at":"`+start+`","mrr":445304.18}
{"kind":"subscription","id":"a2","customer":"A","started_at":"`+in+`","mrr":2436.33}
{"kind":"subscription","id":"b1","customer":"B","started_at":"`+in+`","mrr":14524.99}
`)
	vr, err := View(cat, ds, "vp_cs", Options{AsOf: asOf})
	if err != nil {
		t.Fatal(err)
	}
	text := ViewText(vr, TextOptions{})
	amount := regexp.MustCompile(`([+−=]?) *[A-Za-z ]*?([0-9][0-9,]*(?:\.[0-9]+)?) USD`)
	var sum, end float64
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if !strings.Contains(l, "USD") || !strings.Contains(l, "MRR") {
			continue
		}
		m := amount.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		v, _ := strconv.ParseFloat(strings.ReplaceAll(m[2], ",", ""), 64)
		v = math.Round(v * 100) // in cents, exactly
		switch {
		case strings.Contains(l, "at the window's start"), strings.HasPrefix(strings.TrimSpace(l), "+"):
			sum += v
		case strings.HasPrefix(strings.TrimSpace(l), "−"):
			sum -= v
		case strings.HasPrefix(strings.TrimSpace(l), "="):
			end = v
		default:
			continue
		}
		lines = append(lines, l)
	}
	if len(lines) != 7 || sum != end || end != 46226550 || !strings.Contains(text, "2,436.33 USD") || strings.Contains(text, "2,437") {
		t.Errorf("the bridge as printed sums to %v, its end %v (cents):\n%s", sum, end, strings.Join(lines, "\n"))
	}
}

// The bridge rounds each movement as its card does, half away from zero,
// and keeps whole units only while they add up so. The demo's CEO view had
// read "+2,519 USD" for expansion's 2,519.58 (its card "2,520 USD/30d")
// and "+2,400 USD" for reactivation's 2,399.26, each step the difference
// between rounded running totals.
func TestBridgeShownRoundsAsTheCards(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	bridge := func(start, end float64, moves ...float64) *MRRBridge {
		mb := &MRRBridge{Currency: "USD", Window: "30d", Start: &start, End: &end}
		for i, v := range moves {
			mb.Moves = append(mb.Moves, BridgeMove{Figure: Figure{Value: f(v)}, Move: metrics.BridgeMoves[i]})
		}
		return mb
	}
	shown := func(mb *MRRBridge) (string, string) {
		steps, money, note := BridgeShown(mb, "")
		out := []string{money(*mb.Start)}
		for i, s := range steps {
			out = append(out, metrics.BridgeMoves[i]+" "+money(*s))
		}
		return strings.Join(append(out, money(*mb.End)), " | "), note
	}
	for _, c := range []struct {
		name     string
		mb       *MRRBridge
		want     string
		wantNote string
	}{
		// 445,304 + 14,525 + 2,399 + 2,520 = 464,748: whole units, each
		// movement as its card rounds it.
		{"whole units add up", bridge(445304.30, 464748.14, 14525, 2399.26, 2519.58, 0, 0),
			"445,304 USD | new 14,525 USD | reactivation 2,399 USD | expansion 2,520 USD | contraction 0 USD | churn 0 USD | 464,748 USD", ""},
		// A tie rounds away from zero, a loss too: 1,000.50 is 1,001, −812.50 is −813.
		{"a tie in whole units", bridge(1000.5, 188, 0, 0, 0, 0, 812.5),
			"1,001 USD | new 0 USD | reactivation 0 USD | expansion 0 USD | contraction 0 USD | churn -813 USD | 188 USD", ""},
		// 10,877 − 812 ≠ 10,064 in whole units: to the cent.
		{"whole units do not add up", bridge(10876.50, 10064.25, 0, 0, 0, 0, 812.25),
			"10,876.50 USD | new 0.00 USD | reactivation 0.00 USD | expansion 0.00 USD | contraction 0.00 USD | churn -812.25 USD | 10,064.25 USD", ""},
		// Below a thousand and whole: as the cards, no cents.
		{"small and whole", bridge(400, 350, 200, 0, 50, 0, 300),
			"400 USD | new 200 USD | reactivation 0 USD | expansion 50 USD | contraction 0 USD | churn -300 USD | 350 USD", ""},
		// A tie in cents too (strconv had made 100.125 "100.12"); then
		// 100.13 + 0.13 is not 100.25, and the bridge says so.
		{"a tie in cents", bridge(100.125, 100.25, 0.125, 0, 0, 0, 0),
			"100.13 USD | new 0.13 USD | reactivation 0.00 USD | expansion 0.00 USD | contraction 0.00 USD | churn 0.00 USD | 100.25 USD",
			"Each amount is rounded to the cent on its own: as shown they add up to 100.26 USD, not to the 100.25 USD at the end."},
		// Fractions of a cent: not even the cents add up, and the bridge
		// says what its amounts add up to.
		{"cents do not add up", bridge(1000.404, 1000.808, 0.404, 0, 0, 0, 0),
			"1,000.40 USD | new 0.40 USD | reactivation 0.00 USD | expansion 0.00 USD | contraction 0.00 USD | churn 0.00 USD | 1,000.81 USD",
			"Each amount is rounded to the cent on its own: as shown they add up to 1,000.80 USD, not to the 1,000.81 USD at the end."},
	} {
		got, note := shown(c.mb)
		if got != c.want || note != c.wantNote {
			t.Errorf("%s:\n got %s (%q)\nwant %s (%q)", c.name, got, note, c.want, c.wantNote)
		}
	}
	// The text prints the note under the bridge.
	var b strings.Builder
	writeMRRBridge(&b, bridge(1000.404, 1000.808, 0.404, 0, 0, 0, 0), asOf, TextOptions{})
	if !strings.Contains(b.String(), "as shown they add up to 1,000.80 USD") {
		t.Errorf("the text has no note:\n%s", b.String())
	}
}
