package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/generate"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/retention"
	"github.com/candor/candor/internal/scorecard"
)

// runImage is the contract of the dataset image on a store: the store's
// identity is kept in it and is its own, and an engine started from an
// image plus the rows written after it — new records, corrections, and
// retention's rewrite of personal data — serves what one started from
// the store alone serves, drill-down rows included.
func runImage(t *testing.T, open Factory) {
	t.Run("ImageStartMatchesStore", func(t *testing.T) {
		ctx := context.Background()
		s := sealed(open(t))
		id, err := engine.StoreIdentity(ctx, s, false)
		if err != nil || id != "" {
			t.Fatalf("identity of a new store: %q, %v", id, err)
		}
		end := time.Now().UTC().Truncate(24 * time.Hour)
		var buf bytes.Buffer
		if _, err := generate.Write(&buf, generate.Options{Seed: 2, Scale: 0.005, End: end, Days: 400}); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		half := len(lines) * 2 / 3
		put := func(ls []string) {
			t.Helper()
			if _, err := ingest.Import(ctx, s, []ingest.Source{{Name: "org.ndjson", Reader: strings.NewReader(strings.Join(ls, "\n"))}}, ingest.Options{}); err != nil {
				t.Fatal(err)
			}
		}
		put(lines[:half])
		path := filepath.Join(t.TempDir(), "candor.image")
		// A writer holding the data, as a server's leader: the dataset's
		// state is written beside the image.
		w := engine.New(s, metrics.DefaultConfig())
		w.Image = path
		if err := w.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		seq, err := w.WriteImage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		id, err = engine.StoreIdentity(ctx, s, true)
		if err != nil || len(id) != 32 {
			t.Fatalf("identity after an image: %q, %v", id, err)
		}
		if other, err := engine.StoreIdentity(ctx, open(t), true); err != nil || other == id {
			t.Fatalf("another store's identity %q (%v), this one's %q", other, err, id)
		}

		// After the image: the rest, corrections of rows it holds, and
		// retention rewriting personal data (new sequences, same keys).
		put(lines[half:])
		var fixes []string
		for _, l := range lines[:half:half] {
			if strings.Contains(l, `"status":"success"`) && len(fixes) < 30 {
				fixes = append(fixes, strings.Replace(l, `"status":"success"`, `"status":"failure"`, 1))
			}
		}
		put(fixes)
		policy := retention.Policy{PersonalAfter: 90 * 24 * time.Hour, Key: []byte("0123456789abcdef0123456789abcdef")}
		if rep, err := retention.Apply(ctx, s, policy, time.Now(), false); err != nil || rep.Rewritten == 0 {
			t.Fatalf("retention: %+v, %v", rep, err)
		}

		want := imageView(t, engine.New(s, metrics.DefaultConfig()), end)
		// From the dataset's state, then — the state gone — from the
		// image of the rows.
		for _, state := range []bool{true, false} {
			if !state {
				if err := os.Remove(strings.TrimSuffix(path, ".image") + ".dataset"); err != nil {
					t.Fatal(err)
				}
			}
			e := engine.New(s, metrics.DefaultConfig())
			e.Image = path
			got := imageView(t, e, end)
			if st := e.Status().Image; st == nil || !st.Used || st.StartSeq != seq || st.DatasetUsed != state {
				t.Fatalf("the start did not use the image of sequence %d (the state: %v): %+v", seq, state, st)
			}
			if got != want {
				i := 0
				for i < len(got) && i < len(want) && got[i] == want[i] {
					i++
				}
				t.Fatalf("started from the image (the state: %v), differs from the store at byte %d:\n…%s\nstore:\n…%s", state, i, got[max(0, i-200):min(len(got), i+200)], want[max(0, i-200):min(len(want), i+200)])
			}
		}
	})
}

// imageView is the scorecard and drill-downs whose rows show customers,
// services and statuses.
func imageView(t *testing.T, e *engine.Engine, asOf time.Time) string {
	t.Helper()
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	err = e.Read(context.Background(), func(ds *metrics.Dataset) error {
		opt := scorecard.Options{AsOf: asOf}
		parts := []any{scorecard.Build(cat, ds, opt)}
		for _, id := range []string{"change_failure_rate", "mrr", "sla_adherence", "funnel_conversion"} {
			d, err := scorecard.Detail(cat, ds, id, opt, metrics.Dims(id)[0], metrics.Scope{})
			if err != nil {
				return err
			}
			d.Page(ds, 0, 1<<20)
			parts = append(parts, d)
		}
		out, err = json.Marshal(parts)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
