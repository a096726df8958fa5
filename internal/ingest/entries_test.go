package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
)

func change(id string) *domain.Change {
	return &domain.Change{Meta: domain.Meta{ID: id, Source: "tool"}, Service: "api", MergedAt: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
}

func feedOf(entries ...Entry) func(add func(Entry) error) error {
	return func(add func(Entry) error) error {
		for _, e := range entries {
			if err := add(e); err != nil {
				return err
			}
		}
		return nil
	}
}

// Records a connector mapped land with their raw hash, all or nothing,
// and a second import of the same records changes nothing.
func TestImportEntries(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	raw := sha256.Sum256([]byte(`{"the":"source object"}`))
	bad := Entry{Problems: []LineError{{File: "scan.json", Path: "$.results[1]", Field: "ruleId", Reason: "required"}}}
	_, err := ImportEntries(ctx, st, Options{}, feedOf(Entry{Record: change("c1"), Raw: raw}, bad))
	var ie *InvalidError
	if !errors.As(err, &ie) || ie.Count != 1 {
		t.Fatalf("err = %v, want 1 invalid record", err)
	}
	if want := "scan.json: $.results[1]: field ruleId: required"; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not say %q", err, want)
	}
	if n := counts(t, st)[domain.KindChange]; n != 0 {
		t.Fatalf("%d changes stored by a refused import", n)
	}

	sum, err := ImportEntries(ctx, st, Options{SkipInvalid: true}, feedOf(Entry{Record: change("c1"), Raw: raw}, bad, Entry{Record: change("c2")}))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Inserted != 2 || sum.Invalid != 1 || len(sum.Skipped) != 1 {
		t.Fatalf("summary %+v", sum)
	}
	got, err := st.Get(ctx, domain.Key{Kind: domain.KindChange, Source: "tool", ID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	if got.RawHash != hex.EncodeToString(raw[:]) {
		t.Fatalf("raw hash %s, want the source object's", got.RawHash)
	}
	again, err := ImportEntries(ctx, st, Options{}, feedOf(Entry{Record: change("c1"), Raw: raw}, Entry{Record: change("c2")}))
	if err != nil {
		t.Fatal(err)
	}
	if again.Unchanged != 2 {
		t.Fatalf("re-import %+v, want 2 unchanged", again.WriteResult)
	}

	stop := errors.New("unreadable")
	if _, err := ImportEntries(ctx, st, Options{}, func(add func(Entry) error) error {
		add(Entry{Record: change("c3")})
		return stop
	}); !errors.Is(err, stop) {
		t.Fatalf("err = %v, want the feed's", err)
	}
	if _, err := st.Get(ctx, domain.Key{Kind: domain.KindChange, Source: "tool", ID: "c3"}); err == nil {
		t.Fatal("a record of a failed feed was stored")
	}
}
