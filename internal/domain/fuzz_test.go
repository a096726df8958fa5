package domain

import (
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// checkParsed is what the fuzz tests require of any input: no panic, a
// *FieldError when refused, every problem worded in bounded size (an error
// never quotes a megabyte of input back), and when accepted a record within
// the SPEC §1 bounds whose canonical JSON reloads to the same record and is
// stable.
func checkParsed(t *testing.T, r Record, err error) {
	t.Helper()
	if err != nil {
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Reason == "" {
			t.Fatalf("error %v (%T) is not a *FieldError with a reason", err, err)
		}
		ps := Problems(err)
		if len(ps) == 0 || len(ps) > maxProblems+1 {
			t.Fatalf("%d problems listed", len(ps))
		}
		for _, p := range ps {
			if len(p.Field) > 2*MaxName || len(p.Reason) > 4*MaxName+2048 {
				t.Fatalf("problem of %d + %d bytes: %.300q", len(p.Field), len(p.Reason), p)
			}
		}
		return
	}
	checkBounds(t, r)
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

// checkBounds fails unless every string of an accepted record is within its
// SPEC §1 bound and the record within MaxRecord.
func checkBounds(t *testing.T, r Record) {
	t.Helper()
	b, _ := json.Marshal(r)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range m {
		switch v := v.(type) {
		case string:
			if len(v) > boundOf(k) {
				t.Fatalf("accepted %s of %d bytes", k, len(v))
			}
		case []any:
			for _, e := range v {
				if s, _ := e.(string); len(s) > 2*MaxName+1 {
					t.Fatalf("accepted a %s item of %d bytes", k, len(s))
				}
			}
		}
	}
	if len(b) > 2*MaxRecord { // canonical JSON escapes; the input was at most MaxRecord
		t.Fatalf("accepted a record of %d bytes", len(b))
	}
}

// FuzzBounds sets one field of a kind's full fixture to a fuzzed length:
// a field over its bound is refused with the field and the bound named,
// one within it never for its size, and a field that takes any text takes
// any length up to the bound.
func FuzzBounds(f *testing.F) {
	for i := range fixtures() {
		f.Add(byte(i), byte(0), uint32(MaxName), byte('a'), false)
		f.Add(byte(i), byte(1), uint32(MaxName+1), byte('b'), true)
		f.Add(byte(i), byte(2), uint32(MaxText+1), byte('c'), false)
	}
	fxs := fixtures()
	f.Fuzz(func(t *testing.T, k, which byte, n uint32, fill byte, csv bool) {
		fx := fxs[int(k)%len(fxs)]
		fields := stringFields(fx)
		field := fields[int(which)%len(fields)]
		bound := boundOf(field)
		n %= uint32(2*bound + 2)
		in := maps.Clone(fx.full)
		// A printable, non-blank byte that needs no escaping.
		c := "abcdefghijklmnopqrstuvwxyz0123456789-_./:"[int(fill)%41]
		in[field] = strings.Repeat(string(c), int(n))
		var r Record
		var err error
		if csv {
			r, err = ParseFields(csvFields(t, in), fx.kind, ParseOptions{})
		} else {
			r, err = ParseJSON(jsonLine(t, fx.kind, in), "", ParseOptions{})
		}
		checkParsed(t, r, err)
		over := false
		for _, p := range Problems(err) {
			if p.Field == field && strings.Contains(p.Reason, "at most") {
				over = true
			}
		}
		if int(n) > bound {
			wantBoundError(t, err, field, bound)
			return
		}
		if over {
			t.Fatalf("%d bytes of %s refused for size: %v", n, field, err)
		}
		probe := maps.Clone(fx.full)
		probe[field] = "abc"
		if _, perr := ParseJSON(jsonLine(t, fx.kind, probe), "", ParseOptions{}); perr == nil && n > 0 && err != nil {
			t.Fatalf("%d bytes of free-form %s refused: %v", n, field, err)
		}
	})
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
