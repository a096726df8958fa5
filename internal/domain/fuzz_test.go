package domain

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// checkParsed is what the fuzz tests require of any input: no panic, a
// *FieldError when refused, and when accepted a record whose canonical JSON
// reloads to the same record and is stable.
func checkParsed(t *testing.T, r Record, err error) {
	t.Helper()
	if err != nil {
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Reason == "" {
			t.Fatalf("error %v (%T) is not a *FieldError with a reason", err, err)
		}
		return
	}
	if r.Header().ID == "" || r.Header().Source == "" {
		t.Fatalf("accepted without id or source: %#v", r)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("marshal %#v: %v", r, err)
	}
	back, err := ParseJSON(b, r.Kind(), ParseOptions{DefaultSource: "x", DefaultCurrency: "EUR"})
	if err != nil {
		t.Fatalf("reparse %s: %v", b, err)
	}
	if !reflect.DeepEqual(back, r) {
		t.Fatalf("round trip changed the record\n json: %s\n  got: %#v\n want: %#v", b, back, r)
	}
	b2, err := json.Marshal(back)
	if err != nil || string(b2) != string(b) {
		t.Fatalf("canonical JSON not stable: %s then %s (%v)", b, b2, err)
	}
}

func FuzzParseJSON(f *testing.F) {
	for _, fx := range fixtures() {
		f.Add(jsonLine(f, fx.kind, fx.min))
		f.Add(jsonLine(f, fx.kind, fx.full))
	}
	for _, s := range []string{
		``, `null`, `{}`, `[]`, `{"kind":"service"}`,
		`{"kind":"cost","id":"1","period_start":"2026-01-01T00:00:00Z","period_end":"2026-02-01T00:00:00Z","amount":-9223372036854.775808}`,
		`{"kind":"cost","id":1,"period_start":"0000-01-01T00:00:00+01:00","period_end":"2026-02-01T00:00:00Z","amount":1e3,"tags":{"a":1}}`,
		`{"kind":"service","id":"a\u0000","name":"\ud800"}`,
		"{\"kind\":\"service\",\"id\":\"\xff\",\"name\":\"b\"}",
		`{"kind":"service","id":"a","name":"b","paths":[]}`,
		`{"kind":"opportunity","id":"o","created_at":"2026-01-01T00:00:00Z","amount":1,"stage":"s","close_date":"0000-01-01"}`,
		`{"kind":"service","id":"a","name":"b","id":"c"}`,
		`{"kind":"service","id":"a\",b,c","name":"{[\\\"]},","x":{"y":[1,{"z":","}]}}`,
		`{"":1,"":2}`,
		`{"kind":"service","id":"a","name":"b","\u0069d":"c"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		// The fast member count agrees with a full decode on duplicates.
		var raw map[string]json.RawMessage
		if json.Unmarshal(line, &raw) == nil && raw != nil {
			_, dup := duplicate(line)
			if (members(line) != len(raw)) != dup {
				t.Fatalf("members = %d, keys = %d, duplicate = %v", members(line), len(raw), dup)
			}
		}
		r, err := ParseJSON(line, "", ParseOptions{})
		checkParsed(t, r, err)
		// The same line parsed as a fixed kind: the path API bodies take.
		r, err = ParseJSON(line, KindCost, ParseOptions{DefaultCurrency: "chf"})
		checkParsed(t, r, err)
	})
}

// FuzzParseCSV feeds CSV cells: the input is "name=value" lines for one
// kind, chosen by the first byte.
func FuzzParseCSV(f *testing.F) {
	for i, fx := range fixtures() {
		for _, m := range []map[string]any{fx.min, fx.full} {
			var b strings.Builder
			for k, v := range m {
				b.WriteString(k + "=" + csvCell(f, v) + "\n")
			}
			f.Add(byte(i), b.String())
		}
	}
	f.Fuzz(func(t *testing.T, k byte, cells string) {
		kind := Kinds[int(k)%len(Kinds)]
		fields := Fields{}
		for _, line := range strings.Split(cells, "\n") {
			name, value, _ := strings.Cut(line, "=")
			fields[name] = Value{Raw: []byte(value), Text: true}
		}
		r, err := ParseFields(fields, kind, ParseOptions{})
		checkParsed(t, r, err)
	})
}

// TestFuzzFindings keeps, as plain cases, the inputs FuzzParseJSON found
// against the first version of the parser: each was accepted and then
// failed to marshal or came back different from the store.
func TestFuzzFindings(t *testing.T) {
	for _, c := range []struct {
		line       string
		kind       Kind
		opt        ParseOptions
		field, why string // empty: must parse and round-trip
	}{
		// Invalid UTF-8 was stored as is, and json.Marshal turned it into
		// U+FFFD: a different id, so a re-import no longer replaced it.
		{line: "{\"id\":\"\x80\",\"kind\":\"ChAnge\",\"merged_at\":\"2026-01-01T00:00:00Z\",\"service\":\"0\"}", field: "id", why: "not valid UTF-8"},
		{line: "{\"amount\":0,\"created_at\":\"2026-01-10T00:00:00Z\",\"id\":\"\xd6\",\"kind\":\"opportunitY\",\"stage\":\"0\"}", field: "id", why: "not valid UTF-8"},
		{line: "{\"id\":\"0\",\"kind\":\"serviCe\",\"name\":\"\xeb\"}", field: "name", why: "not valid UTF-8"},
		{line: "{\"checked_at\":\"2026-01-01T00:00:00Z\",\"control\":\"\xbf\",\"id\":\"0\",\"kind\":\"Control\",\"passed\":false}", field: "control", why: "not valid UTF-8"},
		// An empty list became []string{} and came back nil.
		{line: `{"id":"0","kind":"serviCe","name":"0","paths":[]}`},
		{line: `{"amount":0,"id":"0","period_end":"2027-01-01T00:00:00Z","period_start":"2026-01-01T00:00:00Z","tags":[]}`, kind: KindCost},
		// Go's time.Parse takes a one-digit hour; RFC 3339 does not.
		{line: `{"id":"0","kind":"change","merged_at":"2026-01-01T0:00:00Z","service":"0"}`, field: "merged_at", why: "not an RFC 3339 timestamp"},
		// A year outside 0001–9999 once in UTC could not be marshalled.
		{line: `{"kind":"cost","id":"1","period_start":"0000-01-01T00:00:00+01:00","period_end":"2026-02-01T00:00:00Z","amount":1e3}`, field: "period_start", why: "outside the years"},
		{line: `{"kind":"change","id":"1","service":"s","merged_at":"0000-06-01T00:00:00Z"}`, field: "merged_at", why: "outside the years"},
		// The most negative Money formatted as "--9223372036854.-775808".
		{line: `{"kind":"cost","id":"1","period_start":"2026-01-01T00:00:00Z","period_end":"2026-02-01T00:00:00Z","amount":-9223372036854.775808}`, field: "amount", why: "too large"},
		// A lower-case default currency was stored as "chf", which the
		// parser then refused when the store reloaded the record.
		{line: `{"kind":"cost","id":"c","period_start":"2026-01-01T00:00:00Z","period_end":"2026-02-01T00:00:00Z","amount":1}`, opt: ParseOptions{DefaultCurrency: "chf"}},
		// Tag objects were formatted with %v: 1e+06 for a number, <nil>
		// for null, map[...] for an object.
		{line: `{"kind":"cost","id":"c","period_start":"2026-01-01T00:00:00Z","period_end":"2026-02-01T00:00:00Z","amount":1,"tags":{"n":1000000,"z":null}}`},
		{line: `{"kind":"cost","id":"c","period_start":"2026-01-01T00:00:00Z","period_end":"2026-02-01T00:00:00Z","amount":1,"tags":{"o":{"p":1}}}`, field: "tags.o", why: "must be a string"},
	} {
		r, err := ParseJSON([]byte(c.line), c.kind, c.opt)
		if c.field == "" {
			if err != nil {
				t.Errorf("%s: %v", c.line, err)
				continue
			}
			checkParsed(t, r, nil)
			continue
		}
		wantFieldError(t, err, c.field, c.why)
	}
	r, err := ParseJSON([]byte(`{"kind":"cost","id":"c","period_start":"2026-01-01T00:00:00Z","period_end":"2026-02-01T00:00:00Z","amount":1,"tags":{"n":1000000,"z":null}}`), "", ParseOptions{DefaultCurrency: "chf"})
	if err != nil {
		t.Fatal(err)
	}
	if c := r.(*Cost); c.Currency != "CHF" || !slices.Equal(c.Tags, []string{"n=1000000", "z="}) {
		t.Fatalf("currency %q tags %q", c.Currency, c.Tags)
	}
}
