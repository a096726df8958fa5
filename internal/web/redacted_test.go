package web

import (
	"context"
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/retention"
)

// A record's page names the retention run whose rewrite its stored version
// is — the run's ledger entry and time — beside the raw input's hash it no
// longer gives; a record the run left alone names none.
func TestRecordPageNamesTheRetentionRun(t *testing.T) {
	e := newEnv(t, 0)
	const tickets = `{"kind":"ticket","id":"red-1","customer":"acme","text":"my card was charged twice","priority":"normal","created_at":"2026-03-02T10:00:00Z"}
`
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: tickets, status: 200})
	cl := e.sessionAs(t, "executive")
	if body := e.page(t, cl, "/records/ticket/import/red-1", 200); strings.Contains(body, "by retention on") {
		t.Fatalf("a record no run rewrote names one")
	}
	// The run is chained in the ledger, as a server's is.
	e.store.SetSealer(ledger.NewSealer(ed25519.NewKeyFromSeed(make([]byte, 32))))
	rep, err := retention.Apply(context.Background(), e.store, retention.Policy{PersonalAfter: 24 * time.Hour, Key: []byte("0123456789abcdef0123456789abcdef")}, time.Now(), false)
	if err != nil || rep.RewrittenSeqs == nil {
		t.Fatalf("retention: %+v, %v", rep, err)
	}
	body := e.page(t, cl, "/records/ticket/import/red-1", 200)
	if !strings.Contains(body, "<dt>Redacted</dt>") || !strings.Contains(body, "by retention on ") || !strings.Contains(body, "customer identifiers pseudonymised, personal text erased") {
		t.Errorf("the record page after retention does not name the run:\n%s", body[strings.Index(body, "Provenance"):][:min(1500, len(body)-strings.Index(body, "Provenance"))])
	}
}
