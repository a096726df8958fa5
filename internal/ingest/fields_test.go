package ingest

import (
	"bufio"
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/generate"
)

// reused is one fields map for every line, as an import worker uses it, so
// that a field left over from an earlier line would show.
var reused = domain.Fields{}

// interned is one name table for every line, as an import worker keeps
// it, so that a name interned wrongly on an earlier line would show.
var interned = names{}

// sameAsParseJSON fails unless parseLine gives what domain.ParseJSON gives.
func sameAsParseJSON(t *testing.T, line []byte) {
	t.Helper()
	for _, kind := range []domain.Kind{"", domain.KindDeployment} {
		got, gerr := parseLine(line, kind, domain.ParseOptions{}, reused, interned)
		want, werr := domain.ParseJSON(line, kind, domain.ParseOptions{})
		if fmt.Sprint(gerr) != fmt.Sprint(werr) || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s (kind %q):\n got %#v, %v\nwant %#v, %v", line, kind, got, gerr, want, werr)
		}
	}
}

// Edge cases of JSON syntax, each either split the way encoding/json
// would or left to ParseJSON.
var splitCases = []string{
	`{}`, `{ }`, `[]`, `null`, `"x"`, `1`, ``, `{`, `}`, `{"kind"}`, `{"kind":}`, `{"kind":"change",}`, `{,"kind":"change"}`,
	`{"kind":"change"} x`, `{"kind":"change"}{}`, `{"kind" : "change" , "id" :"c1","service":"api","merged_at":"2026-03-01T10:00:00Z"}`,
	"{\t\"kind\":\r\n\"change\",\"id\":\"c1\",\"service\":\"api\",\"merged_at\":\"2026-03-01T10:00:00Z\"\n}",
	`{"kind":"change","id":"c1","id":"c2","service":"api","merged_at":"2026-03-01T10:00:00Z"}`,
	`{"kind":"change","id":"c1","\u0069d":"c2","service":"api","merged_at":"2026-03-01T10:00:00Z"}`,
	`{"kind":"change","i\u0064":"c1","service":"api","merged_at":"2026-03-01T10:00:00Z"}`,
	`{"kind":"change","id":"c\"1\\\/\b\f\n\r\t\u00e9\uD83D\uDE00","service":"api","merged_at":"2026-03-01T10:00:00Z"}`,
	`{"kind":"change","id":"c\x1","service":"api","merged_at":"2026-03-01T10:00:00Z"}`,
	`{"kind":"change","id":"c\u12","service":"api","merged_at":"2026-03-01T10:00:00Z"}`,
	"{\"kind\":\"change\",\"id\":\"c\x011\",\"service\":\"api\",\"merged_at\":\"2026-03-01T10:00:00Z\"}",
	"{\"kind\":\"change\",\"id\":\"c\xff\xfe1\",\"service\":\"api\",\"merged_at\":\"2026-03-01T10:00:00Z\"}",
	"{\"kind\":\"change\",\"\xc3\xa9\":1,\"id\":\"c1\",\"service\":\"api\",\"merged_at\":\"2026-03-01T10:00:00Z\"}",
	`{"kind":"service","id":"s","name":"S","tier":1}`, `{"kind":"service","id":"s","name":"S","tier":-1}`,
	`{"kind":"service","id":"s","name":"S","tier":01}`, `{"kind":"service","id":"s","name":"S","tier":1.}`,
	`{"kind":"service","id":"s","name":"S","tier":.5}`, `{"kind":"service","id":"s","name":"S","tier":1e0}`,
	`{"kind":"service","id":"s","name":"S","tier":1E+0}`, `{"kind":"service","id":"s","name":"S","tier":1e}`,
	`{"kind":"service","id":"s","name":"S","tier":-}`, `{"kind":"service","id":"s","name":"S","tier":-0}`,
	`{"kind":"service","id":"s","name":"S","tier":2.50}`, `{"kind":"service","id":"s","name":"S","tier":+1}`,
	`{"kind":"service","id":"s","name":"S","tier":null}`, `{"kind":"service","id":"s","name":"S","tier":nul}`,
	`{"kind":"service","id":"s","name":"S","customer_facing":true}`, `{"kind":"service","id":"s","name":"S","customer_facing":truex}`,
	`{"kind":"service","id":"s","name":"S","customer_facing":false}`, `{"kind":"service","id":"s","name":"S","customer_facing":"yes"}`,
	`{"kind":"service","id":"s","name":"S","paths":["a/", "b"]}`, `{"kind":"service","id":"s","name":"S","paths":[]}`,
	`{"kind":"service","id":"s","name":"S","paths":[ ]}`, `{"kind":"service","id":"s","name":"S","paths":["a",]}`,
	`{"kind":"service","id":"s","name":"S","paths":[,]}`, `{"kind":"service","id":"s","name":"S","paths":["a" "b"]}`,
	`{"kind":"service","id":"s","name":"S","paths":{"a":1}}`, `{"kind":"service","id":"s","name":"S","paths":{"a":[1,{"b":null}]}}`,
	`{"kind":"service","id":"s","name":"S","paths":{"a":1,}}`, `{"kind":"service","id":"s","name":"S","paths":{"a" 1}}`,
	`{"kind":"service","id":"s","name":"S","paths":{a:1}}`, `{"kind":"service","id":"s","name":"S","paths":[[[[[]]]]]}`,
	`{"kind":"service","id":"s","name":"S","x":"` + string(bytes.Repeat([]byte("["), 100)) + `"}`,
	`{"kind":"service","id":"s","name":"S","x":` + string(bytes.Repeat([]byte("["), 100)) + string(bytes.Repeat([]byte("]"), 100)) + `}`,
	`{"kind":"service","id":"s","name":"S","":1}`, `{"kind":"service","id":"s","name":"S","tier":1}` + "\n",
	`{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"success","changes":["c1","c2"]}`,
	`{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"success","changes":"c1"}`,
	`{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"nope"}`,
	`{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"success","unknown":1}`,
	`{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"soon","status":"ok","colour":1}`,
	`{"kind":"deployment","id":"d1","service":"` + strings.Repeat("s", 257) + `","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"success"}`,
}

// The fast path gives exactly ParseJSON's records and errors, and takes
// every line the generator writes (else imports would quietly be slow).
// boundCases cross SPEC §1's size bounds; too big to be fuzz seeds.
func boundCases() []string {
	dep := func(extra string) string {
		return `{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"success"` + extra + `}`
	}
	item := `"` + strings.Repeat("c", 250) + `"`
	return []string{
		dep(`,"version":"` + strings.Repeat("v", domain.MaxName) + `"`),
		dep(`,"version":"` + strings.Repeat("v", domain.MaxName+1) + `"`),
		dep(`,"pipeline_url":"` + strings.Repeat("u", domain.MaxText+1) + `"`),
		dep(`,"` + strings.Repeat("n", 300) + `":1`),
		dep(`,"changes":[` + strings.Repeat(item+",", 4200) + item + `]`), // over 1 MiB
		dep(`,"changes":[` + strings.Repeat(item+",", 4000) + item + `]`), // under
		dep(`,` + strings.Repeat(" ", 2<<20) + `"version":"1"`),           // a long line, a small record
	}
}

func TestSplitObjectMatchesParseJSON(t *testing.T) {
	for _, c := range splitCases {
		sameAsParseJSON(t, []byte(c))
	}
	for _, c := range boundCases() {
		sameAsParseJSON(t, []byte(c))
	}
	var buf bytes.Buffer
	if _, err := generate.Write(&buf, generate.Options{Seed: 3, Scale: 0.01, End: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	kinds := map[domain.Kind]bool{}
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if _, ok := splitObject(line, nil, nil); !ok {
			t.Fatalf("generated line left to the slow path: %s", line)
		}
		sameAsParseJSON(t, line)
		rec, err := parseLine(line, "", domain.ParseOptions{}, nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		kinds[rec.Kind()] = true
	}
	if len(kinds) < len(domain.Kinds)/2 {
		t.Errorf("generated data covers only %d kinds", len(kinds))
	}
}

func FuzzSplitObject(f *testing.F) {
	for _, c := range splitCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		sameAsParseJSON(t, line)
	})
}

// The name table interns what repeats and stops growing at maxNames, so
// input with endless distinct member names cannot grow it; names past the
// bound are still read right.
func TestNamesInternBounded(t *testing.T) {
	n := names{}
	a, b := n.intern([]byte("service")), n.intern([]byte("service"))
	if a != "service" || unsafe.StringData(a) != unsafe.StringData(b) {
		t.Fatalf("a repeated name was not interned: %q, %q", a, b)
	}
	for i := range 3 * maxNames {
		name := fmt.Sprintf("field%d", i)
		if got := n.intern([]byte(name)); got != name {
			t.Fatalf("intern(%q) = %q", name, got)
		}
	}
	if len(n) != maxNames {
		t.Fatalf("table holds %d names, want it bounded at %d", len(n), maxNames)
	}
	if got := names(nil).intern([]byte("id")); got != "id" {
		t.Fatalf("nil table: %q", got)
	}
}
