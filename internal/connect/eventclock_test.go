package connect

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/sqlite"
	"github.com/candor/candor/internal/store"
)

// countingDocs counts a store's document reads by key and by prefix.
type countingDocs struct {
	*sqlite.DB
	byKey, byPrefix int
}

func (c *countingDocs) DocByKey(ctx context.Context, collection, key string) (store.Doc, bool, error) {
	c.byKey++
	return c.DB.DocByKey(ctx, collection, key)
}

func (c *countingDocs) DocsByKeyPrefix(ctx context.Context, collection, prefix string, after int64, limit int) ([]store.Doc, error) {
	c.byPrefix++
	return c.DB.DocsByKeyPrefix(ctx, collection, prefix, after, limit)
}

// A record's event clock is read in one read of its key prefix, where
// probing took ~2·log₂ n reads a step; an id extending another's with "#"
// ("A#1" beside "A") is told apart, and one whose prefix the other's
// documents flood is probed as before.
func TestEventClockInOneRead(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	base := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	put := func(key string, at time.Time) {
		t.Helper()
		if _, _, err := db.AppendDocOnce(ctx, eventClocks, key, []byte(fmt.Sprintf(`{"at":%q}`, at.Format(time.RFC3339)))); err != nil {
			t.Fatal(err)
		}
	}
	for n := 1; n <= 5; n++ {
		put(fmt.Sprintf("pd/incident/A#%d", n), base.Add(time.Duration(n)*time.Hour))
	}
	put("pd/incident/A#1#1", base.Add(time.Minute)) // the record "A#1", newer than A's
	put("pd/incident/B#1", base)
	for n := 1; n <= clockPrefixRead+1; n++ {
		put(fmt.Sprintf("pd/incident/B#%d#1", n), base) // records "B#1" … after B's
	}
	c := &countingDocs{DB: db}
	s := &state{st: c, source: "pd"}
	for _, tc := range []struct {
		id           string
		n            int
		at           time.Time
		byKey, reads int
	}{
		{"A", 5, base.Add(5 * time.Hour), 0, 1},
		{"A#1", 1, base.Add(time.Minute), 0, 1},
		{"none", 0, time.Time{}, 0, 1},
		// B's own document lies past a page of B#k's: probed.
		{"B", 1, base, 2, 1},
	} {
		c.byKey, c.byPrefix = 0, 0
		got, err := s.clock(ctx, domain.KindIncident, tc.id)
		if err != nil || got.n != tc.n || !got.at.Equal(tc.at) {
			t.Errorf("%s: clock #%d at %v (%v), want #%d at %v", tc.id, got.n, got.at, err, tc.n, tc.at)
		}
		if c.byPrefix != tc.reads || c.byKey != tc.byKey {
			t.Errorf("%s: %d prefix reads and %d by key, want %d and %d", tc.id, c.byPrefix, c.byKey, tc.reads, tc.byKey)
		}
	}
}

// newest, the ordering Jira's issues and Zendesk's tickets share: a newer
// event advances the clock (a document for the build's transaction), one
// as old as the newest is applied again without one, an older one is
// ignored with the reason, and one without a time is never older.
func TestNewestOrdersWholeRecordEvents(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	nine := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	if _, _, err := db.AppendDocOnce(ctx, eventClocks, "zendesk/ticket/9100#1", []byte(`{"at":"2026-12-05T09:00:00Z"}`)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		at   time.Time
		why  string
		docs int
	}{
		{"older", nine.Add(-time.Hour), "an older event (2026-12-05T08:00:00Z) than the one ticket 9100 already holds (2026-12-05T09:00:00Z): the newer one stands", 0},
		{"as old", nine, "", 0},
		{"no time", time.Time{}, "", 0},
		{"newer", nine.Add(time.Hour), "", 1},
	} {
		s := &state{st: db, source: "zendesk"}
		why, err := s.newest(ctx, domain.KindTicket, "9100", tc.at)
		if err != nil || why != tc.why || len(s.docs) != tc.docs {
			t.Errorf("%s: %q, %d clock documents (%v); want %q, %d", tc.name, why, len(s.docs), err, tc.why, tc.docs)
		}
		if tc.docs == 1 && s.docs[0].Key != "zendesk/ticket/9100#2" {
			t.Errorf("%s: the clock advanced to %s, want zendesk/ticket/9100#2", tc.name, s.docs[0].Key)
		}
	}
}
