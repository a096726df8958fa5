package web

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// jsonIndent is what the API answered with before jsonenc.AppendIndent, and
// what it must still answer byte for byte.
func jsonIndent(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type rawer struct{}

// MarshalJSON answers with spaces and newlines, which json.Marshal
// compacts before jsonenc.AppendIndent sees them.
func (rawer) MarshalJSON() ([]byte, error) {
	return []byte("{ \"a\" : [ 1 , {} , [ ] ],\n \"b\":\"x\\\"y\" }"), nil
}

func TestWriteJSONIndentsAsTheEncoder(t *testing.T) {
	cases := map[string]any{
		"empty object":   map[string]any{},
		"empty array":    []int{},
		"nil slice":      []int(nil),
		"null":           nil,
		"number":         42.5,
		"string":         "plain",
		"bool":           true,
		"nested empties": map[string]any{"a": map[string]any{}, "b": []any{}, "c": []any{map[string]any{}, []any{}}},
		"deep":           map[string]any{"a": []any{1, []any{2, []any{3, map[string]any{"b": []any{}}}}}},
		// Punctuation, quotes and backslashes inside strings and names
		// must pass through untouched, escaped quotes not end the string.
		"punctuation in strings": map[string]any{
			`k{e}y[,]:"q"`:   `v,a:l{u}e[]`,
			`back\slash`:     `ends in a backslash \`,
			`two\\`:          `"\\"`,
			"quote at start": `"`,
			"escaped":        "tab\tnewline\nunicode é ✓ \u2028 <b>&amp;</b>",
		},
		"marshaler": map[string]any{"raw": rawer{}, "list": []rawer{{}, {}}},
		"struct": struct {
			Name  string            `json:"name"`
			When  time.Time         `json:"when"`
			Tags  []string          `json:"tags,omitempty"`
			Attrs map[string]string `json:"attrs"`
			Value *float64          `json:"value"`
		}{Name: "x", When: time.Date(2026, 12, 2, 17, 0, 0, 5, time.UTC), Attrs: map[string]string{"z": "", "a": "{}"}},
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) {
			want := jsonIndent(t, v)
			rec := httptest.NewRecorder()
			writeJSON(rec, 201, v)
			if rec.Code != 201 || rec.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("status %d, type %q", rec.Code, rec.Header().Get("Content-Type"))
			}
			if got := rec.Body.Bytes(); !bytes.Equal(got, want) {
				t.Fatalf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// BenchmarkWriteJSON: a metric page's answer of a few hundred KB, written
// as the API writes it and as json.Encoder indented it.
func BenchmarkWriteJSON(b *testing.B) {
	type rec struct {
		Kind, Source, ID, Service string
		At                        time.Time
		Fields                    map[string]any
	}
	var page struct {
		Metric  string         `json:"metric"`
		Value   float64        `json:"value"`
		Records []rec          `json:"records"`
		Extra   map[string]any `json:"extra"`
	}
	page.Metric = "change_failure_rate"
	for i := range 1000 {
		page.Records = append(page.Records, rec{"deployment", "github", "deploy-" + strings.Repeat("x", i%7), "payments",
			time.Unix(int64(i)*3600, 0).UTC(), map[string]any{"status": "success", "changes": []string{"a", "b"}, "note": `said "ok"`}})
	}
	b.Run("AppendIndent", func(b *testing.B) {
		for b.Loop() {
			writeJSON(httptest.NewRecorder(), 200, page)
		}
	})
	b.Run("json.Encoder", func(b *testing.B) {
		for b.Loop() {
			w := httptest.NewRecorder()
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			enc.Encode(page)
		}
	})
}

// The API writes a computed float as the decimal it stands for, not with
// float64's noise (2721.72, not 12 × 226.81's 2721.7200000000003); a
// stored record quoted in an answer keeps its bytes.
func TestWriteJSONTidiesFloats(t *testing.T) {
	v := struct {
		Value  float64         `json:"value"`
		Ratio  float64         `json:"ratio"`
		Record json.RawMessage `json:"record"`
	}{12 * 226.81, 5.0 / 30, json.RawMessage(`{"hours":4.704750000000001}`)}
	rec := httptest.NewRecorder()
	writeJSON(rec, 200, v)
	want := "{\n  \"value\": 2721.72,\n  \"ratio\": 0.16666666666666666,\n  \"record\": {\n    \"hours\": 4.704750000000001\n  }\n}\n"
	if got := rec.Body.String(); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}
