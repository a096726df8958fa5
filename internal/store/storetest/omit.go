package storetest

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/candor/candor/internal/store"
)

// runDocsOmitting is the contract of store.DocsOmittingReader: documents
// read without some fields give what reading the whole collection and
// removing them gives, and the sized field's length in bytes.
func runDocsOmitting(t *testing.T, open Factory) {
	ctx := context.Background()
	s := open(t)
	r, ok := s.(store.DocsOmittingReader)
	if !ok {
		t.Fatalf("%T does not read documents without fields", s)
	}
	appendDoc(t, s, "other", "not JSON")
	var want []int64
	// Every padding of base64 (sizes 0 to 5), a file of some size, none,
	// null, and values a store's JSON might rewrite (numbers, escapes).
	for _, n := range []int{0, 1, 2, 3, 4, 5, 70001, -1, -2} {
		var pdf any
		switch n {
		case -1:
		case -2:
			pdf = nil
		default:
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(i * 7)
			}
			pdf = b
		}
		body := map[string]any{"kind": "board", "month": "2026-11", "n": 1.5e-7, "big": 12345678901234567, "s": `<&> "é" \`,
			"definitions": []map[string]any{{"metric": "arr", "version": 2}}, "messages": []map[string]any{{"to": "a@b", "eml": []byte("x")}}}
		if n != -1 {
			body["pdf"] = pdf
		}
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		if n == 3 {
			d, _ := appendOnce(t, s, "report", "board|2026-11", string(raw))
			want = append(want, d.ID)
			continue
		}
		want = append(want, appendDoc(t, s, "report", string(raw)).ID)
	}
	omit := []string{"pdf", "messages"}
	got, err := r.DocsOmitting(ctx, "report", omit, "pdf")
	if err != nil {
		t.Fatal(err)
	}
	whole, err := store.DocsOmitting(ctx, plainDocs{s}, "report", omit, "pdf")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(whole) != len(want) {
		t.Fatalf("%d documents read without fields, %d from the whole collection, want %d", len(got), len(whole), len(want))
	}
	sizes := []int{0, 0, 70001, 5, 4, 3, 2, 1, 0} // newest first
	for i, d := range got {
		w := whole[i]
		var a, b any
		if err := json.Unmarshal(d.Body, &a); err != nil {
			t.Fatalf("document %d: %v: %s", d.ID, err, d.Body)
		}
		if err := json.Unmarshal(w.Body, &b); err != nil {
			t.Fatal(err)
		}
		if d.ID != want[len(want)-1-i] || d.ID != w.ID || d.Key != w.Key || !d.CreatedAt.Equal(w.CreatedAt) || d.Collection != "report" {
			t.Errorf("document %d: %d %q %v, from the whole collection %d %q %v", i, d.ID, d.Key, d.CreatedAt, w.ID, w.Key, w.CreatedAt)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("document %d read without fields: %s; from the whole collection: %s", d.ID, d.Body, w.Body)
		}
		if d.Size != sizes[i] || w.Size != sizes[i] {
			t.Errorf("document %d: size %d, from the whole collection %d, want %d", d.ID, d.Size, w.Size, sizes[i])
		}
	}
	if k := got[len(got)-1-3].Key; k != "board|2026-11" {
		t.Errorf("the keyed document's key is %q", k)
	}
	for _, bad := range [][]string{{"pdf", "a.b"}, {"pdf", "x'); DROP"}, {""}} {
		if _, err := r.DocsOmitting(ctx, "report", bad, "pdf"); err == nil {
			t.Errorf("DocsOmitting(%q) read", bad)
		}
	}
	if _, err := r.DocsOmitting(ctx, "report", omit, "kind"); err == nil {
		t.Error("DocsOmitting sized by kind, not omitted, read")
	}
}
