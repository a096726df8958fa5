package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/candor/candor/internal/store"
)

// plainDocs hides a store's readers but the DocStore's own, so the store
// package's reads from the whole collection answer: what the indexed
// reads must give.
type plainDocs struct{ store.DocStore }

// runDocFields is the contract of store.DocFieldReader: documents read by
// an indexed field of their JSON body give what reading the whole
// collection and looking at each gives.
func runDocFields(t *testing.T, open Factory) {
	ctx := context.Background()
	service, verdict, at := store.GateDecisionService, store.GateDecisionVerdict, store.GateDecisionAt
	decision := func(svc, v, when string) string {
		return fmt.Sprintf(`{"decision":%q,"release":{"service":%q,"version":"1"},"at":%q}`, v, svc, when)
	}

	t.Run("ByField", func(t *testing.T) {
		s := open(t)
		r, ok := s.(store.DocFieldReader)
		if !ok {
			t.Fatalf("%T does not read documents by a field", s)
		}
		// A body of another collection need not be JSON.
		appendDoc(t, s, "other", "not JSON")
		var ids []int64
		for i, svc := range []string{"a", "b", "a", `q"uote`, "a", "", "ä", "B"} {
			ids = append(ids, appendDoc(t, s, service.Collection, decision(svc, "pass", "2026-12-06T12:00:00Z")).ID)
			if i == 3 {
				appendDoc(t, s, "gate_approval", decision("a", "pass", "2026-12-06T12:00:00Z"))
				appendOnce(t, s, service.Collection, "k", `{"release":{"version":"no service"}}`)
			}
		}
		for _, c := range []struct {
			value  string
			before int64
			limit  int
			want   []int64
		}{
			{"a", 0, 0, []int64{ids[4], ids[2], ids[0]}}, {"a", ids[4], 0, []int64{ids[2], ids[0]}}, {"a", 0, 2, []int64{ids[4], ids[2]}},
			{`q"uote`, 0, 0, []int64{ids[3]}}, {"", 0, 0, []int64{ids[5]}}, {"A", 0, 0, nil}, {"ä", 0, 0, []int64{ids[6]}},
		} {
			got, err := r.DocsByField(ctx, service, c.value, c.before, c.limit)
			if err != nil || fmt.Sprint(docIDs(got)) != fmt.Sprint(c.want) {
				t.Errorf("DocsByField(%q, %d, %d) = %v (%v), want %v", c.value, c.before, c.limit, docIDs(got), err, c.want)
			}
			whole, err := store.DocsByField(ctx, plainDocs{s}, service, c.value, c.before, c.limit)
			if err != nil || bodies(whole) != bodies(got) {
				t.Errorf("DocsByField(%q, %d, %d): %s read by the index, %s from the whole collection", c.value, c.before, c.limit, bodies(got), bodies(whole))
			}
		}
		got, err := r.DocFieldValues(ctx, service)
		if want := `["" "B" "a" "b" "q\"uote" "ä"]`; err != nil || fmt.Sprintf("%q", got) != want {
			t.Errorf("DocFieldValues = %q (%v), want %s", got, err, want)
		}
		if whole, _ := store.DocFieldValues(ctx, plainDocs{s}, service); fmt.Sprint(whole) != fmt.Sprint(got) {
			t.Errorf("DocFieldValues: %q read by the index, %q from the whole collection", got, whole)
		}
		if _, err := r.DocsByField(ctx, store.DocField{Collection: "other", Path: "a"}, "x", 0, 0); err == nil {
			t.Error("a field no index holds was read")
		}
		if _, err := r.DocsByField(ctx, at, "x", 0, 0); err == nil {
			t.Error("a time was read as a string")
		}
	})

	// Escalated decisions that no approval keys by their id: not those an
	// approval answers, nor another verdict's.
	t.Run("Unanswered", func(t *testing.T) {
		s := open(t)
		var ids []int64
		for i := range 6 {
			v := "escalate"
			if i == 1 {
				v = "pass"
			}
			ids = append(ids, appendDoc(t, s, verdict.Collection, decision("a", v, "2026-12-06T12:00:00Z")).ID)
		}
		appendOnce(t, s, "gate_approval", fmt.Sprint(ids[2]), `{"verdict":"approved"}`)
		appendOnce(t, s, "gate_approval", fmt.Sprint(ids[4]), `{"verdict":"rejected"}`)
		appendOnce(t, s, "other", fmt.Sprint(ids[3]), `{}`)
		appendOnce(t, s, "gate_approval", "0"+fmt.Sprint(ids[5]), `{}`)
		got, err := s.(store.DocFieldReader).DocsUnanswered(ctx, verdict, "escalate", "gate_approval")
		if want := []int64{ids[5], ids[3], ids[0]}; err != nil || fmt.Sprint(docIDs(got)) != fmt.Sprint(want) {
			t.Errorf("DocsUnanswered = %v (%v), want %v", docIDs(got), err, want)
		}
		if whole, _ := store.DocsUnanswered(ctx, plainDocs{s}, verdict, "escalate", "gate_approval"); bodies(whole) != bodies(got) {
			t.Errorf("DocsUnanswered: %s read by the index, %s from the whole collection", bodies(got), bodies(whole))
		}
	})

	// A period is [from, to) to the nanosecond, whatever offset a time
	// was written with.
	t.Run("InPeriod", func(t *testing.T) {
		s := open(t)
		from := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		to := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		paris := time.FixedZone("CET", 3600)
		times := []time.Time{
			from.Add(-time.Nanosecond), from, from.Add(time.Millisecond / 3), to.Add(-time.Nanosecond), to,
			from.Add(-time.Hour).In(paris), from.Add(time.Hour).In(paris), to.Add(-time.Microsecond).In(paris), to.Add(time.Minute), from.Add(-48 * time.Hour),
		}
		var ids []int64
		for _, w := range times {
			ids = append(ids, appendDoc(t, s, at.Collection, decision("a", "pass", w.Format(time.RFC3339Nano))).ID)
		}
		got, err := s.(store.DocFieldReader).DocsInPeriod(ctx, at, from, to)
		if want := []int64{ids[7], ids[6], ids[3], ids[2], ids[1]}; err != nil || fmt.Sprint(docIDs(got)) != fmt.Sprint(want) {
			t.Errorf("DocsInPeriod = %v (%v), want %v", docIDs(got), err, want)
		}
		if whole, _ := store.DocsInPeriod(ctx, plainDocs{s}, at, from, to); bodies(whole) != bodies(got) {
			t.Errorf("DocsInPeriod: %s read by the index, %s from the whole collection", bodies(got), bodies(whole))
		}
		if _, err := s.(store.DocFieldReader).DocsInPeriod(ctx, service, from, to); err == nil {
			t.Error("a string was read as a time")
		}
	})
}

func docIDs(ds []store.Doc) []int64 {
	var out []int64
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}
