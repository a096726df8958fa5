package main

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
)

// The CLI's JSON is what json.Encoder with two spaces wrote before it was
// written by jsonenc, byte for byte: a value with its own AppendJSON (a
// metric page), a struct, a map and a list.
func TestWriteJSONOutAsTheEncoder(t *testing.T) {
	v := 0.25
	for _, x := range []any{
		&scorecard.MetricDetail{
			AsOf:    time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
			Card:    scorecard.Card{ID: "change_failure_rate", Value: &v},
			Records: []metrics.Ref{{Kind: "deployment", ID: "d<1>", Source: "github", Value: &v, Note: `a "note"`}},
		},
		&scorecard.Card{ID: "x", Value: &v, Owner: "é <b>"},
		map[string]any{"b": []int{1, 2}, "a": map[string]string{}, "c": nil},
		[]string{"one", "two\n"},
	} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(x); err != nil {
			t.Fatal(err)
		}
		env, out, _ := testEnv(nil)
		if err := writeJSONOut(env, x); err != nil {
			t.Fatal(err)
		}
		if got := out.String(); got != want.String() {
			t.Fatalf("%T:\ngot\n%s\nwant\n%s", x, got, want.String())
		}
	}
}
