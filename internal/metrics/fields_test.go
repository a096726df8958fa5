package metrics

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
)

// One record of every kind, with every field a drill-down row shows set;
// the resolution, fix and close happen after as_of (2026-03-31), so the
// row must not show them.
const everyKind = `
{"kind":"service","id":"api","name":"API","team":"core","tier":1,"business_unit":"b2b","slo_target":0.999}
{"kind":"deployment","id":"d1","service":"api","environment":"prod","finished_at":"2026-03-12T00:00:00Z","status":"failure"}
{"kind":"change","id":"c1","service":"api","authored_at":"2026-03-09T00:00:00Z","merged_at":"2026-03-10T00:00:00Z"}
{"kind":"incident","id":"i1","service":"api","severity":"P1","opened_at":"2026-03-20T00:00:00Z","resolved_at":"2026-04-02T00:00:00Z","category":"availability","customer_facing":true,"origin":"customer"}
{"kind":"sli","id":"s1","service":"api","period_start":"2026-03-30T00:00:00Z","period_end":"2026-03-30T12:00:00Z","good":99,"total":100}
{"kind":"ticket","id":"t1","created_at":"2026-03-03T00:00:00Z","customer":"acme","segment":"enterprise","priority":"high","resolved_at":"2026-03-04T00:00:00Z","sla_due_at":"2026-03-05T00:00:00Z","escalated":true,"release":"d1"}
{"kind":"survey","id":"u1","at":"2026-03-06T00:00:00Z","type":"csat","score":4,"customer":"acme"}
{"kind":"vulnerability","id":"v1","severity":"critical","opened_at":"2026-03-07T00:00:00Z","service":"api","fixed_at":"2026-04-01T00:00:00Z","cve":"CVE-2026-1","kev":true,"package":"openssl"}
{"kind":"control","id":"k1","control":"AC-1","checked_at":"2026-03-08T00:00:00Z","passed":false,"framework":"SOX"}
{"kind":"cost","id":"co1","period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","amount":1050.25,"service":"api","category":"compute"}
{"kind":"usage","id":"us1","period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","requests":1000,"active_customers":12,"service":"api"}
{"kind":"budget","id":"b1","period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","amount":1000,"category":"compute"}
{"kind":"subscription","id":"sub1","customer":"acme","started_at":"2026-01-01T00:00:00Z","mrr":99.5,"plan":"pro","segment":"enterprise","ended_at":"2026-05-01T00:00:00Z"}
{"kind":"opportunity","id":"o1","created_at":"2026-02-01T00:00:00Z","amount":5000,"stage":"negotiation","owner":"ann","close_date":"2026-04-15","closed_at":"2026-04-10T00:00:00Z","won":true}
{"kind":"lead","id":"l1","created_at":"2026-03-01T00:00:00Z","channel":"web","campaign":"spring","mql_at":"2026-03-02T00:00:00Z","sql_at":"2026-04-02T00:00:00Z","opportunity":"o1"}
{"kind":"quota","id":"q1","owner":"ann","period_start":"2026-01-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","amount":30000}
{"kind":"spend","id":"sp1","period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","category":"marketing","amount":700}
{"kind":"target","id":"tg1","metric":"mrr","period_start":"2026-01-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","value":12000}
{"kind":"measurement","id":"m1","metric":"page_latency_p95","at":"2026-03-15T00:00:00Z","value":412.5,"service":"api","team":"web","customer":"acme","segment":"enterprise","unit":"ms","tags":{"region":"eu","browser":"firefox"}}
`

// Every kind declares its row fields once, and a row of each shows them,
// as of as_of, from the in-memory dataset.
func TestRowFieldsEveryKind(t *testing.T) {
	d := load(t, nil, everyKind)
	asOf := ts(t, defaultAsOf)
	want := map[domain.Kind]string{
		domain.KindService: `{"name":"API","team":"core","tier":1,"business_unit":"b2b","slo_target":0.999}`,
		// The environment as breakdowns and scopes name it: "prod" is an
		// alias of production (the stored record keeps "prod").
		domain.KindDeployment:    `{"finished_at":"2026-03-12T00:00:00Z","service":"api","environment":"production","status":"failure"}`,
		domain.KindChange:        `{"merged_at":"2026-03-10T00:00:00Z","service":"api","authored_at":"2026-03-09T00:00:00Z"}`,
		domain.KindIncident:      `{"opened_at":"2026-03-20T00:00:00Z","service":"api","severity":"P1","resolved_at":null,"category":"availability","customer_facing":true,"origin":"customer"}`,
		domain.KindSLI:           `{"period_start":"2026-03-30T00:00:00Z","period_end":"2026-03-30T12:00:00Z","service":"api","good":99,"total":100}`,
		domain.KindTicket:        `{"created_at":"2026-03-03T00:00:00Z","customer":"acme","segment":"enterprise","priority":"high","resolved_at":"2026-03-04T00:00:00Z","sla_due_at":"2026-03-05T00:00:00Z","escalated":true,"release":"d1"}`,
		domain.KindSurvey:        `{"at":"2026-03-06T00:00:00Z","type":"csat","score":4,"customer":"acme"}`,
		domain.KindVulnerability: `{"opened_at":"2026-03-07T00:00:00Z","service":"api","severity":"critical","fixed_at":null,"cve":"CVE-2026-1","package":"openssl","kev":true}`,
		domain.KindControl:       `{"checked_at":"2026-03-08T00:00:00Z","control":"AC-1","passed":false,"framework":"SOX"}`,
		domain.KindCost:          `{"period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","service":"api","category":"compute","amount":1050.25,"currency":"USD"}`,
		domain.KindUsage:         `{"period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","service":"api","requests":1000,"active_customers":12}`,
		domain.KindBudget:        `{"period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","category":"compute","amount":1000,"currency":"USD"}`,
		domain.KindSubscription:  `{"started_at":"2026-01-01T00:00:00Z","customer":"acme","mrr":99.5,"currency":"USD","plan":"pro","segment":"enterprise","ended_at":null}`,
		domain.KindOpportunity:   `{"created_at":"2026-02-01T00:00:00Z","owner":"ann","stage":"negotiation","amount":5000,"currency":"USD","close_date":"2026-04-15","closed_at":null,"won":null}`,
		domain.KindLead:          `{"created_at":"2026-03-01T00:00:00Z","channel":"web","campaign":"spring","mql_at":"2026-03-02T00:00:00Z","sql_at":null,"opportunity":"o1"}`,
		domain.KindQuota:         `{"period_start":"2026-01-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","owner":"ann","amount":30000,"currency":"USD"}`,
		domain.KindSpend:         `{"period_start":"2026-03-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","category":"marketing","amount":700,"currency":"USD"}`,
		domain.KindTarget:        `{"period_start":"2026-01-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","metric":"mrr","value":12000,"scope":null}`,
		domain.KindMeasurement:   `{"at":"2026-03-15T00:00:00Z","metric":"page_latency_p95","value":412.5,"service":"api","team":"web","customer":"acme","segment":"enterprise","unit":"ms","tags":"browser=firefox; region=eu"}`,
	}
	ids := map[domain.Kind]string{}
	for _, line := range strings.Split(strings.TrimSpace(everyKind), "\n") {
		r, err := domain.ParseJSON([]byte(line), "", domain.ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ids[r.Kind()] = r.Header().ID
	}
	for _, k := range domain.Kinds {
		if len(FieldNames(k)) == 0 {
			t.Errorf("%s: no row fields declared", k)
			continue
		}
		refs := []Ref{{Kind: k, Source: "import", ID: ids[k]}}
		got := d.Describe(refs, asOf)
		b, err := json.Marshal(got[0].Fields)
		if err != nil {
			t.Errorf("%s: %v", k, err)
			continue
		}
		if string(b) != want[k] {
			t.Errorf("%s fields =\n  %s\nwant\n  %s", k, b, want[k])
		}
		if names := fieldNames(got[0].Fields); !slices.Equal(names, FieldNames(k)) {
			t.Errorf("%s: row names %v, declared %v", k, names, FieldNames(k))
		}
		if refs[0].Fields != nil {
			t.Errorf("%s: Describe changed the refs it was given", k)
		}
	}
	// As of a later time the resolution, fix and close have happened.
	later := d.Describe([]Ref{{Kind: domain.KindIncident, Source: "import", ID: "i1"}, {Kind: domain.KindOpportunity, Source: "import", ID: "o1"}}, asOf.Add(30*24*time.Hour))
	if v := later[0].Fields.Get("resolved_at"); fmt.Sprint(v) != "2026-04-02 00:00:00 +0000 UTC" {
		t.Errorf("incident resolved_at later = %v", v)
	}
	if v := later[1].Fields.Get("won"); v != true {
		t.Errorf("opportunity won later = %v", v)
	}
	// A record the dataset does not hold gets no fields, not a panic.
	if got := d.Describe([]Ref{{Kind: domain.KindDeployment, Source: "import", ID: "ghost"}, {Kind: domain.KindTicket, Source: "x", ID: "t1"}}, asOf); got[0].Fields != nil || got[1].Fields != nil {
		t.Errorf("unknown records got fields: %+v", got)
	}
}

func fieldNames(f Fields) []string {
	var out []string
	for _, x := range f {
		out = append(out, x.Name)
	}
	return out
}

// A drill-down's refs are cached and shared between readers: describing a
// page of them leaves the cached list as it was.
func TestDescribeLeavesCacheAlone(t *testing.T) {
	d := load(t, nil, everyKind)
	q := Query{AsOf: ts(t, defaultAsOf), Window: 30 * day, Records: true}
	r, err := d.Compute("change_failure_rate", q)
	if err != nil || len(r.Records) != 1 {
		t.Fatalf("records = %+v (%v)", r.Records, err)
	}
	page := d.Describe(r.Records, q.AsOf)
	if page[0].Fields.Get("status") != "failure" {
		t.Errorf("page = %+v", page)
	}
	again, _ := d.Compute("change_failure_rate", q)
	if again.Records[0].Fields != nil {
		t.Errorf("the cached drill-down gained fields: %+v", again.Records[0])
	}
}

// docs/records.md lists each kind's drill-down fields as declared.
func TestRowFieldsDocumented(t *testing.T) {
	b, err := os.ReadFile("../../docs/records.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range domain.Kinds {
		row := fmt.Sprintf("| `%s` | %s |", k, strings.Join(FieldNames(k), ", "))
		if !strings.Contains(string(b), row) {
			t.Errorf("docs/records.md lacks the row %s", row)
		}
	}
}

// Fields write the JSON encoding/json would, value for value.
func TestFieldsJSONMatchesEncodingJSON(t *testing.T) {
	money, _ := domain.ParseMoney("-1234.500001")
	values := []any{
		nil, "", "plain", `quote " and \ backslash`, "tab\tnew\nline\x00\x1f", "ünïcödé ✓", "bad \xff utf8", "line\u2028sep\u2029",
		"<html> & co", 0.0, 0.1, -3.5, 12.0, 1e-7, 1e22, 123456789.123, 3, -7, true, false, money,
		time.Date(2026, 3, 12, 1, 2, 3, 400, time.UTC),
	}
	for _, v := range values {
		got, err := json.Marshal(Fields{{Name: "k", Value: v}})
		if err != nil || !json.Valid(got) {
			t.Errorf("%#v: %s (%v)", v, got, err)
			continue
		}
		want, _ := json.Marshal(map[string]any{"k": v})
		var g, w any
		json.Unmarshal(got, &g)
		json.Unmarshal(want, &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%#v: Fields wrote %s, encoding/json %s", v, got, want)
		}
	}
	if _, err := json.Marshal(Fields{{Name: "k", Value: math.Inf(1)}}); err == nil {
		t.Errorf("an infinite value was written")
	}
}

// A drill-down written as JSON reads back into Fields in the same order, so
// a Go client (the CLI's tests, a later web page) can decode it.
func TestFieldsJSONRoundTrip(t *testing.T) {
	in := Fields{{Name: "finished_at", Value: "2026-03-12T00:00:00Z"}, {Name: "service", Value: "api"}, {Name: "good", Value: 12.5}, {Name: "resolved_at", Value: nil}, {Name: "passed", Value: true}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out Fields
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip: %v, want %v", out, in)
	}
	if err := json.Unmarshal([]byte(`[1]`), &out); err == nil {
		t.Errorf("an array was read as fields")
	}
}
