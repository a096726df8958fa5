package ledger

import (
	"strings"
	"testing"

	"github.com/candor/candor/internal/store"
)

// Redact pseudonymises the identifiers a spec names (inside an object
// too), erases the other personal fields, keeps every other field and
// value exactly, and leaves a document with nothing left alone.
func TestRedact(t *testing.T) {
	spec := DocSpec{Personal: []string{"acknowledgement", "client", "by"}, Pseudonymise: []string{"acknowledgement.owner", "by"},
		Erase: []string{"acknowledgement.note"}}
	body := `{"metric":"mttr","value":12.500000000000001,"by":"config","client":"10.0.0.1",` +
		`"acknowledgement":{"id":7,"metric":"mttr","owner":"Ann Lee","note":"call Ann on +44 1234","by":"user:ann@example.com"}}`
	p := func(s string) string { return "anon(" + s + ")" }
	out, changed, err := Redact(spec, []byte(body), p)
	if err != nil || !changed {
		t.Fatalf("Redact: %v, changed %v", err, changed)
	}
	for _, want := range []string{`"owner":"anon(Ann Lee)"`, `"note":""`, `"client":""`, `"by":"config"`, `"value":12.500000000000001`, `"id":7`, `"metric":"mttr"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("%s lacks %s", out, want)
		}
	}
	// Inside an object the spec names paths of, only those paths change.
	if !strings.Contains(string(out), `"by":"user:ann@example.com"`) {
		t.Errorf("a path the spec does not name inside a named object changed: %s", out)
	}
	again, changed, err := Redact(spec, out, func(s string) string { return s })
	if err != nil || changed || string(again) != string(out) {
		t.Errorf("a second pass changed %s into %s (%v)", out, again, err)
	}
}

// A document's personal field redacted by retention while its ledger entry
// still holds the names reads as chained; any other difference does not.
func TestSameOrRedacted(t *testing.T) {
	const anon = "anon-0123456789abcdef0123456789abcdef"
	for _, c := range []struct {
		doc, led string
		want     bool
	}{
		{`"user:ann@example.com"`, `"user:ann@example.com"`, true},
		{`"user:` + anon + `"`, `"user:ann@example.com"`, true},
		{`"` + anon + `"`, `"Ann Lee"`, true},
		{`""`, `"10.0.0.1"`, true},
		{`{"owner":"` + anon + `","note":"","by":"user:ann@example.com"}`, `{"owner":"Ann Lee","note":"call Ann","by":"user:ann@example.com"}`, true},
		{`"user:bob@example.com"`, `"user:ann@example.com"`, false},
		{`{"owner":"Bob"}`, `{"owner":"Ann Lee"}`, false},
		{`{"owner":"` + anon + `"}`, `{"owner":"Ann Lee","by":"x"}`, false},
		{`"anon-xyz"`, `"Ann Lee"`, false},
		{`7`, `8`, false},
	} {
		if got := sameOrRedacted([]byte(c.doc), []byte(c.led)); got != c.want {
			t.Errorf("sameOrRedacted(%s, %s) = %v, want %v", c.doc, c.led, got, c.want)
		}
	}
}

// A document compared with its entry: data and personal fields as one
// object (an entry chained before a field became personal still matches),
// personal ones only while the entry holds them, and redacted ones read as
// the entry's.
func TestFieldsDiffer(t *testing.T) {
	const anon = "user:anon-0123456789abcdef0123456789abcdef"
	entry := func(data, personal string) store.LedgerEntry {
		e := store.LedgerEntry{Data: []byte(data)}
		if personal != "" {
			e.Personal = []byte(personal)
		}
		return e
	}
	row := func(data, personal string) store.LedgerRow {
		r := store.LedgerRow{}
		r.Data = []byte(data)
		if personal != "" {
			r.Personal = []byte(personal)
		}
		return r
	}
	for _, c := range []struct {
		name string
		e    store.LedgerEntry
		r    store.LedgerRow
		want string
	}{
		{"same", entry(`{"doc":1,"value":2}`, `{"by":"user:ann"}`), row(`{"doc":1,"value":2}`, `{"by":"user:ann"}`), ""},
		{"value rewritten", entry(`{"doc":1,"value":3}`, `{"by":"user:ann"}`), row(`{"doc":1,"value":2}`, `{"by":"user:ann"}`), "value"},
		{"approver rewritten", entry(`{"doc":1}`, `{"by":"user:eve"}`), row(`{"doc":1}`, `{"by":"user:ann"}`), "by"},
		{"by chained as data, now personal", entry(`{"doc":1}`, `{"by":"user:ann","note":"x"}`), row(`{"doc":1,"by":"user:ann"}`, `{"note":"x"}`), ""},
		{"redacted before the entry was erased", entry(`{"doc":1}`, `{"by":"`+anon+`"}`), row(`{"doc":1}`, `{"by":"user:ann"}`), ""},
		{"entry erased", entry(`{"doc":1}`, `{"by":"`+anon+`"}`), row(`{"doc":1}`, ""), ""},
		{"field removed", entry(`{"doc":1}`, ""), row(`{"doc":1,"value":2}`, ""), "value"},
	} {
		if got := strings.Join(fieldsDiffer(c.e, c.r), ","); got != c.want {
			t.Errorf("%s: %q differ, want %q", c.name, got, c.want)
		}
	}
}
