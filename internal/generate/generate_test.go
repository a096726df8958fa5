package generate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
)

var testEnd = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

func generate(t testing.TB, opt Options) ([]byte, Stats) {
	t.Helper()
	var buf bytes.Buffer
	st, err := Write(&buf, opt)
	if err != nil {
		t.Fatalf("Write(%+v): %v", opt, err)
	}
	return buf.Bytes(), st
}

func TestDeterministic(t *testing.T) {
	opt := Options{Seed: 7, Scale: 0.05, End: testEnd}
	a, _ := generate(t, opt)
	b, _ := generate(t, opt)
	if !bytes.Equal(a, b) {
		t.Fatal("two runs with the same options differ")
	}
	opt.Seed = 8
	c, _ := generate(t, opt)
	if bytes.Equal(a, c) {
		t.Fatal("a different seed gave the same output")
	}
}

// fieldSpec is SPEC §1 for one kind: required and optional field names
// (besides kind), and which fields are timestamps.
type fieldSpec struct {
	required, optional []string
}

var spec = map[string]fieldSpec{
	"service":       {[]string{"id", "name"}, []string{"team", "owner", "tier", "customer_facing", "business_unit", "slo_target", "repo", "paths"}},
	"deployment":    {[]string{"id", "service", "environment", "finished_at", "status"}, []string{"env_type", "started_at", "cutover_at", "version", "commit", "changes", "change_request", "reason", "rollback_of", "emergency", "retro_validated_at", "risk_score", "coverage", "pipeline_url"}},
	"change":        {[]string{"id", "service", "merged_at"}, []string{"authored_at", "opened_at", "first_review_at", "title", "author", "commit", "url"}},
	"incident":      {[]string{"id", "service", "severity", "opened_at"}, []string{"detected_at", "resolved_at", "caused_by", "caused_by_change_request", "customer_facing", "origin", "category", "fingerprint", "postmortem_due_at", "postmortem_done_at", "url"}},
	"sli":           {[]string{"id", "service", "period_start", "period_end", "good", "total"}, []string{"objective"}},
	"ticket":        {[]string{"id", "created_at"}, []string{"customer", "segment", "resolved_at", "priority", "category", "user_role", "criticality", "escalated", "sla_due_at", "release", "text", "service"}},
	"survey":        {[]string{"id", "at", "type", "score"}, []string{"customer", "release"}},
	"vulnerability": {[]string{"id", "severity", "opened_at"}, []string{"service", "fixed_at", "cve", "kev", "package", "url"}},
	"control":       {[]string{"id", "control", "checked_at", "passed"}, []string{"name", "framework", "evidence_url"}},
	"cost":          {[]string{"id", "period_start", "period_end", "amount"}, []string{"service", "category", "provider", "tags", "currency"}},
	"usage":         {[]string{"id", "period_start", "period_end"}, []string{"requests", "active_customers", "service"}},
	"budget":        {[]string{"id", "period_start", "period_end", "amount"}, []string{"category", "currency"}},
	"subscription":  {[]string{"id", "customer", "started_at", "mrr"}, []string{"ended_at", "plan", "segment", "interval", "quantity", "discount", "currency"}},
	"opportunity":   {[]string{"id", "created_at", "amount", "stage"}, []string{"owner", "qualified_at", "closed_at", "won", "close_date", "channel", "currency"}},
	"lead":          {[]string{"id", "created_at"}, []string{"mql_at", "sql_at", "opportunity", "channel", "campaign"}},
	"quota":         {[]string{"id", "owner", "period_start", "period_end", "amount"}, []string{"currency"}},
	"spend":         {[]string{"id", "period_start", "period_end", "category", "amount"}, []string{"currency"}},
	"target":        {[]string{"id", "metric", "period_start", "period_end", "value"}, []string{"scope"}},
	"measurement":   {[]string{"id", "metric", "at", "value"}, []string{"source", "service", "team", "customer", "segment", "unit", "tags"}},
}

var timeFields = map[string]bool{
	"finished_at": true, "started_at": true, "cutover_at": true, "retro_validated_at": true,
	"merged_at": true, "authored_at": true, "opened_at": true, "first_review_at": true, "detected_at": true, "resolved_at": true,
	"postmortem_due_at": true, "postmortem_done_at": true, "period_start": true, "period_end": true,
	"created_at": true, "sla_due_at": true, "at": true, "fixed_at": true, "checked_at": true,
	"ended_at": true, "qualified_at": true, "closed_at": true, "mql_at": true, "sql_at": true,
}

// Budgets, quotas and targets are plans for a period set ahead of time: the
// current period may start at End and ends after it.
func planKind(kind string) bool { return kind == "budget" || kind == "quota" || kind == "target" }

var moneyFields = map[string]string{
	"cost": "amount", "budget": "amount", "subscription": "mrr", "opportunity": "amount", "quota": "amount", "spend": "amount",
}

var enums = map[string]map[string][]string{
	"deployment":    {"status": {"success", "failure", "rolled_back"}, "reason": {"planned", "hotfix", "rollback"}, "env_type": {"production", "staging", "test", "dev"}},
	"incident":      {"severity": {"P0", "P1", "P2", "P3", "P4"}, "origin": {"monitoring", "customer", "internal"}},
	"vulnerability": {"severity": {"critical", "high", "medium", "low"}},
	"survey":        {"type": {"csat", "nps"}},
	"spend":         {"category": {"sales", "marketing"}},
	"sli":           {"objective": {"availability", "latency"}},
	"ticket":        {"priority": {"urgent", "high", "normal", "low"}, "user_role": {"admin", "end_user"}},
	"opportunity":   {"stage": {"prospecting", "qualification", "proposal", "negotiation", "closed_won", "closed_lost"}},
}

var boolFields = map[string]bool{"customer_facing": true, "emergency": true, "escalated": true, "kev": true, "passed": true, "won": true}

type rec map[string]any

func (r rec) s(k string) string { v, _ := r[k].(string); return v }

func (r rec) t(k string) time.Time {
	v, _ := time.Parse(time.RFC3339, r.s(k))
	return v
}

// parseAll checks every line against SPEC §1 and returns the records by
// kind.
func parseAll(t *testing.T, out []byte, end time.Time) map[string][]rec {
	t.Helper()
	byKind := map[string][]rec{}
	ids := map[string]map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	line, seenOther := 0, false
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("line %d: "+format, append([]any{line}, args...)...)
	}
	for sc.Scan() {
		line++
		raw := sc.Bytes()
		var r rec
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&r); err != nil {
			fail("invalid JSON: %v: %s", err, raw)
		}
		kind := r.s("kind")
		fs, ok := spec[kind]
		if !ok {
			fail("unknown kind %q", kind)
		}
		if kind == "service" && seenOther {
			fail("service record after other kinds")
		}
		seenOther = seenOther || kind != "service"
		allowed := map[string]bool{"kind": true}
		for _, f := range append(append([]string{}, fs.required...), fs.optional...) {
			allowed[f] = true
		}
		for f := range r {
			if !allowed[f] {
				fail("%s has non-SPEC field %q", kind, f)
			}
		}
		for _, f := range fs.required {
			if _, ok := r[f]; !ok {
				fail("%s lacks required field %q: %s", kind, f, raw)
			}
		}
		for f, v := range r {
			switch {
			case timeFields[f]:
				s, _ := v.(string)
				ts, err := time.Parse(time.RFC3339, s)
				if err != nil || !strings.HasSuffix(s, "Z") {
					fail("%s.%s = %v is not an RFC 3339 UTC timestamp", kind, f, v)
				}
				switch {
				case planKind(kind) && f == "period_end":
				case planKind(kind) && f == "period_start":
					if ts.After(end) {
						fail("%s.%s = %s is after End %s", kind, f, s, end.Format(time.RFC3339))
					}
				case !ts.Before(end):
					fail("%s.%s = %s is not before End %s", kind, f, s, end.Format(time.RFC3339))
				}
			case boolFields[f]:
				if _, ok := v.(bool); !ok {
					fail("%s.%s = %v is not a boolean", kind, f, v)
				}
			case f == "close_date":
				if _, err := time.Parse(time.DateOnly, r.s(f)); err != nil {
					fail("close_date %v is not YYYY-MM-DD", v)
				}
			}
		}
		for f, allowed := range enums[kind] {
			if v, ok := r[f]; ok && !contains(allowed, v.(string)) {
				fail("%s.%s = %v not in %v", kind, f, v, allowed)
			}
		}
		if mf, ok := moneyFields[kind]; ok {
			n, ok := r[mf].(json.Number)
			if !ok {
				fail("%s.%s is not a number", kind, mf)
			}
			if i := strings.IndexByte(n.String(), '.'); i >= 0 && len(n.String())-i-1 > 2 {
				fail("%s.%s = %s has more than 2 decimals", kind, mf, n)
			}
			if r.s("currency") != "USD" {
				fail("%s lacks currency USD", kind)
			}
		}
		switch kind {
		case "survey":
			score, err := r["score"].(json.Number).Int64()
			lo, hi := int64(1), int64(5)
			if r.s("type") == "nps" {
				lo, hi = 0, 10
			}
			if err != nil || score < lo || score > hi {
				fail("%s score %v out of range [%d, %d]", r.s("type"), r["score"], lo, hi)
			}
		case "deployment":
			if _, ok := r["changes"]; ok {
				if _, ok := r["changes"].([]any); !ok {
					fail("deployment.changes is not a JSON array")
				}
			}
		}
		// The domain package is the importer's validator: the output must
		// pass it unchanged.
		if _, err := domain.ParseJSON(raw, "", domain.ParseOptions{}); err != nil {
			fail("domain.ParseJSON rejects %s: %v", raw, err)
		}
		id := r.s("id")
		if ids[kind] == nil {
			ids[kind] = map[string]bool{}
		}
		if ids[kind][id] {
			fail("duplicate %s id %q", kind, id)
		}
		ids[kind][id] = true
		byKind[kind] = append(byKind[kind], r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return byKind
}

func contains(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

func TestRecordsFollowSpec(t *testing.T) {
	for _, end := range []time.Time{
		testEnd,
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),             // a year and month boundary
		time.Date(2025, 7, 15, 13, 27, 41, 500000000, time.UTC), // not on the hour
	} {
		out, st := generate(t, Options{Seed: 1, Scale: 0.05, End: end})
		byKind := parseAll(t, out, end)
		for kind := range spec {
			if len(byKind[kind]) == 0 {
				t.Errorf("End %v: no %s records", end, kind)
			}
			if int64(len(byKind[kind])) != st.ByKind[kind] {
				t.Errorf("Stats.ByKind[%s] = %d, wrote %d", kind, st.ByKind[kind], len(byKind[kind]))
			}
		}
		checkReferences(t, byKind)
		checkQuotaCoversEnd(t, byKind, end)
	}
}

func checkReferences(t *testing.T, byKind map[string][]rec) {
	t.Helper()
	services := map[string]bool{}
	for _, s := range byKind["service"] {
		services[s.s("id")] = true
	}
	deps := map[string]rec{}
	crs := map[string]bool{}
	for _, d := range byKind["deployment"] {
		deps[d.s("id")] = d
		if cr := d.s("change_request"); cr != "" {
			crs[cr] = true
		}
	}
	changes := map[string]rec{}
	for _, c := range byKind["change"] {
		changes[c.s("id")] = c
		if !services[c.s("service")] {
			t.Errorf("change %s: unknown service %q", c.s("id"), c.s("service"))
		}
		if a, ok := c["authored_at"]; ok && a.(string) > c.s("merged_at") {
			t.Errorf("change %s authored after it merged", c.s("id"))
		}
		if c.s("opened_at") > c.s("merged_at") {
			t.Errorf("change %s opened after it merged", c.s("id"))
		}
	}
	prodEnv := map[string]bool{"production": true, "prod": true, "prd": true, "live": true}
	for id, d := range deps {
		if !services[d.s("service")] {
			t.Errorf("deployment %s: unknown service %q", id, d.s("service"))
		}
		if d.s("started_at") > d.s("finished_at") {
			t.Errorf("deployment %s started after it finished", id)
		}
		if of := d.s("rollback_of"); of != "" {
			o, ok := deps[of]
			switch {
			case !ok:
				t.Errorf("deployment %s: rollback_of unknown deployment %q", id, of)
			case o.s("service") != d.s("service") || !prodEnv[o.s("environment")] || o.s("finished_at") >= d.s("finished_at"):
				t.Errorf("deployment %s: rollback_of %s is not an earlier production deployment of the service", id, of)
			}
		}
		if list, ok := d["changes"].([]any); ok {
			for _, c := range list {
				ch, ok := changes[c.(string)]
				switch {
				case !ok:
					t.Errorf("deployment %s lists unknown change %v", id, c)
				case ch.s("service") != d.s("service"):
					t.Errorf("deployment %s lists change %v of another service", id, c)
				case ch.t("merged_at").After(d.t("finished_at")):
					t.Errorf("deployment %s lists change %v merged after it finished", id, c)
				}
			}
		}
	}
	for _, i := range byKind["incident"] {
		if !services[i.s("service")] {
			t.Errorf("incident %s: unknown service %q", i.s("id"), i.s("service"))
		}
		if c := i.s("caused_by"); c != "" {
			if d, ok := deps[c]; !ok || d.s("service") != i.s("service") {
				t.Errorf("incident %s: caused_by %q is not a deployment of its service", i.s("id"), c)
			}
		}
		if c := i.s("caused_by_change_request"); c != "" && !crs[c] {
			t.Errorf("incident %s: caused_by_change_request %q matches no deployment", i.s("id"), c)
		}
		if dt := i.s("detected_at"); dt != "" && dt < i.s("opened_at") {
			t.Errorf("incident %s detected before it opened", i.s("id"))
		}
	}
	for _, k := range []string{"ticket", "survey"} {
		for _, r := range byKind[k] {
			if rel := r.s("release"); rel != "" {
				if _, ok := deps[rel]; !ok {
					t.Errorf("%s %s: release %q is not a deployment", k, r.s("id"), rel)
				}
			}
		}
	}
	opps := map[string]bool{}
	for _, o := range byKind["opportunity"] {
		opps[o.s("id")] = true
	}
	for _, l := range byKind["lead"] {
		if o := l.s("opportunity"); o != "" && !opps[o] {
			t.Errorf("lead %s: unknown opportunity %q", l.s("id"), o)
		}
	}
	for _, v := range byKind["vulnerability"] {
		if s := v.s("service"); s != "" && !services[s] {
			t.Errorf("vulnerability %s: unknown service %q", v.s("id"), s)
		}
	}
}

// pipeline_coverage needs quotas whose period contains End.
func checkQuotaCoversEnd(t *testing.T, byKind map[string][]rec, end time.Time) {
	t.Helper()
	for _, q := range byKind["quota"] {
		if !q.t("period_start").After(end) && q.t("period_end").After(end) {
			return
		}
	}
	t.Errorf("End %v: no quota period contains End", end)
}

func TestVolumes(t *testing.T) {
	_, st := generate(t, Options{Seed: 3, Scale: 0.1, End: testEnd})
	want := map[string]float64{"deployment": 100000, "change": 300000, "incident": 10000, "ticket": 100000, "opportunity": 20000}
	for kind, perYear := range want {
		exp := perYear * 0.1
		if got := float64(st.ByKind[kind]); math.Abs(got-exp) > 0.25*exp {
			t.Errorf("%s: %v records at scale 0.1, want %v ± 25 %%", kind, got, exp)
		}
	}
}

// Larger scales add services (per-region copies), not years; a short span
// keeps the test fast.
func TestScaleAddsServices(t *testing.T) {
	out, st := generate(t, Options{Seed: 5, Scale: 2.5, End: testEnd, Days: 10})
	if st.ByKind["service"] != 36 {
		t.Errorf("scale 2.5: %d services, want 36", st.ByKind["service"])
	}
	byKind := parseAll(t, out, testEnd)
	checkReferences(t, byKind)
	for _, r := range byKind["deployment"] {
		if r.t("finished_at").Before(testEnd.AddDate(0, 0, -11)) {
			t.Fatalf("Days 10: deployment finished %s", r.s("finished_at"))
		}
	}
	_, st = generate(t, Options{Seed: 5, Scale: 0.01, End: testEnd})
	if st.ByKind["deployment"] < 500 || st.ByKind["service"] != 12 {
		t.Errorf("scale 0.01: %d deployments of %d services", st.ByKind["deployment"], st.ByKind["service"])
	}
}

func TestShortSpans(t *testing.T) {
	for _, days := range []int{1, 2, 40} {
		out, _ := generate(t, Options{Seed: 9, Scale: 0.3, End: testEnd, Days: days})
		checkReferences(t, parseAll(t, out, testEnd))
	}
}

func TestBadOptions(t *testing.T) {
	for _, opt := range []Options{{Scale: 0, End: testEnd}, {Scale: -1, End: testEnd}, {Scale: math.NaN(), End: testEnd}, {Scale: 1}} {
		if _, err := Write(io.Discard, opt); err == nil {
			t.Errorf("Write(%+v) succeeded", opt)
		}
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n += len(p); w.n > 4<<20 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	if _, err := Write(&failWriter{}, Options{Seed: 1, Scale: 0.2, End: testEnd}); err == nil || err.Error() != "disk full" {
		t.Fatalf("err = %v, want disk full", err)
	}
}

func TestTimestampFormatting(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 100000; i++ {
		sec := r.Int64N(200*365*86400) - 50*365*86400
		tm := time.Unix(sec, 0).UTC()
		if got, want := string(appendTS(nil, sec)), tm.Format(time.RFC3339); got != want {
			t.Fatalf("appendTS(%d) = %s, want %s", sec, got, want)
		}
		if got, want := monthStart(sec, 1), time.Date(tm.Year(), tm.Month()+1, 1, 0, 0, 0, 0, time.UTC).Unix(); got != want {
			t.Fatalf("monthStart(%s, 1) = %d, want %d", tm, got, want)
		}
		q := (int(tm.Month()) - 1) / 3 * 3
		if got, want := quarterStart(sec, 0), time.Date(tm.Year(), time.Month(q+1), 1, 0, 0, 0, 0, time.UTC).Unix(); got != want {
			t.Fatalf("quarterStart(%s) = %d, want %d", tm, got, want)
		}
		if got, want := weekday(sec), int(tm.Weekday()); got != want {
			t.Fatalf("weekday(%s) = %d, want %d", tm, got, want)
		}
	}
}

func BenchmarkWrite(b *testing.B) {
	var records int64
	start := time.Now()
	for i := 0; i < b.N; i++ {
		st, err := Write(io.Discard, Options{Seed: int64(i), Scale: 0.1, End: testEnd})
		if err != nil {
			b.Fatal(err)
		}
		records += st.Records
	}
	b.ReportMetric(float64(records)/time.Since(start).Seconds(), "records/s")
	b.ReportMetric(float64(records)/float64(b.N), "records/op")
}

// Records hands over every record Write writes, parsed.
func TestRecordsMatchesWrite(t *testing.T) {
	opt := Options{Seed: 3, Scale: 0.005, End: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	var buf bytes.Buffer
	want, err := Write(&buf, opt)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	kinds := map[domain.Kind]bool{}
	got, err := Records(opt, func(r domain.Record) {
		n++
		kinds[r.Kind()] = true
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != want.Records || got.Records != want.Records {
		t.Errorf("Records gave %d records (stats %d), Write wrote %d", n, got.Records, want.Records)
	}
	if len(kinds) < 15 {
		t.Errorf("only %d kinds", len(kinds))
	}
}

func TestBenchScale(t *testing.T) {
	for _, c := range []struct {
		env  string
		want float64
		err  bool
	}{
		{"", 0.1, false}, {"10", 10, false}, {"0.005", 0.005, false},
		{"ten", 0, true}, {"0", 0, true}, {"-1", 0, true}, {"NaN", 0, true}, {"Inf", 0, true},
	} {
		t.Setenv(BenchScaleEnv, c.env)
		got, err := BenchScale(0.1)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("%s=%q: %v, %v; want %v (error %v)", BenchScaleEnv, c.env, got, err, c.want, c.err)
		}
		if err != nil && !strings.Contains(err.Error(), BenchScaleEnv) {
			t.Errorf("error %q does not name %s", err, BenchScaleEnv)
		}
	}
}

// The plans the demo's "vs target" cards are judged by include the MRR
// bridge's movements, revenue at risk and lifetime value, for the period
// that holds End: without them those cards can only say "no target set".
func TestBridgeAndRiskPlans(t *testing.T) {
	end := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	planned := map[string]bool{}
	if _, err := Records(Options{Seed: 1, Scale: 0.1, End: end, Days: 365}, func(r domain.Record) {
		if x, ok := r.(*domain.Target); ok && !x.PeriodStart.After(end.Add(-time.Second)) && x.PeriodEnd.After(end.Add(-time.Second)) {
			planned[x.Metric] = true
		}
	}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"mrr_new", "mrr_expansion", "mrr_churn", "revenue_at_risk", "ltv"} {
		if !planned[id] {
			t.Errorf("no target for %s in the period holding End", id)
		}
	}
}
