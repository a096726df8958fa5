package annotation

import (
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/sqlite/sqlitetest"
	"github.com/candor/candor/internal/store"
)

var now = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func names(es []Entry) string {
	var out []string
	for _, e := range es {
		out = append(out, e.Name)
	}
	return strings.Join(out, ",")
}

// Posted annotations are merged with configured ones, a withdrawn one leaves the list, each
// step is chained in the ledger, and Overlapping picks the ones touching a period.
func TestAddWithdrawList(t *testing.T) {
	ctx := context.Background()
	st := sqlitetest.Open(t)
	st.SetSealer(ledger.NewSealer(ed25519.NewKeyFromSeed(make([]byte, 32))))
	configured := []catalog.Annotation{{Name: "Q4 freeze", Kind: "freeze", From: "2026-12-15", To: "2026-12-31"}}

	peak, err := Add(ctx, st, catalog.Annotation{Name: " Black Friday ", Kind: "peak_season", From: "2026-11-27", To: "2026-11-30", Scope: "team:checkout"}, "user:ann@example.com", now, nil)
	if err != nil || peak.ID == 0 || peak.Name != "Black Friday" || peak.Origin != FromAPI {
		t.Fatalf("Add = %+v, %v", peak, err)
	}
	launch, err := Add(ctx, st, catalog.Annotation{Name: "Launch", Kind: "launch", From: "2026-12-01", To: "2026-12-01"}, "user:bob@example.com", now, nil)
	if err != nil {
		t.Fatal(err)
	}
	all, err := List(ctx, st, configured)
	if err != nil || names(all) != "Black Friday,Launch,Q4 freeze" {
		t.Fatalf("List = %s, %v", names(all), err)
	}
	// The period [29 Nov, 2 Dec) touches Black Friday's last two days and the launch day.
	got, err := Overlapping(ctx, st, configured, time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC))
	if err != nil || names(got) != "Black Friday,Launch" {
		t.Fatalf("Overlapping = %s, %v", names(got), err)
	}
	// A period ending where the launch day starts does not touch it (half-open).
	got, _ = Overlapping(ctx, st, configured, time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	if names(got) != "Black Friday" {
		t.Fatalf("Overlapping up to the launch = %s", names(got))
	}

	w, err := Withdraw(ctx, st, launch.ID, "user:ann@example.com", now.Add(time.Hour))
	if err != nil || w.WithdrawnAt == nil || w.WithdrawnBy != "user:ann@example.com" {
		t.Fatalf("Withdraw = %+v, %v", w, err)
	}
	if _, err := Withdraw(ctx, st, launch.ID, "user:ann@example.com", now); domain.CodeOf(err) != domain.EConflict {
		t.Errorf("second withdrawal: %v, want a conflict", err)
	}
	if _, err := Withdraw(ctx, st, 99999, "x", now); domain.CodeOf(err) != domain.ENotFound {
		t.Errorf("unknown id: %v, want not found", err)
	}
	all, _ = List(ctx, st, configured)
	if names(all) != "Black Friday,Q4 freeze" {
		t.Errorf("after withdrawal List = %s", names(all))
	}
	stored, _ := Stored(ctx, st)
	if len(stored) != 2 || stored[1].WithdrawnAt == nil || stored[0].WithdrawnAt != nil {
		t.Errorf("Stored = %+v", stored)
	}

	// Two posts and a withdrawal: three ledger entries, the author kept as personal data.
	var rows []store.LedgerRow
	st.LedgerScan(ctx, 1, 0, func(r store.LedgerRow) error {
		if r.Type == ledger.TypeAnnotation {
			rows = append(rows, r)
		}
		return nil
	})
	if len(rows) != 3 || !strings.Contains(string(rows[0].Data), `"peak_season"`) || strings.Contains(string(rows[0].Data), "ann@") ||
		!strings.Contains(string(rows[2].Data), `"withdrawn"`) {
		t.Errorf("ledger annotation entries: %d %s", len(rows), func() string {
			var b strings.Builder
			for _, r := range rows {
				b.Write(r.Data)
			}
			return b.String()
		}())
	}
}

// A bad annotation names its field and stores nothing.
func TestAddRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	st := sqlitetest.Open(t)
	scopeErr := errors.New("unknown team \"nope\" (known: core)")
	for _, tt := range []struct {
		a     catalog.Annotation
		param string
		says  string
	}{
		// A missing date is required, not "not a date"; a span of a
		// century (a typo's 2099) or before 1970 is refused: it shaded
		// every chart and lifted "degrading" for good.
		{catalog.Annotation{Name: "x", Kind: "freeze", From: "2026-12-01"}, "to", "required"},
		{catalog.Annotation{Name: "x", Kind: "freeze", From: "1900-01-01", To: "2026-12-02"}, "from", "before 1970"},
		{catalog.Annotation{Name: "x", Kind: "freeze", From: "2026-01-01", To: "2099-12-31"}, "to", "at most 366 days"},
		{catalog.Annotation{Name: "x", Kind: "freeze", From: "2026-01-01", To: "2027-01-02"}, "to", "at most 366 days"},
		{catalog.Annotation{Kind: "freeze", From: "2026-12-01", To: "2026-12-02"}, "name", ""},
		{catalog.Annotation{Name: "x", Kind: "holiday", From: "2026-12-01", To: "2026-12-02"}, "kind", ""},
		{catalog.Annotation{Name: "x", Kind: "freeze", From: "1 Dec", To: "2026-12-02"}, "from", ""},
		{catalog.Annotation{Name: "x", Kind: "freeze", From: "2026-12-03", To: "2026-12-02"}, "to", ""},
		{catalog.Annotation{Name: "x", Kind: "freeze", From: "2026-12-01", To: "2026-12-02", Scope: "team:nope"}, "scope", ""},
	} {
		_, err := Add(ctx, st, tt.a, "x", now, func(string) error { return scopeErr })
		var de *domain.Error
		if !errors.As(err, &de) || de.Param != tt.param || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("%+v: err %v, want one naming %s saying %q", tt.a, err, tt.param, tt.says)
		}
	}
	if got, _ := Stored(ctx, st); len(got) != 0 {
		t.Errorf("stored %d after refusals", len(got))
	}
	// A year, leap day included, is a period.
	if _, err := Add(ctx, st, catalog.Annotation{Name: "FY", Kind: "other", From: "2028-01-01", To: "2028-12-31"}, "x", now, nil); err != nil {
		t.Errorf("a leap year: %v", err)
	}
	if got, _ := Stored(ctx, st); len(got) != 1 {
		t.Errorf("stored %d after refusals", len(got))
	}
}
