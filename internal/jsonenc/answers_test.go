package jsonenc_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/jsonenc"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/metrics/metricstest"
	"github.com/candor/candor/internal/scorecard"
)

// The API's answers are written here, not left to json.Marshal, and as
// json.Marshal writes them: scorecards of a generated organisation at
// several as_of, and every computed metric's page with a breakdown by
// each of its dimensions.
func TestAnswersAsMarshal(t *testing.T) {
	// A card with a MarshalJSON of its own is left out of every plan that
	// holds one: writing the scorecard took three times as long and ten
	// times the allocations when money was rounded that way (2026-12-06).
	for _, typ := range []reflect.Type{reflect.TypeFor[scorecard.Scorecard](), reflect.TypeFor[scorecard.Card](), reflect.TypeFor[scorecard.Pillar](), reflect.TypeFor[scorecard.Definition]()} {
		if !jsonenc.Planned(typ) {
			t.Fatalf("%v is left to json.Marshal", typ)
		}
	}
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	ds := metricstest.Generated(t, 0.02, end)
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	same := func(what string, v any) {
		t.Helper()
		got, err := jsonenc.Marshal(v)
		want, werr := json.Marshal(v)
		if err != nil || werr != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: jsonenc (%v)\n%s\njson.Marshal (%v)\n%s", what, err, got, werr, want)
		}
	}
	for _, asOf := range []time.Time{end, end.AddDate(0, -3, 0), end.AddDate(-2, 0, 0)} {
		sc := scorecard.Build(cat, ds, scorecard.Options{AsOf: asOf})
		same("scorecard as of "+asOf.String(), sc)
		pages := 0
		for i := range cat.Metrics {
			m := &cat.Metrics[i]
			if !scorecard.Computed(m) {
				continue
			}
			for _, by := range append([]string{""}, scorecard.Dims(m)...) {
				d, err := scorecard.Detail(cat, ds, m.ID, scorecard.Options{AsOf: asOf}, by, metrics.Scope{})
				if err != nil {
					t.Fatalf("%s by %q: %v", m.ID, by, err)
				}
				d.Page(ds, 0, 5)
				same(m.ID+" by "+by+" page", d) // by its AppendJSON
				same(m.ID+" by "+by, &d.Card)
				same(m.ID+" by "+by+" breakdown", d.Breakdown)
				same(m.ID+" by "+by+" definition", &d.Definition)
				pages++
			}
		}
		if pages < 50 {
			t.Fatalf("only %d metric pages", pages)
		}
	}
}

// BenchmarkScorecard: a scorecard of a generated organisation (~140 KB),
// written here and by json.Marshal.
func BenchmarkScorecard(b *testing.B) {
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	ds := metricstest.Generated(b, 0.1, end)
	cat, err := catalog.Default()
	if err != nil {
		b.Fatal(err)
	}
	sc := scorecard.Build(cat, ds, scorecard.Options{AsOf: end})
	var buf []byte
	b.Run("jsonenc", func(b *testing.B) {
		for b.Loop() {
			buf, _ = jsonenc.Append(buf[:0], sc)
		}
	})
	b.Run("answer", func(b *testing.B) {
		for b.Loop() {
			buf, _ = jsonenc.AppendAnswer(buf[:0], sc)
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		for b.Loop() {
			json.Marshal(sc)
		}
	})
}
