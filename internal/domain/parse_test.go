package domain

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// ---- helpers ---------------------------------------------------------------

// jsonLine builds an NDJSON line from fields; a json.RawMessage value is
// written as is.
func jsonLine(t testing.TB, kind Kind, m map[string]any) []byte {
	t.Helper()
	obj := map[string]any{}
	maps.Copy(obj, m)
	if kind != "" {
		obj["kind"] = string(kind)
	}
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatalf("marshal %v: %v", m, err)
	}
	return b
}

// csvCell writes a fixture value the way a CSV file holds it.
func csvCell(t testing.TB, v any) string {
	t.Helper()
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return string(v)
	case bool:
		return strconv.FormatBool(v)
	case []string:
		return strings.Join(v, ";")
	case nil:
		return ""
	}
	t.Fatalf("no CSV form for %T %v", v, v)
	return ""
}

func csvFields(t testing.TB, m map[string]any) Fields {
	t.Helper()
	f := Fields{}
	for k, v := range m {
		f[k] = Value{Raw: []byte(csvCell(t, v)), Text: true}
	}
	return f
}

// roundTrip is how the store persists and reloads a record: its canonical
// JSON, parsed again as the kind. Other defaults prove nothing relies on
// them once the record is stored.
func roundTrip(t testing.TB, r Record) Record {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("marshal %#v: %v", r, err)
	}
	back, err := ParseJSON(b, r.Kind(), ParseOptions{DefaultSource: "elsewhere", DefaultCurrency: "JPY"})
	if err != nil {
		t.Fatalf("reparse %s: %v", b, err)
	}
	if !reflect.DeepEqual(back, r) {
		t.Fatalf("round trip changed the record\n json: %s\n  got: %#v\n want: %#v", b, back, r)
	}
	return back
}

func mustEqual(t testing.TB, got, want Record) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("\n got: %#v\nwant: %#v", got, want)
	}
}

// jsonTags lists a record's JSON field names, embedded Meta included.
func jsonTags(r Record) []string {
	var out []string
	var walk func(reflect.Type)
	walk = func(ty reflect.Type) {
		for f := range ty.Fields() {
			if f.Anonymous {
				walk(f.Type)
				continue
			}
			out = append(out, strings.Split(f.Tag.Get("json"), ",")[0])
		}
	}
	walk(reflect.TypeOf(r).Elem())
	sort.Strings(out)
	return out
}

func keys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}

func fixtureOf(t testing.TB, k Kind) fixture {
	t.Helper()
	for _, f := range fixtures() {
		if f.kind == k {
			return f
		}
	}
	t.Fatalf("no fixture for %s", k)
	return fixture{}
}

// wantFieldError checks that err names field and says why.
func wantFieldError(t testing.TB, err error, field, why string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want field %s: …%s…", field, why)
	}
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *FieldError", err, err)
	}
	if fe.Field != field || !strings.Contains(fe.Reason, why) {
		t.Fatalf("error %q, want field %q with a reason containing %q", err, field, why)
	}
	if field != "" && !strings.HasPrefix(err.Error(), "field "+field+": ") {
		t.Fatalf("error %q does not start with the field name", err)
	}
}

// ---- the fixtures match SPEC §1 --------------------------------------------

func TestFixturesMatchSpec(t *testing.T) {
	fs := fixtures()
	if len(fs) != len(Kinds) {
		t.Fatalf("%d fixtures for %d kinds", len(fs), len(Kinds))
	}
	money := map[Kind]bool{KindCost: true, KindBudget: true, KindSubscription: true, KindOpportunity: true, KindQuota: true, KindSpend: true}
	for _, f := range fs {
		s, ok := spec[f.kind]
		if !ok {
			t.Fatalf("no spec entry for %s", f.kind)
		}
		all := append([]string{"id", "source"}, s.required...)
		all = append(all, s.optional...)
		sort.Strings(all)
		// The record type has exactly the fields of the spec.
		if got := jsonTags(New(f.kind)); !slices.Equal(got, all) {
			t.Errorf("%s: record fields %v, SPEC §1 fields %v", f.kind, got, all)
		}
		if slices.Contains(all, "currency") != money[f.kind] {
			t.Errorf("%s: currency field presence is wrong", f.kind)
		}
		// The minimal fixture is exactly id + required; the full one has every field.
		min := append([]string{"id"}, s.required...)
		sort.Strings(min)
		if got := keys(f.min); !slices.Equal(got, min) {
			t.Errorf("%s: minimal fixture has %v, want %v", f.kind, got, min)
		}
		if got := keys(f.full); !slices.Equal(got, all) {
			t.Errorf("%s: full fixture has %v, want %v", f.kind, got, all)
		}
		// Every field of the full expected record is set (so a field the
		// parser forgets to fill shows up as a difference).
		v := reflect.ValueOf(f.wantFull).Elem()
		for i := range v.NumField() {
			if fv := v.Field(i); fv.IsZero() && !(f.kind == KindQuota && v.Type().Field(i).Name == "Amount") && !(f.kind == KindTarget && v.Type().Field(i).Name == "Value") {
				t.Errorf("%s: full fixture leaves %s zero", f.kind, v.Type().Field(i).Name)
			}
		}
	}
}

// ---- every kind parses, from JSON and CSV, and round-trips -----------------

func TestParseEveryKind(t *testing.T) {
	for _, f := range fixtures() {
		for _, c := range []struct {
			name string
			in   map[string]any
			want Record
		}{{"min", f.min, f.wantMin}, {"full", f.full, f.wantFull}} {
			t.Run(fmt.Sprintf("%s/%s", f.kind, c.name), func(t *testing.T) {
				// NDJSON: the kind in the record.
				r, err := ParseJSON(jsonLine(t, f.kind, c.in), "", ParseOptions{})
				if err != nil {
					t.Fatalf("JSON: %v", err)
				}
				mustEqual(t, r, c.want)
				roundTrip(t, r)
				// API / --kind: the kind given by the caller, in either spelling.
				for _, k := range []Kind{f.kind, Kind(strings.ToUpper(string(f.kind)) + "S")} {
					r, err = ParseJSON(jsonLine(t, "", c.in), k, ParseOptions{})
					if err != nil {
						t.Fatalf("JSON, expected kind %s: %v", k, err)
					}
					mustEqual(t, r, c.want)
				}
				// Both: the record's kind agrees with the caller's.
				r, err = ParseJSON(jsonLine(t, f.kind, c.in), f.kind, ParseOptions{})
				if err != nil {
					t.Fatalf("JSON, kind in both: %v", err)
				}
				mustEqual(t, r, c.want)
				// CSV: one kind per file, lists ';'-separated.
				r, err = ParseFields(csvFields(t, c.in), f.kind, ParseOptions{})
				if err != nil {
					t.Fatalf("CSV: %v", err)
				}
				mustEqual(t, r, c.want)
				roundTrip(t, r)
				// CSV with a kind column.
				in := csvFields(t, c.in)
				in["kind"] = Value{Raw: []byte(f.kind), Text: true}
				r, err = ParseFields(in, "", ParseOptions{})
				if err != nil {
					t.Fatalf("CSV with a kind column: %v", err)
				}
				mustEqual(t, r, c.want)
			})
		}
	}
}

// Optional fields given as JSON null, "" or blanks, or as empty CSV cells,
// are absent: the record equals the minimal one.
func TestEmptyOptionalFieldsAreAbsent(t *testing.T) {
	for _, f := range fixtures() {
		t.Run(string(f.kind), func(t *testing.T) {
			for _, empty := range []any{nil, "", "   ", []string{}} {
				in := maps.Clone(f.min)
				for k := range f.full {
					if _, req := f.min[k]; !req {
						in[k] = empty
					}
				}
				r, err := ParseJSON(jsonLine(t, f.kind, in), "", ParseOptions{})
				if _, isList := empty.([]string); isList {
					// An empty list is only meaningful for list fields.
					if err == nil {
						t.Fatalf("[] for every optional field accepted")
					}
					continue
				}
				if err != nil {
					t.Fatalf("optional fields = %#v: %v", empty, err)
				}
				mustEqual(t, r, f.wantMin)
			}
			in := maps.Clone(f.min)
			for k := range f.full {
				if _, req := f.min[k]; !req {
					in[k] = ""
				}
			}
			for _, blank := range []string{"", " ", "\t"} {
				cells := csvFields(t, in)
				for k := range f.full {
					if _, req := f.min[k]; !req {
						cells[k] = Value{Raw: []byte(blank), Text: true}
					}
				}
				r, err := ParseFields(cells, f.kind, ParseOptions{})
				if err != nil {
					t.Fatalf("CSV blank optional cells: %v", err)
				}
				mustEqual(t, r, f.wantMin)
			}
		})
	}
}

func TestEmptyListsAreAbsent(t *testing.T) {
	for _, c := range []struct {
		kind  Kind
		field string
	}{{KindService, "paths"}, {KindDeployment, "changes"}, {KindCost, "tags"}} {
		f := fixtureOf(t, c.kind)
		for _, v := range []string{`[]`, `[""]`, `[null, "  "]`, `null`} {
			in := maps.Clone(f.min)
			in[c.field] = json.RawMessage(v)
			r, err := ParseJSON(jsonLine(t, c.kind, in), "", ParseOptions{})
			if err != nil {
				t.Fatalf("%s %s=%s: %v", c.kind, c.field, v, err)
			}
			mustEqual(t, r, f.wantMin) // nil, not an empty slice
			roundTrip(t, r)
		}
		for _, v := range []string{";", " ; ;", ""} {
			cells := csvFields(t, f.min)
			cells[c.field] = Value{Raw: []byte(v), Text: true}
			r, err := ParseFields(cells, c.kind, ParseOptions{})
			if err != nil {
				t.Fatalf("%s %s=%q: %v", c.kind, c.field, v, err)
			}
			mustEqual(t, r, f.wantMin)
		}
	}
}

// ---- required fields -------------------------------------------------------

func TestRequiredFields(t *testing.T) {
	for _, f := range fixtures() {
		for field := range f.min {
			t.Run(string(f.kind)+"/"+field, func(t *testing.T) {
				for _, v := range []any{"<absent>", nil, "", "  "} {
					in := maps.Clone(f.min)
					if v == "<absent>" {
						delete(in, field)
					} else {
						in[field] = v
					}
					_, err := ParseJSON(jsonLine(t, f.kind, in), "", ParseOptions{})
					wantFieldError(t, err, field, "required")
					cells := csvFields(t, in)
					_, err = ParseFields(cells, f.kind, ParseOptions{})
					wantFieldError(t, err, field, "required")
				}
			})
		}
	}
}

// ---- validation rules, in both formats -------------------------------------

// A val is a field's value in each format; noJSON/noCSV mark values one
// format cannot carry, del removes the field.
type val struct {
	json, csv     string
	noJSON, noCSV bool
	del           bool
}

// S is a string (quoted in JSON), N a bare number or literal, J raw JSON
// only, C a CSV cell only.
func S(s string) val {
	b, _ := json.Marshal(s)
	return val{json: string(b), csv: s}
}
func N(s string) val    { return val{json: s, csv: s} }
func J(raw string) val  { return val{json: raw, noCSV: true} }
func C(cell string) val { return val{csv: cell, noJSON: true} }
func SJ(s string) val   { v := S(s); v.noCSV = true; return v }
func del() val          { return val{del: true} }
func patch(kv ...any) set {
	s := set{}
	for i := 0; i < len(kv); i += 2 {
		s[kv[i].(string)] = kv[i+1].(val)
	}
	return s
}

type set map[string]val

// apply builds the record in the formats the patch allows.
func apply(t testing.TB, kind Kind, base map[string]any, s set) (line []byte, cells Fields) {
	t.Helper()
	jsonOK, csvOK := true, true
	for _, v := range s {
		jsonOK = jsonOK && !v.noJSON
		csvOK = csvOK && !v.noCSV
	}
	if jsonOK {
		obj := map[string]any{}
		for k, v := range base {
			obj[k] = v
		}
		for k, v := range s {
			if v.del {
				delete(obj, k)
			} else {
				obj[k] = json.RawMessage(v.json)
			}
		}
		line = jsonLine(t, kind, obj)
	}
	if csvOK {
		cells = csvFields(t, base)
		for k, v := range s {
			if v.del {
				delete(cells, k)
			} else {
				cells[k] = Value{Raw: []byte(v.csv), Text: true}
			}
		}
	}
	return line, cells
}

type ruleCase struct {
	name       string
	kind       Kind
	full       bool // start from the full fixture instead of the minimal one
	set        set
	field, why string // the error; empty field with empty why means valid
	check      func(t *testing.T, r Record)
}

func runRules(t *testing.T, cases []ruleCase) {
	for _, c := range cases {
		t.Run(string(c.kind)+"/"+c.name, func(t *testing.T) {
			f := fixtureOf(t, c.kind)
			base := f.min
			if c.full {
				base = f.full
			}
			line, cells := apply(t, c.kind, base, c.set)
			if line == nil && cells == nil {
				t.Fatal("case applies to no format")
			}
			try := func(format string, r Record, err error) {
				t.Helper()
				if c.field == "" && c.why == "" {
					if err != nil {
						t.Fatalf("%s: %v", format, err)
					}
					roundTrip(t, r)
					if c.check != nil {
						c.check(t, r)
					}
					return
				}
				if err == nil {
					b, _ := json.Marshal(r)
					t.Fatalf("%s: accepted as %s; want field %s: …%s…", format, b, c.field, c.why)
				}
				wantFieldError(t, err, c.field, c.why)
			}
			if line != nil {
				r, err := ParseJSON(line, "", ParseOptions{})
				try("JSON "+string(line), r, err)
			}
			if cells != nil {
				r, err := ParseFields(cells, c.kind, ParseOptions{})
				try("CSV", r, err)
			}
		})
	}
}

func TestTypes(t *testing.T) {
	runRules(t, []ruleCase{
		// strings
		{name: "numeric id", kind: KindService, set: patch("id", N("12345")), check: func(t *testing.T, r Record) {
			if r.Header().ID != "12345" {
				t.Fatalf("id = %q", r.Header().ID)
			}
		}},
		{name: "numeric ids everywhere", kind: KindDeployment, full: true,
			set: patch("id", J("-7"), "service", J("42"), "changes", J(`[101, "pr-102", 1e3]`), "rollback_of", J("6")),
			check: func(t *testing.T, r Record) {
				d := r.(*Deployment)
				if d.ID != "-7" || d.Service != "42" || d.RollbackOf != "6" || !slices.Equal(d.Changes, []string{"101", "pr-102", "1e3"}) {
					t.Fatalf("got %+v", d)
				}
			}},
		{name: "strings trimmed", kind: KindIncident, set: patch("id", S("  inc-1\t"), "service", S(" checkout ")), check: func(t *testing.T, r Record) {
			if r.Header().ID != "inc-1" || r.(*Incident).Service != "checkout" {
				t.Fatalf("got %+v", r)
			}
		}},
		{name: "escaped string", kind: KindService, set: patch("name", J(`"Caf\u00e9 \"Bar\" \\ \/"`)), check: func(t *testing.T, r Record) {
			if r.(*Service).Name != `Café "Bar" \ /` {
				t.Fatalf("name = %q", r.(*Service).Name)
			}
		}},
		{name: "unicode", kind: KindTicket, set: patch("text", S("日本語 — ☃ 🚀 \u2028")), check: func(t *testing.T, r Record) {
			if r.(*Ticket).Text != "日本語 — ☃ 🚀" {
				t.Fatalf("text = %q", r.(*Ticket).Text)
			}
		}},
		{name: "boolean as string", kind: KindService, set: patch("name", J("true")), field: "name", why: "must be a string, got a boolean"},
		{name: "object as string", kind: KindService, set: patch("name", J(`{"en":"x"}`)), field: "name", why: "must be a string, got an object"},
		{name: "list as string", kind: KindService, set: patch("team", J(`["a"]`)), field: "team", why: "must be a string, got a list"},
		{name: "id object", kind: KindService, set: patch("id", J(`{}`)), field: "id", why: "must be a string"},
		{name: "NUL in JSON", kind: KindService, set: patch("name", J(`"a\u0000b"`)), field: "name", why: "NUL"},
		{name: "NUL in CSV", kind: KindService, set: patch("name", C("a\x00b")), field: "name", why: "NUL"},
		{name: "bad UTF-8 in CSV", kind: KindService, set: patch("name", C("Caf\xe9")), field: "name", why: "not valid UTF-8"},
		{name: "bad UTF-8 in a CSV list", kind: KindService, set: patch("paths", C("a;b\xff")), field: "paths", why: "not valid UTF-8"},

		// numbers
		{name: "tier as string", kind: KindService, set: patch("tier", SJ("2")), field: "tier", why: "must be a number, got a string"},
		{name: "good as string", kind: KindSLI, set: patch("good", SJ("999")), field: "good", why: "must be a number, got a string"},
		{name: "score as boolean", kind: KindSurvey, set: patch("score", J("true")), field: "score", why: "must be a number, got a boolean"},
		{name: "value as list", kind: KindTarget, set: patch("value", J("[1]")), field: "value", why: "must be a number, got a list"},
		{name: "risk as object", kind: KindDeployment, set: patch("risk_score", J(`{"v":1}`)), field: "risk_score", why: "must be a number, got an object"},
		{name: "amount as string", kind: KindCost, set: patch("amount", SJ("12.5")), field: "amount", why: "must be a number, got a string"},
		{name: "mrr as string", kind: KindSubscription, set: patch("mrr", SJ("1")), field: "mrr", why: "must be a number"},
		{name: "CSV word", kind: KindService, set: patch("tier", C("two")), field: "tier", why: `"two" is not a number`},
		{name: "CSV hex", kind: KindService, set: patch("tier", C("0x2")), field: "tier", why: "not a number"},
		{name: "CSV NaN", kind: KindSLI, set: patch("good", C("NaN")), field: "good", why: "not a number"},
		{name: "CSV Inf", kind: KindSLI, set: patch("total", C("Inf")), field: "total", why: "not a number"},
		{name: "CSV infinity", kind: KindSLI, set: patch("total", C("-infinity")), field: "total", why: "not a number"},
		{name: "CSV underscore", kind: KindUsage, set: patch("requests", C("1_000")), field: "requests", why: "not a number"},
		{name: "CSV overflow", kind: KindTarget, set: patch("value", C("1e999")), field: "value", why: "not a number"},
		{name: "CSV thousands separator", kind: KindCost, set: patch("amount", C("1,234.50")), field: "amount", why: "not a decimal number"},
		{name: "CSV currency symbol", kind: KindCost, set: patch("amount", C("$12")), field: "amount", why: "not a decimal number"},
		{name: "CSV fraction", kind: KindCost, set: patch("amount", C("1/2")), field: "amount", why: "not a decimal number"},
		{name: "number exponent", kind: KindUsage, set: patch("requests", N("2.5E+3")), check: func(t *testing.T, r Record) {
			if *r.(*Usage).Requests != 2500 {
				t.Fatalf("requests = %v", *r.(*Usage).Requests)
			}
		}},
		{name: "CSV number padded", kind: KindService, set: patch("tier", C(" 2 ")), check: func(t *testing.T, r Record) {
			if r.(*Service).Tier != 2 {
				t.Fatalf("tier = %v", r.(*Service).Tier)
			}
		}},

		// timestamps
		{name: "unix seconds", kind: KindDeployment, set: patch("finished_at", N("1772359200")), field: "finished_at", why: "RFC 3339"},
		{name: "timestamp as boolean", kind: KindChange, set: patch("merged_at", J("true")), field: "merged_at", why: `must be an RFC 3339 timestamp string (e.g. "2026-03-01T12:00:00Z"), got a boolean true`},
		{name: "space separator", kind: KindDeployment, set: patch("finished_at", S("2026-03-01 12:00:00")), field: "finished_at", why: `"2026-03-01 12:00:00" is not an RFC 3339 timestamp`},
		{name: "date only", kind: KindIncident, set: patch("opened_at", S("2026-03-01")), field: "opened_at", why: "not an RFC 3339 timestamp"},
		{name: "no zone", kind: KindTicket, set: patch("created_at", S("2026-03-01T12:00:00")), field: "created_at", why: "not an RFC 3339 timestamp"},
		{name: "US date", kind: KindLead, set: patch("created_at", S("03/01/2026")), field: "created_at", why: "not an RFC 3339 timestamp"},
		{name: "month 13", kind: KindSurvey, set: patch("at", S("2026-13-01T00:00:00Z")), field: "at", why: "not an RFC 3339 timestamp"},
		{name: "one-digit hour", kind: KindTicket, set: patch("created_at", S("2026-03-01T1:00:00Z")), field: "created_at", why: "not an RFC 3339 timestamp"},
		{name: "comma fraction", kind: KindTicket, set: patch("created_at", S("2026-03-01T10:00:00,5Z")), field: "created_at", why: "not an RFC 3339 timestamp"},
		{name: "empty fraction", kind: KindTicket, set: patch("created_at", S("2026-03-01T10:00:00.Z")), field: "created_at", why: "not an RFC 3339 timestamp"},
		{name: "offset without colon", kind: KindTicket, set: patch("created_at", S("2026-03-01T10:00:00+0100")), field: "created_at", why: "not an RFC 3339 timestamp"},
		{name: "offset 24h", kind: KindTicket, set: patch("created_at", S("2026-03-01T10:00:00+24:00")), field: "created_at", why: "not an RFC 3339 timestamp"},
		{name: "offset 60 minutes", kind: KindTicket, set: patch("created_at", S("2026-03-01T10:00:00+01:60")), field: "created_at", why: "not an RFC 3339 timestamp"},
		{name: "hour 24", kind: KindTicket, set: patch("created_at", S("2026-03-01T24:00:00Z")), field: "created_at", why: "not an RFC 3339 timestamp"},
		{name: "leap second", kind: KindTicket, set: patch("created_at", S("2026-06-30T23:59:60Z")), field: "created_at", why: "not an RFC 3339 timestamp"},
		{name: "29 February 2026", kind: KindTicket, set: patch("created_at", S("2026-02-29T10:00:00Z")), field: "created_at", why: "not an RFC 3339 timestamp"},
		{name: "trailing text", kind: KindTicket, set: patch("created_at", S("2026-03-01T10:00:00Z extra")), field: "created_at", why: "not an RFC 3339 timestamp"},
		{name: "lower-case t and z", kind: KindTicket, set: patch("created_at", S("2026-03-01t10:00:00.5z")), check: func(t *testing.T, r Record) {
			if r.(*Ticket).CreatedAt != ts("2026-03-01T10:00:00.5Z") {
				t.Fatal(r.(*Ticket).CreatedAt)
			}
		}},
		{name: "offset 23:59", kind: KindTicket, set: patch("created_at", S("2026-03-01T10:00:00-23:59")), check: func(t *testing.T, r Record) {
			if r.(*Ticket).CreatedAt != ts("2026-03-02T09:59:00Z") {
				t.Fatal(r.(*Ticket).CreatedAt)
			}
		}},
		{name: "optional bad", kind: KindTicket, set: patch("sla_due_at", S("soon")), field: "sla_due_at", why: `"soon" is not an RFC 3339 timestamp`},
		{name: "zero time required", kind: KindControl, set: patch("checked_at", S("0001-01-01T00:00:00Z")), field: "checked_at", why: "required (0001-01-01T00:00:00Z is the zero time"},
		{name: "zero time optional is absent", kind: KindDeployment, set: patch("started_at", S("0001-01-01T00:00:00Z")), check: func(t *testing.T, r Record) {
			if !r.(*Deployment).StartedAt.IsZero() {
				t.Fatal("started_at set")
			}
		}},
		{name: "before year 1 in UTC", kind: KindChange, set: patch("merged_at", S("0001-01-01T00:30:00+01:00")), field: "merged_at", why: "outside the years 0001–9999"},
		{name: "after year 9999 in UTC", kind: KindChange, set: patch("merged_at", S("9999-12-31T23:30:00-01:00")), field: "merged_at", why: "outside the years 0001–9999"},
		{name: "offset converted to UTC", kind: KindChange, set: patch("merged_at", S("2026-03-01T23:30:00-05:00")), check: func(t *testing.T, r Record) {
			m := r.(*Change).MergedAt
			if m != ts("2026-03-02T04:30:00Z") || m.Location() != time.UTC {
				t.Fatalf("merged_at = %v", m)
			}
		}},
		{name: "nanoseconds kept", kind: KindChange, set: patch("merged_at", S("2026-03-01T10:00:00.000000001+00:00")), check: func(t *testing.T, r Record) {
			if r.(*Change).MergedAt.Nanosecond() != 1 {
				t.Fatalf("merged_at = %v", r.(*Change).MergedAt)
			}
		}},

		// booleans
		{name: "boolean as string", kind: KindControl, set: patch("passed", SJ("true")), field: "passed", why: `must be a boolean true or false, got a string "true"`},
		{name: "boolean as number", kind: KindControl, set: patch("passed", J("1")), field: "passed", why: "must be a boolean true or false, got a number"},
		{name: "CSV boolean word", kind: KindControl, set: patch("passed", C("maybe")), field: "passed", why: `"maybe" is not a boolean`},
		{name: "optional boolean bad", kind: KindVulnerability, set: patch("kev", J(`"no"`)), field: "kev", why: "must be a boolean"},
		{name: "CSV boolean spellings", kind: KindService, set: patch("customer_facing", C("Yes")), check: func(t *testing.T, r Record) {
			if !r.(*Service).CustomerFacing {
				t.Fatal("Yes is not true")
			}
		}},
		{name: "CSV boolean false", kind: KindControl, set: patch("passed", C("FALSE")), check: func(t *testing.T, r Record) {
			if r.(*Control).Passed {
				t.Fatal("FALSE is true")
			}
		}},
		{name: "CSV boolean 1", kind: KindTicket, set: patch("escalated", C("1")), check: func(t *testing.T, r Record) {
			if !r.(*Ticket).Escalated {
				t.Fatal("1 is not true")
			}
		}},

		// lists
		{name: "list as string", kind: KindService, set: patch("paths", SJ("a;b")), field: "paths", why: "must be a list of strings, got a string"},
		{name: "list of objects", kind: KindService, set: patch("paths", J(`["a", {"x":1}]`)), field: "paths[1]", why: "must be a string, got an object"},
		{name: "changes as object", kind: KindDeployment, set: patch("changes", J(`{"a":"b"}`)), field: "changes", why: "must be a list of strings, got an object"},
		{name: "CSV list trimmed", kind: KindDeployment, set: patch("changes", C(" pr-1 ;pr-2;; ")), check: func(t *testing.T, r Record) {
			if got := r.(*Deployment).Changes; !slices.Equal(got, []string{"pr-1", "pr-2"}) {
				t.Fatalf("changes = %q", got)
			}
		}},
		{name: "JSON list trimmed", kind: KindService, set: patch("paths", J(`[" a ", "", null, "b"]`)), check: func(t *testing.T, r Record) {
			if got := r.(*Service).Paths; !slices.Equal(got, []string{"a", "b"}) {
				t.Fatalf("paths = %q", got)
			}
		}},
		{name: "tags as list", kind: KindCost, set: patch("tags", J(`["env=prod", "team=pay"]`)), check: func(t *testing.T, r Record) {
			if got := r.(*Cost).Tags; !slices.Equal(got, []string{"env=prod", "team=pay"}) {
				t.Fatalf("tags = %q", got)
			}
		}},
		{name: "tags as CSV", kind: KindCost, set: patch("tags", C("env=prod; team=pay")), check: func(t *testing.T, r Record) {
			if got := r.(*Cost).Tags; !slices.Equal(got, []string{"env=prod", "team=pay"}) {
				t.Fatalf("tags = %q", got)
			}
		}},
		{name: "tags as object", kind: KindCost, set: patch("tags", J(`{"team":"pay","env":" prod ","cost_center":1e3,"spot":true,"empty":null,"blank":""}`)), check: func(t *testing.T, r Record) {
			want := []string{"blank=", "cost_center=1e3", "empty=", "env=prod", "spot=true", "team=pay"}
			if got := r.(*Cost).Tags; !slices.Equal(got, want) {
				t.Fatalf("tags = %q, want %q", got, want)
			}
		}},
		{name: "tags empty object", kind: KindCost, set: patch("tags", J(`{}`)), check: func(t *testing.T, r Record) {
			if r.(*Cost).Tags != nil {
				t.Fatalf("tags = %#v, want nil", r.(*Cost).Tags)
			}
		}},
		{name: "tags nested object", kind: KindCost, set: patch("tags", J(`{"a":{"b":1}}`)), field: "tags.a", why: "must be a string, got an object"},
		{name: "tags empty key", kind: KindCost, set: patch("tags", J(`{" ":"x"}`)), field: "tags", why: "empty key"},
		{name: "tags number", kind: KindCost, set: patch("tags", J(`5`)), field: "tags", why: "must be a list of strings or an object of key → value, got a number"},
	})
}

func TestRules(t *testing.T) {
	runRules(t, []ruleCase{
		// enums
		{name: "status", kind: KindDeployment, set: patch("status", S("ok")), field: "status", why: `"ok" is not one of success, failure, rolled_back`},
		{name: "env_type", kind: KindDeployment, set: patch("env_type", S("prod")), field: "env_type", why: `"prod" is not one of production, staging, test, dev`},
		{name: "reason", kind: KindDeployment, set: patch("reason", S("urgent")), field: "reason", why: "is not one of planned, hotfix, rollback"},
		{name: "severity P5", kind: KindIncident, set: patch("severity", S("P5")), field: "severity", why: "is not one of P0, P1, P2, P3, P4"},
		{name: "severity sev1", kind: KindIncident, set: patch("severity", S("sev1")), field: "severity", why: "is not one of P0"},
		{name: "origin", kind: KindIncident, set: patch("origin", S("pager")), field: "origin", why: "is not one of monitoring, customer, internal"},
		{name: "objective", kind: KindSLI, set: patch("objective", S("throughput")), field: "objective", why: "is not one of availability, latency"},
		{name: "survey type", kind: KindSurvey, set: patch("type", S("ces")), field: "type", why: "is not one of csat, nps"},
		{name: "vulnerability severity", kind: KindVulnerability, set: patch("severity", S("urgent")), field: "severity", why: "is not one of critical, high, medium, low"},
		{name: "spend category", kind: KindSpend, set: patch("category", S("engineering")), field: "category", why: "is not one of sales, marketing"},
		{name: "enum as number", kind: KindDeployment, set: patch("status", N("1")), field: "status", why: `"1" is not one of`},
		{name: "enum case folded", kind: KindDeployment, full: true,
			set: patch("status", S("SUCCESS"), "env_type", S("Staging"), "reason", S("HotFix")),
			check: func(t *testing.T, r Record) {
				d := r.(*Deployment)
				if d.Status != StatusSuccess || d.EnvType != EnvStaging || d.Reason != ReasonHotfix {
					t.Fatalf("got %q %q %q", d.Status, d.EnvType, d.Reason)
				}
			}},
		{name: "severity case folded", kind: KindIncident, set: patch("severity", S("p2"), "origin", S("Customer")), check: func(t *testing.T, r Record) {
			if i := r.(*Incident); i.Severity != "P2" || i.Origin != "customer" {
				t.Fatalf("got %q %q", i.Severity, i.Origin)
			}
		}},
		{name: "vulnerability CRITICAL", kind: KindVulnerability, set: patch("severity", S("CRITICAL")), check: func(t *testing.T, r Record) {
			if r.(*Vulnerability).Severity != "critical" {
				t.Fatalf("got %q", r.(*Vulnerability).Severity)
			}
		}},
		{name: "every status", kind: KindDeployment, set: patch("status", S("failure")), check: func(t *testing.T, r Record) {
			if r.(*Deployment).Status != StatusFailure {
				t.Fatal(r.(*Deployment).Status)
			}
		}},
		{name: "every env type", kind: KindDeployment, set: patch("env_type", S("dev")), check: func(t *testing.T, r Record) {
			if r.(*Deployment).EnvType != EnvDev {
				t.Fatal(r.(*Deployment).EnvType)
			}
		}},
		{name: "env test", kind: KindDeployment, set: patch("env_type", S("test"), "reason", S("planned")), check: func(t *testing.T, r Record) {
			if d := r.(*Deployment); d.EnvType != EnvTest || d.Reason != ReasonPlanned {
				t.Fatal(d)
			}
		}},
		{name: "objective availability", kind: KindSLI, set: patch("objective", S("availability")), check: func(t *testing.T, r Record) {
			if r.(*SLI).Objective != "availability" {
				t.Fatal(r.(*SLI).Objective)
			}
		}},
		{name: "origin internal", kind: KindIncident, set: patch("origin", S("internal"), "severity", S("P4")), check: func(t *testing.T, r Record) {
			if i := r.(*Incident); i.Origin != "internal" || i.Severity != "P4" {
				t.Fatal(i)
			}
		}},

		// ranges
		{name: "tier 0", kind: KindService, set: patch("tier", N("0")), field: "tier", why: "0 is not a tier 1, 2 or 3"},
		{name: "tier 4", kind: KindService, set: patch("tier", N("4")), field: "tier", why: "not a tier 1, 2 or 3"},
		{name: "tier 1.5", kind: KindService, set: patch("tier", N("1.5")), field: "tier", why: "not a tier 1, 2 or 3"},
		{name: "tier -1", kind: KindService, set: patch("tier", N("-1")), field: "tier", why: "not a tier"},
		{name: "tier 3", kind: KindService, set: patch("tier", N("3")), check: func(t *testing.T, r Record) {
			if r.(*Service).Tier != 3 {
				t.Fatal(r.(*Service).Tier)
			}
		}},
		{name: "tier 2.0", kind: KindService, set: patch("tier", N("2.0")), check: func(t *testing.T, r Record) {
			if r.(*Service).Tier != 2 {
				t.Fatal(r.(*Service).Tier)
			}
		}},
		{name: "slo 1", kind: KindService, set: patch("slo_target", N("1")), field: "slo_target", why: "between 0 and 1 exclusive"},
		{name: "slo 0", kind: KindService, set: patch("slo_target", N("0")), field: "slo_target", why: "between 0 and 1 exclusive"},
		{name: "slo percent", kind: KindService, set: patch("slo_target", N("99.9")), field: "slo_target", why: "(e.g. 0.999)"},
		{name: "slo negative", kind: KindService, set: patch("slo_target", N("-0.5")), field: "slo_target", why: "between 0 and 1"},
		{name: "slo 0.5", kind: KindService, set: patch("slo_target", N("0.5")), check: func(t *testing.T, r Record) {
			if r.(*Service).SLOTarget != 0.5 {
				t.Fatal(r.(*Service).SLOTarget)
			}
		}},
		{name: "risk -1", kind: KindDeployment, set: patch("risk_score", N("-1")), field: "risk_score", why: "-1 is out of range [0, 100]"},
		{name: "risk 100.5", kind: KindDeployment, set: patch("risk_score", N("100.5")), field: "risk_score", why: "out of range [0, 100]"},
		{name: "risk edges", kind: KindDeployment, set: patch("risk_score", N("0"), "coverage", N("1")), check: func(t *testing.T, r Record) {
			d := r.(*Deployment)
			if d.RiskScore == nil || *d.RiskScore != 0 || d.Coverage == nil || *d.Coverage != 1 {
				t.Fatalf("got %v %v", d.RiskScore, d.Coverage)
			}
		}},
		{name: "risk 100 coverage 0", kind: KindDeployment, set: patch("risk_score", N("100"), "coverage", N("0")), check: func(t *testing.T, r Record) {
			d := r.(*Deployment)
			if d.RiskScore == nil || *d.RiskScore != 100 || d.Coverage == nil || *d.Coverage != 0 {
				t.Fatalf("got %v %v", d.RiskScore, d.Coverage)
			}
		}},
		{name: "coverage percent", kind: KindDeployment, set: patch("coverage", N("85")), field: "coverage", why: "85 is out of range [0, 1] (a fraction: 0.85 for 85%)"},
		{name: "coverage negative", kind: KindDeployment, set: patch("coverage", N("-0.1")), field: "coverage", why: "out of range [0, 1]"},
		{name: "csat 0", kind: KindSurvey, set: patch("score", N("0")), field: "score", why: "0 is out of range [1, 5]"},
		{name: "csat 6", kind: KindSurvey, set: patch("score", N("6")), field: "score", why: "out of range [1, 5]"},
		{name: "csat 1", kind: KindSurvey, set: patch("score", N("1")), check: func(t *testing.T, r Record) {
			if r.(*Survey).Score != 1 {
				t.Fatal(r.(*Survey).Score)
			}
		}},
		{name: "csat 5", kind: KindSurvey, set: patch("score", N("5")), check: func(t *testing.T, r Record) {
			if r.(*Survey).Score != 5 {
				t.Fatal(r.(*Survey).Score)
			}
		}},
		{name: "nps -1", kind: KindSurvey, set: patch("type", S("nps"), "score", N("-1")), field: "score", why: "-1 is out of range [0, 10]"},
		{name: "nps 11", kind: KindSurvey, set: patch("type", S("nps"), "score", N("11")), field: "score", why: "out of range [0, 10]"},
		{name: "nps 0", kind: KindSurvey, set: patch("type", S("NPS"), "score", N("0")), check: func(t *testing.T, r Record) {
			if s := r.(*Survey); s.Type != "nps" || s.Score != 0 {
				t.Fatal(s)
			}
		}},
		{name: "nps 10", kind: KindSurvey, set: patch("type", S("nps"), "score", N("10")), check: func(t *testing.T, r Record) {
			if r.(*Survey).Score != 10 {
				t.Fatal(r.(*Survey).Score)
			}
		}},
		{name: "good > total", kind: KindSLI, set: patch("good", N("1001")), field: "good", why: "1001 is greater than total 1000"},
		{name: "good negative", kind: KindSLI, set: patch("good", N("-1")), field: "good", why: "must not be negative"},
		{name: "total negative", kind: KindSLI, set: patch("good", N("-2"), "total", N("-1")), field: "good", why: "must not be negative"},
		{name: "good = total", kind: KindSLI, set: patch("good", N("1000")), check: func(t *testing.T, r Record) {
			if s := r.(*SLI); s.Good != s.Total {
				t.Fatal(s)
			}
		}},
		{name: "no traffic", kind: KindSLI, set: patch("good", N("0"), "total", N("0"))},
		{name: "requests negative", kind: KindUsage, set: patch("requests", N("-1")), field: "requests", why: "-1 must not be negative"},
		{name: "customers negative", kind: KindUsage, set: patch("active_customers", N("-3")), field: "active_customers", why: "-3 must not be negative"},
		{name: "mrr negative", kind: KindSubscription, set: patch("mrr", N("-0.01")), field: "mrr", why: "-0.01 must not be negative"},
		{name: "mrr zero", kind: KindSubscription, set: patch("mrr", N("0"))},
		{name: "opportunity amount negative", kind: KindOpportunity, set: patch("amount", N("-1")), field: "amount", why: "must not be negative"},
		{name: "quota negative", kind: KindQuota, set: patch("amount", N("-5")), field: "amount", why: "-5 must not be negative"},
		{name: "cost credit", kind: KindCost, set: patch("amount", N("-100")), check: func(t *testing.T, r Record) {
			if r.(*Cost).Amount != -100*MoneyScale {
				t.Fatal(r.(*Cost).Amount)
			}
		}},
		{name: "target negative", kind: KindTarget, set: patch("value", N("-1"))},
		{name: "budget negative", kind: KindBudget, set: patch("amount", N("-100")), field: "amount", why: "-100 must not be negative"},
		{name: "budget zero", kind: KindBudget, set: patch("amount", N("0"))},

		// money
		{name: "seven decimals", kind: KindCost, set: patch("amount", N("0.0000001")), field: "amount", why: `"0.0000001" has more than 6 decimal places`},
		{name: "seven decimals exponent", kind: KindBudget, set: patch("amount", N("1e-7")), field: "amount", why: "more than 6 decimal places"},
		{name: "1e3", kind: KindQuota, set: patch("amount", N("1e3")), check: func(t *testing.T, r Record) {
			if r.(*Quota).Amount != 1000*MoneyScale {
				t.Fatal(r.(*Quota).Amount)
			}
		}},
		{name: "six decimals exact", kind: KindSubscription, set: patch("mrr", N("1234567.123456")), check: func(t *testing.T, r Record) {
			if r.(*Subscription).MRR != 1_234_567_123_456 {
				t.Fatal(r.(*Subscription).MRR)
			}
		}},
		{name: "too large", kind: KindSpend, set: patch("amount", N("1e20")), field: "amount", why: "too large"},
		{name: "largest", kind: KindCost, set: patch("amount", N("9223372036854.775807")), check: func(t *testing.T, r Record) {
			if r.(*Cost).Amount.String() != "9223372036854.775807" {
				t.Fatal(r.(*Cost).Amount)
			}
		}},
		{name: "most negative", kind: KindCost, set: patch("amount", N("-9223372036854.775807"))},

		// currency
		{name: "currency symbol", kind: KindCost, set: patch("currency", S("US$")), field: "currency", why: `"US$" is not an ISO 4217 currency code`},
		{name: "currency unknown", kind: KindBudget, set: patch("currency", S("XYZ")), field: "currency", why: "not an ISO 4217"},
		{name: "currency short", kind: KindSubscription, set: patch("currency", S("US")), field: "currency", why: "not an ISO 4217"},
		{name: "currency long", kind: KindOpportunity, set: patch("currency", S("USDD")), field: "currency", why: "not an ISO 4217"},
		{name: "currency digits", kind: KindQuota, set: patch("currency", N("840")), field: "currency", why: "not an ISO 4217"},
		{name: "currency name", kind: KindSpend, set: patch("currency", S("Euro")), field: "currency", why: "not an ISO 4217"},
		{name: "currency lower case", kind: KindSubscription, set: patch("currency", S("usd")), check: func(t *testing.T, r Record) {
			if r.(*Subscription).Currency != "USD" {
				t.Fatal(r.(*Subscription).Currency)
			}
		}},
		{name: "currency padded", kind: KindCost, set: patch("currency", S(" eur ")), check: func(t *testing.T, r Record) {
			if r.(*Cost).Currency != "EUR" {
				t.Fatal(r.(*Cost).Currency)
			}
		}},

		// orderings
		{name: "period end = start", kind: KindSLI, set: patch("period_end", S("2026-03-01T00:00:00Z")), field: "period_end", why: "must be after period_start"},
		{name: "period end before start", kind: KindCost, set: patch("period_end", S("2026-01-01T00:00:00Z")), field: "period_end", why: "must be after period_start"},
		{name: "period end before start (offset)", kind: KindUsage, set: patch("period_end", S("2026-02-01T01:00:00+02:00")), field: "period_end", why: "must be after period_start"},
		{name: "budget period", kind: KindBudget, set: patch("period_start", S("2026-05-01T00:00:00Z")), field: "period_end", why: "must be after period_start"},
		{name: "quota period", kind: KindQuota, set: patch("period_end", S("2025-12-31T00:00:00Z")), field: "period_end", why: "must be after period_start"},
		{name: "spend period", kind: KindSpend, set: patch("period_end", S("2026-02-01T00:00:00Z")), field: "period_end", why: "must be after period_start"},
		{name: "target period", kind: KindTarget, set: patch("period_end", S("2026-01-01T00:00:00Z")), field: "period_end", why: "must be after period_start"},
		{name: "started after finished", kind: KindDeployment, set: patch("started_at", S("2026-03-01T10:00:01Z")), field: "finished_at", why: "2026-03-01T10:00:00Z is before started_at 2026-03-01T10:00:01Z"},
		{name: "started = finished", kind: KindDeployment, set: patch("started_at", S("2026-03-01T10:00:00Z"))},
		// SPEC §1: a first review before the pull request was opened is
		// impossible; one after the merge is not (a review comment can
		// follow a merge), so it is kept and the metrics drop its span.
		{name: "first review before opened", kind: KindChange, full: true, set: patch("first_review_at", S("2026-02-28T08:59:59Z")), field: "first_review_at", why: "2026-02-28T08:59:59Z is before opened_at 2026-02-28T09:00:00Z"},
		{name: "first review = opened", kind: KindChange, full: true, set: patch("first_review_at", S("2026-02-28T09:00:00Z"))},
		{name: "first review after merge", kind: KindChange, full: true, set: patch("first_review_at", S("2026-03-02T00:00:00Z")), check: func(t *testing.T, r Record) {
			if got := r.(*Change).FirstReviewAt; !got.Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) {
				t.Fatalf("first_review_at = %v", got)
			}
		}},
		{name: "first review without opened", kind: KindChange, set: patch("first_review_at", S("2026-02-01T00:00:00Z"))},
		{name: "resolved before opened", kind: KindIncident, set: patch("resolved_at", S("2026-03-01T10:29:59Z")), field: "resolved_at", why: "is before opened_at"},
		{name: "resolved = opened", kind: KindIncident, set: patch("resolved_at", S("2026-03-01T10:30:00Z"))},
		{name: "fixed before opened", kind: KindVulnerability, set: patch("fixed_at", S("2026-02-28T00:00:00Z")), field: "fixed_at", why: "is before opened_at"},
		{name: "fixed = opened", kind: KindVulnerability, set: patch("fixed_at", S("2026-03-01T00:00:00Z"))},
		{name: "ended before started", kind: KindSubscription, set: patch("ended_at", S("2025-01-14T00:00:00Z")), field: "ended_at", why: "is before started_at"},
		{name: "ticket resolved before created", kind: KindTicket, set: patch("resolved_at", S("2026-03-01T10:00:00Z")), field: "resolved_at", why: "is before created_at"},

		// cross-field rules
		{name: "won without closed_at", kind: KindOpportunity, set: patch("won", J("true")), field: "won", why: "true requires closed_at"},
		{name: "won without closed_at (CSV)", kind: KindOpportunity, set: patch("won", C("yes")), field: "won", why: "true requires closed_at"},
		{name: "won with closed_at", kind: KindOpportunity, set: patch("won", J("true"), "closed_at", S("2026-02-01T00:00:00Z"))},
		{name: "lost", kind: KindOpportunity, set: patch("won", J("false"), "closed_at", S("2026-02-01T00:00:00Z")), check: func(t *testing.T, r Record) {
			if o := r.(*Opportunity); o.Won || o.ClosedAt.IsZero() {
				t.Fatal(o)
			}
		}},
		{name: "close_date bad", kind: KindOpportunity, set: patch("close_date", S("2026-02-30")), field: "close_date", why: "not a date YYYY-MM-DD"},
		{name: "close_date timestamp", kind: KindOpportunity, set: patch("close_date", S("2026-02-28T00:00:00Z")), field: "close_date", why: "YYYY-MM-DD"},
		{name: "rollback of itself", kind: KindDeployment, set: patch("rollback_of", S("dep-1")), field: "rollback_of", why: "cannot roll itself back"},
		{name: "rollback of itself (numeric)", kind: KindDeployment, set: patch("id", N("7"), "rollback_of", N("7")), field: "rollback_of", why: "cannot roll itself back"},

		// defaults
		{name: "source explicit", kind: KindChange, set: patch("source", S("gitlab")), check: func(t *testing.T, r Record) {
			if r.Header().Source != "gitlab" {
				t.Fatal(r.Header().Source)
			}
		}},
		{name: "source null", kind: KindChange, set: patch("source", J("null")), check: func(t *testing.T, r Record) {
			if r.Header().Source != "import" {
				t.Fatal(r.Header().Source)
			}
		}},
		{name: "currency null", kind: KindCost, set: patch("currency", J("null")), check: func(t *testing.T, r Record) {
			if r.(*Cost).Currency != "USD" {
				t.Fatal(r.(*Cost).Currency)
			}
		}},
	})
}

func TestCSVBooleans(t *testing.T) {
	f := fixtureOf(t, KindControl)
	for cell, want := range map[string]bool{
		"true": true, "TRUE": true, "True": true, "1": true, "yes": true, "Y": true, "y": true, "t": true, "T": true,
		"false": false, "FALSE": false, "0": false, "no": false, "No": false, "n": false, "N": false, "f": false, " false ": false,
	} {
		cells := csvFields(t, f.min)
		cells["passed"] = Value{Raw: []byte(cell), Text: true}
		r, err := ParseFields(cells, KindControl, ParseOptions{})
		if err != nil || r.(*Control).Passed != want {
			t.Errorf("passed=%q: %v, %v; want %v", cell, r, err, want)
		}
	}
	for _, cell := range []string{"2", "-1", "on", "off", "yes!", "ja", "x"} {
		cells := csvFields(t, f.min)
		cells["passed"] = Value{Raw: []byte(cell), Text: true}
		_, err := ParseFields(cells, KindControl, ParseOptions{})
		wantFieldError(t, err, "passed", "is not a boolean (true or false)")
	}
}

func TestDefaults(t *testing.T) {
	f := fixtureOf(t, KindOpportunity)
	for _, c := range []struct {
		opt                 ParseOptions
		wantSource, wantCur string
	}{
		{ParseOptions{}, "import", "USD"},
		{ParseOptions{DefaultSource: "crm", DefaultCurrency: "EUR"}, "crm", "EUR"},
		{ParseOptions{DefaultCurrency: "gbp"}, "import", "GBP"},
		// The currency in force at the record's time takes the file's
		// place; none said, the file's.
		{ParseOptions{DefaultCurrency: "USD", Currency: func(time.Time) string { return "eur" }}, "import", "EUR"},
		{ParseOptions{DefaultCurrency: "GBP", Currency: func(time.Time) string { return "" }}, "import", "GBP"},
	} {
		r, err := ParseJSON(jsonLine(t, KindOpportunity, f.min), "", c.opt)
		if err != nil {
			t.Fatal(err)
		}
		o := r.(*Opportunity)
		if o.Source != c.wantSource || o.Currency != c.wantCur {
			t.Errorf("%+v: source %q currency %q, want %q %q", c.opt, o.Source, o.Currency, c.wantSource, c.wantCur)
		}
		r, err = ParseFields(csvFields(t, f.min), KindOpportunity, c.opt)
		if err != nil {
			t.Fatal(err)
		}
		if o := r.(*Opportunity); o.Source != c.wantSource || o.Currency != c.wantCur {
			t.Errorf("CSV %+v: source %q currency %q", c.opt, o.Source, o.Currency)
		}
	}
	// A record without a currency takes the one in force at its own time
	// (a subscription's start), not at its parsing: the same file parsed
	// after a change of the currency gives the same records.
	cut := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	inForce := ParseOptions{DefaultCurrency: "USD", Currency: func(at time.Time) string {
		if at.Before(cut) {
			return "USD"
		}
		return "EUR"
	}}
	for started, want := range map[string]string{"2026-11-30T23:59:59Z": "USD", "2026-12-01T00:00:00Z": "EUR"} {
		r, err := ParseJSON([]byte(`{"kind":"subscription","id":"s","customer":"c","mrr":10,"started_at":"`+started+`"}`), "", inForce)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.(*Subscription).Currency; got != want {
			t.Errorf("a subscription started at %s: currency %s, want %s", started, got, want)
		}
	}
	// A default currency that is not ISO 4217 is refused on the records
	// that would take it (the stored record could not be reloaded), not
	// on those that name their own.
	for _, bad := range []string{"US$", "XYZ", "dollars"} {
		_, err := ParseJSON(jsonLine(t, KindOpportunity, f.min), "", ParseOptions{DefaultCurrency: bad})
		wantFieldError(t, err, "currency", "is not an ISO 4217 code")
		if _, err := ParseJSON(jsonLine(t, KindOpportunity, f.full), "", ParseOptions{DefaultCurrency: bad}); err != nil {
			t.Errorf("explicit currency with default %q: %v", bad, err)
		}
		if _, err := ParseJSON(jsonLine(t, KindLead, fixtureOf(t, KindLead).min), "", ParseOptions{DefaultCurrency: bad}); err != nil {
			t.Errorf("kind without money, default %q: %v", bad, err)
		}
	}
	// Explicit values win over the options.
	r, err := ParseJSON(jsonLine(t, KindOpportunity, f.full), "", ParseOptions{DefaultSource: "crm", DefaultCurrency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	if o := r.(*Opportunity); o.Source != "salesforce" || o.Currency != "CHF" {
		t.Errorf("explicit: source %q currency %q", o.Source, o.Currency)
	}
	// Defaults the spec gives for reason, objective and env_type are applied
	// when the record is used (Production, metrics), not stored.
	r, _ = ParseJSON(jsonLine(t, KindDeployment, fixtureOf(t, KindDeployment).min), "", ParseOptions{})
	if d := r.(*Deployment); d.Reason != "" || d.EnvType != "" {
		t.Errorf("stored defaults: reason %q env_type %q", d.Reason, d.EnvType)
	}
}

// ---- kind, unknown fields, malformed input --------------------------------

func TestKindHandling(t *testing.T) {
	svc := fixtureOf(t, KindService).min
	cases := []struct {
		name       string
		line       string
		expect     Kind
		field, why string
	}{
		{"missing", `{"id":"a","name":"b"}`, "", "kind", "required (one of service, deployment,"},
		{"null", `{"kind":null,"id":"a","name":"b"}`, "", "kind", "required"},
		{"empty", `{"kind":"","id":"a","name":"b"}`, "", "kind", "required"},
		{"unknown", `{"kind":"deploy","id":"a"}`, "", "kind", `unknown kind "deploy" (known: service, deployment,`},
		{"unknown number", `{"kind":7,"id":"a"}`, "", "kind", `unknown kind "7"`},
		{"not a string", `{"kind":["service"],"id":"a"}`, "", "kind", "must be a string, got a list"},
		{"mismatch", `{"kind":"incident","id":"a","name":"b"}`, KindService, "kind", `is "incident" but "service" was expected`},
		{"unknown expected", `{"id":"a","name":"b"}`, "bogus", "kind", `unknown kind "bogus"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseJSON([]byte(c.line), c.expect, ParseOptions{})
			wantFieldError(t, err, c.field, c.why)
		})
	}
	for _, ok := range []struct {
		line   string
		expect Kind
	}{
		{`{"kind":"Services","id":"a","name":"b"}`, ""},
		{`{"kind":" SERVICE ","id":"a","name":"b"}`, KindService},
		{`{"kind":null,"id":"a","name":"b"}`, KindService},
		{`{"id":"a","name":"b"}`, "services"},
	} {
		r, err := ParseJSON([]byte(ok.line), ok.expect, ParseOptions{})
		if err != nil {
			t.Errorf("%s (expect %q): %v", ok.line, ok.expect, err)
			continue
		}
		mustEqual(t, r, &Service{Meta: Meta{ID: "a", Source: "import"}, Name: "b"})
	}
	// CSV: a kind column that disagrees with the file's kind.
	cells := csvFields(t, svc)
	cells["kind"] = Value{Raw: []byte("deployment"), Text: true}
	_, err := ParseFields(cells, KindService, ParseOptions{})
	wantFieldError(t, err, "kind", `is "deployment" but "service" was expected`)
	cells["kind"] = Value{Raw: []byte(""), Text: true}
	if _, err := ParseFields(cells, KindService, ParseOptions{}); err != nil {
		t.Errorf("blank kind cell: %v", err)
	}
}

func TestUnknownFields(t *testing.T) {
	runRules(t, []ruleCase{
		{name: "typo", kind: KindDeployment, set: patch("envirnoment", S("prod")), field: "envirnoment", why: `unknown field for kind deployment (did you mean "environment"?)`},
		{name: "case", kind: KindDeployment, set: patch("Version", S("1")), field: "Version", why: `did you mean "version"?`},
		{name: "camel case", kind: KindDeployment, set: patch("pipelineUrl", S("x")), field: "pipelineUrl", why: `did you mean "pipeline_url"?`},
		{name: "spaces", kind: KindIncident, set: patch("Resolved At", S("2026-03-02T00:00:00Z")), field: "Resolved At", why: `did you mean "resolved_at"?`},
		{name: "unrelated", kind: KindService, set: patch("colour", S("blue")), field: "colour", why: "unknown field for kind service (known: business_unit, customer_facing, id, kind, name, owner, paths, repo, slo_target, source, team, tier)"},
		{name: "another kind's field", kind: KindDeployment, set: patch("currency", S("USD")), field: "currency", why: "unknown field for kind deployment"},
		{name: "first of several", kind: KindService, set: patch("zeta", S("1"), "alpha", S("2")), field: "alpha", why: "unknown field"},
		{name: "empty name", kind: KindService, set: patch("", S("x")), field: `""`, why: "unknown field"},
		// A misspelt required field: the missing field is reported, with the
		// culprit named.
		{name: "misspelt required", kind: KindDeployment, set: patch("finished_at", del(), "finshed_at", S("2026-03-01T10:00:00Z")), field: "finished_at", why: `required (the record has "finshed_at": a typo?)`},
		{name: "misspelt required (case)", kind: KindService, set: patch("name", del(), "Name", S("x")), field: "name", why: `required (the record has "Name": a typo?)`},
	})
}

func TestMalformedJSON(t *testing.T) {
	for _, c := range []struct{ line, field, why string }{
		{``, "", "not a JSON object"},
		{`   `, "", "not a JSON object"},
		{`{"id":`, "", "not a JSON object: unexpected end of JSON input"},
		{`{"id":"a",}`, "", "not a JSON object: invalid character '}'"},
		{`{"id":"a" "name":"b"}`, "", "(at byte"},
		{`null`, "", "not a JSON object: got null"},
		{`[{"kind":"service"}]`, "", "not a JSON object: got a list [{"},
		{`"service"`, "", "not a JSON object: got a string"},
		{`42`, "", "not a JSON object: got a number 42"},
		{`true`, "", "not a JSON object: got a boolean"},
		{`{"a":{"b":1,"c":[1,2,{"d":"x,y"}]},"s":"q\\\",}{[","a":2}`, "a", "appears twice"},
		{`{"kind":"service","id":"a","name":"b","s":"q\\\",}{[","t":"\\"}`, "s", "unknown field"},
		{`{"kind":"service","id":"a","name":"b","nested":{"id":1,"id":2}}`, "nested", "unknown field"},
		{`{"kind":"service","id":"a","name":"b"} {}`, "", "not a JSON object"},
		{`{"kind":"service","id":"a","name":"b"}x`, "", "not a JSON object"},
		{`{"kind":"service","id":"a","name":"b","id":"c"}`, "id", "appears twice"},
		{`{"":1,"kind":"service","id":"a","name":"b","":2}`, `""`, "appears twice"},
		{`{"kind":"service","id":"a","name":"b","\u0069d":"c"}`, "id", "appears twice"}, // the same key, escaped
		{`{"kind":"service","id":"a","name":"b","name":null}`, "name", "appears twice"},
		{"{\"kind\":\"service\",\"id\":\"a\",\"name\":\"Caf\xe9\"}", "name", "not valid UTF-8"},
		{"{\"kind\":\"service\",\"id\":\"a\",\"name\":\"x\",\"paths\":[\"\xff\"]}", "paths[0]", "not valid UTF-8"},
	} {
		_, err := ParseJSON([]byte(c.line), "", ParseOptions{})
		wantFieldError(t, err, c.field, c.why)
	}
	// Escaped quotes, commas and brackets inside strings are not members.
	r, err := ParseJSON([]byte(`{"kind":"service","id":"a\",b,c","name":"{[\\\"]},"}`), "", ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mustEqual(t, r, &Service{Meta: Meta{ID: `a",b,c`, Source: "import"}, Name: `{[\"]},`})
	// Surrounding blanks and a trailing newline are fine.
	if _, err := ParseJSON([]byte(" {\"kind\":\"service\",\"id\":\"a\",\"name\":\"b\"}\r\n"), "", ParseOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestFieldErrorString(t *testing.T) {
	if s := (&FieldError{Field: "tier", Reason: "bad"}).Error(); s != "field tier: bad" {
		t.Fatal(s)
	}
	if s := (&FieldError{Reason: "not a JSON object"}).Error(); s != "not a JSON object" {
		t.Fatal(s)
	}
}

// ---- round trips of awkward values -----------------------------------------

func TestRoundTripAwkwardValues(t *testing.T) {
	recs := []Record{
		&Ticket{Meta: Meta{ID: "<&>", Source: "s p a c e"}, CreatedAt: ts("2026-03-01T00:00:00.000000001Z"),
			Text: "line\nbreak\ttab \"quote\" \\ back \u2028 sep 🚀 \u00e9\u0301", Customer: "0"},
		&Cost{Meta: Meta{ID: "c", Source: "s"}, PeriodStart: ts("0001-01-01T00:00:00.000000001Z"), PeriodEnd: ts("9999-12-31T23:59:59.999999999Z"),
			Amount: Money(-9223372036854775807), Currency: "XXX", Tags: []string{"a=b=c", "=", "k="}},
		&Usage{Meta: Meta{ID: "u", Source: "s"}, PeriodStart: ts("2026-01-01T00:00:00Z"), PeriodEnd: ts("2026-01-01T00:00:00.000000001Z"),
			Requests: fp(0), ActiveCustomers: fp(1e300)},
		&Deployment{Meta: Meta{ID: "d", Source: "s"}, Service: "x", Environment: "Live", FinishedAt: ts("2026-01-01T00:00:00Z"),
			Status: StatusFailure, RiskScore: fp(5e-324), Coverage: fp(0.1 + 0.2), Changes: []string{"1"}},
		&Survey{Meta: Meta{ID: "s", Source: "s"}, At: ts("2026-01-01T00:00:00Z"), Type: "nps", Score: 0},
		&SLI{Meta: Meta{ID: "s", Source: "s"}, Service: "x", PeriodStart: ts("2026-01-01T00:00:00Z"), PeriodEnd: ts("2026-01-02T00:00:00Z"),
			Good: 0.1, Total: 1e15},
		&Subscription{Meta: Meta{ID: "s", Source: "s"}, Customer: "c", StartedAt: ts("2026-01-01T00:00:00Z"), MRR: 1, Currency: "BHD",
			Quantity: fp(0), Discount: fp(-0.5)},
		&Opportunity{Meta: Meta{ID: "o", Source: "s"}, CreatedAt: ts("2026-01-01T00:00:00Z"), Currency: "USD", Stage: "s",
			CloseDate: date("9999-12-31")},
		&Target{Meta: Meta{ID: "t", Source: "s"}, Metric: "m", PeriodStart: ts("2026-01-01T00:00:00Z"), PeriodEnd: ts("2027-01-01T00:00:00Z"),
			Value: -1e-300},
	}
	for _, r := range recs {
		roundTrip(t, r)
	}
	// Stored JSON is stable: marshalling the reloaded record gives the same bytes.
	for _, f := range fixtures() {
		a, _ := json.Marshal(f.wantFull)
		b, _ := json.Marshal(roundTrip(t, f.wantFull))
		if string(a) != string(b) {
			t.Errorf("%s: %s became %s", f.kind, a, b)
		}
	}
}

// ---- environment type -----------------------------------------------------

func TestProduction(t *testing.T) {
	for _, c := range []struct {
		envType, env string
		names        []string
		want         bool
	}{
		{"", "production", DefaultProductionNames, true},
		{"", "PROD", DefaultProductionNames, true},
		{"", "Live", DefaultProductionNames, true},
		{"", "prd", DefaultProductionNames, true},
		{"", " prod ", DefaultProductionNames, true},
		{"", "staging", DefaultProductionNames, false},
		{"", "prod-eu", DefaultProductionNames, false},
		{"", "preprod", DefaultProductionNames, false},
		{"", "", DefaultProductionNames, false},
		{"", "prod", nil, true}, // no configuration: the spec's default names
		{"", "prod", []string{}, true},
		{"", "eu-1", []string{"eu-1", "us-1"}, true},
		{"", "EU-1", []string{"eu-1"}, true},
		{"", "prod", []string{"eu-1"}, false}, // configured names replace the defaults
		{EnvProduction, "staging", DefaultProductionNames, true},
		{EnvProduction, "anything", []string{"eu-1"}, true},
		{EnvStaging, "prod", DefaultProductionNames, false},
		{EnvTest, "live", DefaultProductionNames, false},
		{EnvDev, "production", DefaultProductionNames, false},
	} {
		d := &Deployment{EnvType: c.envType, Environment: c.env}
		if got := d.Production(c.names); got != c.want {
			t.Errorf("env_type %q environment %q names %v: Production = %v, want %v", c.envType, c.env, c.names, got, c.want)
		}
	}
	if !slices.Equal(DefaultProductionNames, []string{"production", "prod", "prd", "live"}) {
		t.Errorf("DefaultProductionNames = %v, SPEC §1 says production, prod, prd, live", DefaultProductionNames)
	}
	// Parsed records: env_type wins over the name.
	f := fixtureOf(t, KindDeployment)
	for _, c := range []struct {
		set  set
		want bool
	}{
		{patch("environment", S("PROD")), true},
		{patch("environment", S("Live")), true},
		{patch("environment", S("qa")), false},
		{patch("environment", S("qa"), "env_type", S("production")), true},
		{patch("environment", S("prod"), "env_type", S("staging")), false},
	} {
		line, cells := apply(t, KindDeployment, f.min, c.set)
		r, err := ParseJSON(line, "", ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		r2, err := ParseFields(cells, KindDeployment, ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []Record{r, r2, roundTrip(t, r)} {
			if got := r.(*Deployment).Production(DefaultProductionNames); got != c.want {
				t.Errorf("%s: Production = %v, want %v", line, got, c.want)
			}
		}
	}
}

// ---- event time ----------------------------------------------------------

func TestEventTime(t *testing.T) {
	want := map[Kind][2]string{ // minimal, full
		KindService:       {"", ""},
		KindDeployment:    {"2026-03-01T10:00:00Z", "2026-03-01T10:05:00.5Z"}, // finished, later cutover
		KindChange:        {"2026-03-01T08:00:00.123456789Z", "2026-03-01T08:00:00.123456789Z"},
		KindIncident:      {"2026-03-01T10:30:00Z", "2026-03-01T11:30:00Z"}, // opened, resolved
		KindSLI:           {"2026-03-02T00:00:00Z", "2026-03-02T00:00:00Z"},
		KindTicket:        {"2026-03-01T10:40:00Z", "2026-03-01T14:00:00Z"}, // created, resolved
		KindSurvey:        {"2026-03-01T12:00:00Z", "2026-03-01T12:00:00Z"},
		KindVulnerability: {"2026-03-01T00:00:00Z", "2026-03-04T00:00:00Z"}, // opened, fixed
		KindControl:       {"2026-03-01T06:00:00Z", "2026-03-01T06:00:00Z"},
		KindCost:          {"2026-03-01T00:00:00Z", "2026-03-01T00:00:00Z"}, // period end
		KindUsage:         {"2026-03-01T00:00:00Z", "2026-03-01T00:00:00Z"},
		KindBudget:        {"2026-03-01T00:00:00Z", "2026-03-01T00:00:00Z"}, // period start: a plan
		KindSubscription:  {"2025-01-15T00:00:00Z", "2026-01-15T00:00:00Z"}, // started, ended
		KindOpportunity:   {"2026-01-10T00:00:00Z", "2026-02-27T17:00:00Z"}, // created, closed
		KindLead:          {"2026-01-02T00:00:00Z", "2026-01-09T00:00:00Z"}, // created, sql
		KindQuota:         {"2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"}, // period start
		KindSpend:         {"2026-03-01T00:00:00Z", "2026-03-01T00:00:00Z"}, // period end
		KindTarget:        {"2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"}, // period start
		KindMeasurement:   {"2026-03-01T08:00:00Z", "2026-03-01T08:00:00Z"}, // at
	}
	at := func(s string) time.Time {
		if s == "" {
			return time.Time{}
		}
		return ts(s)
	}
	for _, f := range fixtures() {
		w, ok := want[f.kind]
		if !ok {
			t.Fatalf("no expected event time for %s", f.kind)
		}
		if got := f.wantMin.EventTime(); !got.Equal(at(w[0])) {
			t.Errorf("%s minimal: EventTime = %v, want %s", f.kind, got, w[0])
		}
		if got := f.wantFull.EventTime(); !got.Equal(at(w[1])) {
			t.Errorf("%s full: EventTime = %v, want %s", f.kind, got, w[1])
		}
	}
	// The newest event wins whichever field holds it.
	for _, c := range []struct {
		r    Record
		want string
	}{
		{&Deployment{FinishedAt: ts("2026-03-01T10:00:00Z"), CutoverAt: ts("2026-03-01T09:00:00Z")}, "2026-03-01T10:00:00Z"},
		{&Incident{OpenedAt: ts("2026-03-01T10:00:00Z"), DetectedAt: ts("2026-03-01T10:05:00Z")}, "2026-03-01T10:05:00Z"},
		{&Incident{OpenedAt: ts("2026-03-01T10:00:00Z"), DetectedAt: ts("2026-03-01T09:00:00Z"), PostmortemDoneAt: ts("2026-03-09T00:00:00Z")}, "2026-03-01T10:00:00Z"},
		{&Opportunity{CreatedAt: ts("2026-01-01T00:00:00Z"), QualifiedAt: ts("2026-01-05T00:00:00Z")}, "2026-01-05T00:00:00Z"},
		{&Opportunity{CreatedAt: ts("2026-01-01T00:00:00Z"), QualifiedAt: ts("2026-03-05T00:00:00Z"), ClosedAt: ts("2026-02-01T00:00:00Z")}, "2026-03-05T00:00:00Z"},
		{&Lead{CreatedAt: ts("2026-01-01T00:00:00Z"), MQLAt: ts("2026-01-03T00:00:00Z")}, "2026-01-03T00:00:00Z"},
		{&Lead{CreatedAt: ts("2026-01-01T00:00:00Z"), MQLAt: ts("2026-01-09T00:00:00Z"), SQLAt: ts("2026-01-03T00:00:00Z")}, "2026-01-09T00:00:00Z"},
		{&Ticket{CreatedAt: ts("2026-01-01T00:00:00Z"), SLADueAt: ts("2026-02-01T00:00:00Z")}, "2026-01-01T00:00:00Z"},
		{&Subscription{StartedAt: ts("2026-01-01T00:00:00Z")}, "2026-01-01T00:00:00Z"},
	} {
		if got := c.r.EventTime(); !got.Equal(ts(c.want)) {
			t.Errorf("%T %+v: EventTime = %v, want %s", c.r, c.r, got, c.want)
		}
	}
}

// simpleString's ASCII fast path agrees with the rule it stands for, on
// random bytes weighted towards the ones that matter.
func TestSimpleStringMatchesItsRule(t *testing.T) {
	rule := func(b []byte) bool {
		for _, c := range b {
			if c == '\\' || c == '"' || c < 0x20 {
				return false
			}
		}
		return utf8.Valid(b)
	}
	alphabet := []byte("aZ9 -\\\"\x00\x1f\x7f\xc3\xa9\xe2\x80\xa8\xff\xf0\x9f\x99\x82")
	rng := rand.New(rand.NewPCG(5, 6))
	for range 200000 {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		if simpleString(b) != rule(b) {
			t.Fatalf("%q: simpleString %v, the rule %v", b, simpleString(b), rule(b))
		}
	}
}

// Misspelling takes a name for another only on strong evidence: it
// decides a release gate's verdict, where Closest only suggests.
func TestMisspelling(t *testing.T) {
	known := []string{"production", "prod", "prd", "live", "staging", "stage1"}
	for x, want := range map[string]string{
		"prodution": "production", "Prodcution": "production", "PRODUCTON": "production", "stagng": "staging", "staigng": "",
		// Short, or adding to a name, or digits apart: other environments.
		"pr-7": "", "pr-42": "", "perf": "", "pre": "", "prev": "", "dr": "", "prod-eu": "", "live2": "",
		"staging2": "", "stage2": "", "preview-pr-4821": "", "qa": "", "uat": "", "production": "",
	} {
		if got := Misspelling(x, known); got != want {
			t.Errorf("Misspelling(%q) = %q, want %q", x, got, want)
		}
	}
}

func TestJSONKind(t *testing.T) {
	for raw, want := range map[string]string{`"x"`: "string", `{}`: "object", `[1]`: "array", `true`: "bool", `false`: "bool", `null`: "null", `-1.5`: "number", ``: "value"} {
		if got := JSONKind([]byte(raw)); got != want {
			t.Errorf("JSONKind(%s) = %q, want %q", raw, got, want)
		}
	}
}
