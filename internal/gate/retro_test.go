package gate

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/metrics"
)

// TestRetroValidationClearsOverdue: an emergency change not validated
// 72 h after it finished counts in emergency_retro_overdue (red); a
// retro-validation takes it out, and a redelivery of the deployment
// (its record replaced, without retro_validated_at) keeps it out.
func TestRetroValidationClearsOverdue(t *testing.T) {
	ctx := context.Background()
	st := openDocs(t)
	put := func(status string) {
		t.Helper()
		line := `{"kind":"deployment","id":"hotfix-1","service":"checkout","environment":"production","finished_at":"2026-11-20T03:00:00Z","status":"` + status + `","emergency":true}` + "\n"
		if _, err := ingest.Import(ctx, st, []ingest.Source{{Name: "gh.ndjson", Reader: strings.NewReader(line)}}, ingest.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	put("success")
	eng := engine.New(st, metrics.DefaultConfig())
	overdue := func() (n float64, rel metrics.Release) {
		t.Helper()
		err := eng.Read(ctx, func(ds *metrics.Dataset) error {
			r, err := ds.Compute("emergency_retro_overdue", metrics.Query{AsOf: now, Window: 30 * 24 * time.Hour})
			if err != nil {
				return err
			}
			n = *r.Value
			rel = ds.EmergencyChanges(now)[0]
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return n, rel
	}
	if n, _ := overdue(); n != 1 {
		t.Fatalf("before validation: %v overdue, want 1", n)
	}
	p := Defaults(testCatalog(t))
	var v RetroValidation
	if err := eng.Read(ctx, func(ds *metrics.Dataset) error {
		var err error
		v, err = PrepareRetro(p, ds, "hotfix-1", "Reviewed in PIR-88", "SRE lead", now)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := RecordRetro(ctx, st, v); err != nil {
		t.Fatal(err)
	}
	n, rel := overdue()
	if n != 0 || rel.RetroValidatedAt == nil || !rel.RetroValidatedAt.Equal(now) {
		t.Errorf("after validation: %v overdue, validated %v", n, rel.RetroValidatedAt)
	}
	// Redelivered, changed: the deployment record is replaced.
	put("rolled_back")
	if n, rel := overdue(); n != 0 || rel.Status != "rolled_back" {
		t.Errorf("after redelivery: %v overdue (status %s), want 0", n, rel.Status)
	}
	// A second validation is refused; the record is not imported by anyone.
	if _, err := RecordRetro(ctx, st, v); domain.CodeOf(err) != domain.EConflict {
		t.Errorf("second: %v", err)
	}
	if err := eng.Read(ctx, func(ds *metrics.Dataset) error {
		_, err := PrepareRetro(p, ds, "import/hotfix-1", "again", "x", now.Add(time.Hour))
		return err
	}); domain.CodeOf(err) != domain.EConflict {
		t.Errorf("prepare again: %v", err)
	}
}
