package domain

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// freeText are the fields SPEC §1 bounds as free text (64 KiB); every
// other string field is an identifier or name (256 bytes).
var freeText = map[string]bool{"title": true, "text": true, "url": true, "pipeline_url": true, "evidence_url": true}

func boundOf(field string) int {
	if freeText[field] {
		return MaxText
	}
	return MaxName
}

// stringFields lists a fixture's fields that hold one string, kind aside.
func stringFields(f fixture) []string {
	var out []string
	for k, v := range f.full {
		if _, ok := v.(string); ok && k != "kind" {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// wantBoundError checks that err lists a problem of field naming bound.
func wantBoundError(t testing.TB, err error, field string, bound int) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want field %s over its %d-byte bound refused", field, bound)
	}
	for _, fe := range Problems(err) {
		if fe.Field == field && strings.Contains(fe.Reason, "at most") && strings.Contains(fe.Reason, fmt.Sprint(bound)) {
			return
		}
	}
	t.Fatalf("error %q does not name field %s and its bound %d", err, field, bound)
}

// parseBoth parses the fields as an NDJSON line and as CSV cells.
func parseBoth(t testing.TB, kind Kind, in map[string]any) (jsonErr, csvErr error) {
	t.Helper()
	_, jsonErr = ParseJSON(jsonLine(t, kind, in), "", ParseOptions{})
	_, csvErr = ParseFields(csvFields(t, in), kind, ParseOptions{})
	return jsonErr, csvErr
}

// Every string field of every kind is bounded: one byte over is refused
// with the field and the bound named, in both formats, and a field that
// takes any text takes exactly the bound.
func TestFieldBounds(t *testing.T) {
	for _, f := range fixtures() {
		for _, field := range stringFields(f) {
			t.Run(string(f.kind)+"/"+field, func(t *testing.T) {
				bound := boundOf(field)
				in := maps.Clone(f.full)
				in[field] = strings.Repeat("x", bound+1)
				jerr, cerr := parseBoth(t, f.kind, in)
				wantBoundError(t, jerr, field, bound)
				wantBoundError(t, cerr, field, bound)

				in[field] = "abc"
				if jerr, _ := parseBoth(t, f.kind, in); jerr != nil {
					return // a formatted field (a timestamp, an enum): the bound is all there is to check
				}
				in[field] = strings.Repeat("x", bound)
				jerr, cerr = parseBoth(t, f.kind, in)
				if jerr != nil || cerr != nil {
					t.Fatalf("%d bytes refused: %v / %v", bound, jerr, cerr)
				}
			})
		}
	}
}

// A 2 MB service is refused, naming the field and the bound.
func TestHugeServiceRefused(t *testing.T) {
	f := fixtureOf(t, KindDeployment)
	in := maps.Clone(f.min)
	in["service"] = strings.Repeat("s", 2<<20)
	jerr, cerr := parseBoth(t, KindDeployment, in)
	wantBoundError(t, jerr, "service", MaxName)
	wantBoundError(t, cerr, "service", MaxName)
	if !strings.HasPrefix(jerr.Error(), "field service: is 2097152 bytes long; an identifier or name is at most 256 bytes") {
		t.Fatalf("error = %.200q", jerr)
	}
	if len(jerr.Error()) > 1000 {
		t.Fatalf("the error quotes the value: %d bytes", len(jerr.Error()))
	}
}

// List items and tags are names; a field's name is bounded like one.
func TestListAndNameBounds(t *testing.T) {
	long := strings.Repeat("y", MaxName+1)
	dep := maps.Clone(fixtureOf(t, KindDeployment).min)
	dep["changes"] = []string{"c1", long}
	_, err := ParseJSON(jsonLine(t, KindDeployment, dep), "", ParseOptions{})
	wantBoundError(t, err, "changes[1]", MaxName)
	_, err = ParseFields(csvFields(t, dep), KindDeployment, ParseOptions{})
	wantBoundError(t, err, "changes", MaxName)

	cost := maps.Clone(fixtureOf(t, KindCost).min)
	cost["tags"] = json.RawMessage(`{"team":"` + long + `"}`)
	_, err = ParseJSON(jsonLine(t, KindCost, cost), "", ParseOptions{})
	wantBoundError(t, err, "tags.team", MaxName)
	cost["tags"] = []string{"team=" + long}
	_, err = ParseJSON(jsonLine(t, KindCost, cost), "", ParseOptions{})
	wantBoundError(t, err, "tags", MaxName)
	// An AWS tag (128-byte key, 256-byte value) fits.
	cost["tags"] = []string{strings.Repeat("k", 128) + "=" + strings.Repeat("v", 256)}
	if _, err := ParseJSON(jsonLine(t, KindCost, cost), "", ParseOptions{}); err != nil {
		t.Fatal(err)
	}

	svc := maps.Clone(fixtureOf(t, KindService).min)
	svc[strings.Repeat("n", 300)] = 1
	_, err = ParseJSON(jsonLine(t, KindService, svc), "", ParseOptions{})
	var named bool
	for _, fe := range Problems(err) {
		named = named || len(fe.Field) < 100 && strings.Contains(fe.Reason, "a field name is at most 256 bytes")
	}
	if !named {
		t.Fatalf("error %.300q does not bound the field name (clipped)", err)
	}
}

// A record is at most 1 MiB of field names and values: exactly that is
// accepted, a byte more refused, in both formats.
func TestRecordBound(t *testing.T) {
	base := maps.Clone(fixtureOf(t, KindDeployment).min)
	sized := func(extra int) map[string]any {
		in := maps.Clone(base)
		in["changes"] = []string{}
		f, err := jsonFields(jsonLine(t, KindDeployment, in))
		if err != nil {
			t.Fatal(err)
		}
		// Items of 250 bytes take 253 in the JSON list (quotes, comma).
		room := MaxRecord + extra - (recordSize(f) - len(`[]`)) - len(`[]`) + 1
		n, rem := room/253, room%253
		items := make([]string, n)
		for i := range items {
			items[i] = fmt.Sprintf("%0250d", i)
			if i < rem {
				items[i] += "z"
			}
		}
		in["changes"] = items
		return in
	}
	at := sized(0)
	f, _ := jsonFields(jsonLine(t, KindDeployment, at))
	if recordSize(f) != MaxRecord {
		t.Fatalf("fixture is %d bytes, want %d", recordSize(f), MaxRecord)
	}
	if _, err := ParseJSON(jsonLine(t, KindDeployment, at), "", ParseOptions{}); err != nil {
		t.Fatalf("a record of exactly 1 MiB: %v", err)
	}
	over := sized(1)
	_, err := ParseJSON(jsonLine(t, KindDeployment, over), "", ParseOptions{})
	wantFieldError(t, err, "", "a record is at most 1 MiB (1048576 bytes)")
	// CSV counts the cells as sent: the same list without quotes and
	// brackets is smaller, so it takes more items to pass the bound.
	cells := csvFields(t, over)
	cells["changes"] = Value{Raw: []byte(strings.Repeat("c;", MaxRecord/2)), Text: true}
	_, err = ParseFields(cells, KindDeployment, ParseOptions{})
	wantFieldError(t, err, "", "a record is at most 1 MiB")
}

// Every problem of a record is reported, in field order, not only the
// first.
func TestEveryProblemReported(t *testing.T) {
	in := map[string]any{"id": "d1", "service": "api", "finished_at": "yesterday", "status": "ok", "colour": "red"}
	want := []string{"environment", "finished_at", "status", "colour"}
	for _, format := range []string{"JSON", "CSV"} {
		var err error
		if format == "JSON" {
			_, err = ParseJSON(jsonLine(t, KindDeployment, in), "", ParseOptions{})
		} else {
			_, err = ParseFields(csvFields(t, in), KindDeployment, ParseOptions{})
		}
		var got []string
		for _, fe := range Problems(err) {
			got = append(got, fe.Field)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s: problems of %v, want %v (error %v)", format, got, want, err)
		}
		wantFieldError(t, err, "environment", "required") // errors.As finds the first
		if !strings.Contains(err.Error(), "; field status: ") {
			t.Fatalf("%s: message %q does not list every problem", format, err)
		}
	}
	// A record with thousands of unknown fields lists a bounded number.
	many := maps.Clone(fixtureOf(t, KindService).min)
	for i := range 5000 {
		many[fmt.Sprintf("extra%05d", i)] = 1
	}
	_, err := ParseJSON(jsonLine(t, KindService, many), "", ParseOptions{})
	ps := Problems(err)
	if len(ps) != maxProblems+1 || !strings.Contains(ps[maxProblems].Reason, "and 4980 more problems") {
		t.Fatalf("%d problems, last %v", len(ps), ps[len(ps)-1])
	}
}
