package jsonenc

import (
	"bytes"
	"encoding/json"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// randomValue builds a JSON-shaped value from r: nesting, empty and
// one-element containers, and strings full of the bytes that matter.
func randomValue(r *rand.Rand, depth int) any {
	const alphabet = `ab"\{}[],: é<>&` + "\n\t\x01"
	str := func() string {
		var b strings.Builder
		for n := r.IntN(6); n > 0; n-- {
			b.WriteString(string([]rune(alphabet)[r.IntN(len([]rune(alphabet)))]))
		}
		return b.String()
	}
	k := r.IntN(8)
	if depth > 4 {
		k %= 4
	}
	switch k {
	case 0:
		return str()
	case 1:
		return r.Float64() * 1e6
	case 2:
		return r.IntN(2) == 0
	case 3:
		return nil
	case 4, 5:
		m := map[string]any{}
		for n := r.IntN(4); n > 0; n-- {
			m[str()] = randomValue(r, depth+1)
		}
		return m
	default:
		a := []any{}
		for n := r.IntN(4); n > 0; n-- {
			a = append(a, randomValue(r, depth+1))
		}
		return a
	}
}

func TestAppendIndentMatchesJSONIndent(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 2026))
	for i := range 5000 {
		v := randomValue(r, 0)
		src, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if err := json.Indent(&want, src, "", "  "); err != nil {
			t.Fatal(err)
		}
		if got := AppendIndent(nil, src); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("value %d, %s:\ngot\n%s\nwant\n%s", i, src, got, want.Bytes())
		}
	}
}

func FuzzAppendIndent(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `{"a":[1,{},[]],"b":"x\"y\\"}`, `"\\\\\""`, `[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v any
		if json.Unmarshal([]byte(s), &v) != nil {
			return
		}
		src, err := json.Marshal(v)
		if err != nil {
			return
		}
		var want bytes.Buffer
		if err := json.Indent(&want, src, "", "  "); err != nil {
			t.Fatal(err)
		}
		if got := AppendIndent(nil, src); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("%s:\ngot\n%s\nwant\n%s", src, got, want.Bytes())
		}
	})
}

// answerLike is compact JSON shaped like the API's larger answers: a
// metric's page with a page of the records behind it.
func answerLike() []byte {
	type rec struct {
		Kind        string   `json:"kind"`
		ID          string   `json:"id"`
		Source      string   `json:"source"`
		Service     string   `json:"service"`
		Environment string   `json:"environment"`
		FinishedAt  string   `json:"finished_at"`
		Status      string   `json:"status"`
		Changes     []string `json:"changes"`
		LeadHours   float64  `json:"lead_time_hours"`
		Failed      bool     `json:"failed"`
		Note        string   `json:"note,omitempty"`
	}
	v := struct {
		ID      string             `json:"id"`
		Value   float64            `json:"value"`
		Series  []map[string]any   `json:"series"`
		Records []rec              `json:"records"`
		Detail  map[string]float64 `json:"detail"`
	}{ID: "change_failure_rate", Value: 0.1234, Detail: map[string]float64{"failed": 123, "total": 997}}
	for i := range 12 {
		v.Series = append(v.Series, map[string]any{"as_of": "2026-10-01T00:00:00Z", "value": float64(i) * 0.01, "count": 800 + i})
	}
	for i := range 500 {
		r := rec{Kind: "deployment", ID: "dep-" + strings.Repeat("7", i%9+1), Source: "github", Service: "payments-api",
			Environment: "production", FinishedAt: "2026-10-01T12:34:56.123Z", Status: "success",
			Changes: []string{"c-1029", "c-1030"}, LeadHours: float64(i) * 1.25, Failed: i%7 == 0}
		if i%10 == 0 {
			r.Note = `rolled back: "bad config" \ see runbook`
		}
		v.Records = append(v.Records, r)
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func BenchmarkAppendIndent(b *testing.B) {
	src := answerLike()
	var dst []byte
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		dst = AppendIndent(dst[:0], src)
	}
}

// A value indented at a depth is its indentation at the top with every
// line moved that many levels in.
func TestAppendIndentAtMovesEveryLine(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 2026))
	for i := range 2000 {
		src, err := json.Marshal(randomValue(r, 0))
		if err != nil {
			t.Fatal(err)
		}
		depth := i % 5
		want := strings.ReplaceAll(string(AppendIndent(nil, src)), "\n", "\n"+strings.Repeat("  ", depth))
		if got := string(AppendIndentAt(nil, src, depth)); got != want {
			t.Fatalf("%s at depth %d:\ngot\n%s\nwant\n%s", src, depth, got, want)
		}
	}
}

// AppendIndented writes a value without AppendJSONIndent compact into the
// scratch buffer and indents it from there.
func TestAppendIndented(t *testing.T) {
	var scratch []byte
	for _, v := range []any{map[string]any{"a": []int{1, 2}, "b": map[string]any{}}, []string{}, "x", nil} {
		raw, _ := json.Marshal(v)
		var want bytes.Buffer
		json.Indent(&want, raw, "", "  ")
		got, err := AppendIndented([]byte("> "), v, &scratch)
		if err != nil || string(got) != "> "+want.String() {
			t.Errorf("%v: %q (%v), want %q", v, got, err, "> "+want.String())
		}
	}
}

// writeBoth writes a JSON-shaped value with AppendKey, AppendElem and
// AppendEnd at depth (negative: compact), as a writer of both forms does.
func writeBoth(b []byte, v any, depth int) []byte {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			return append(b, "{}"...)
		}
		keys := slices.Sorted(maps.Keys(x))
		b = append(b, '{')
		for i, k := range keys {
			b = AppendKey(b, k, i == 0, depth)
			b = writeBoth(b, x[k], Inner(depth))
		}
		return AppendEnd(b, '}', depth)
	case []any:
		if len(x) == 0 {
			return append(b, "[]"...)
		}
		b = append(b, '[')
		for i, e := range x {
			b = AppendElem(b, i == 0, depth)
			b = writeBoth(b, e, Inner(depth))
		}
		return AppendEnd(b, ']', depth)
	}
	j, _ := json.Marshal(v)
	return append(b, j...)
}

// One writer with the helpers gives json.Marshal's bytes compact and
// AppendIndentAt's indented, at any depth.
func TestKeyElemEndWriteBothForms(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 2026))
	for i := range 2000 {
		v := randomValue(r, 0)
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := writeBoth(nil, v, -1); !bytes.Equal(got, want) {
			t.Fatalf("compact:\ngot  %s\nwant %s", got, want)
		}
		depth := i % 4
		if got, want := writeBoth(nil, v, depth), AppendIndentAt(nil, want, depth); !bytes.Equal(got, want) {
			t.Fatalf("at depth %d:\ngot\n%s\nwant\n%s", depth, got, want)
		}
	}
}
