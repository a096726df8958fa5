package retention

import (
	"context"
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/sqlite/sqlitetest"
)

// A customer with an active subscription keeps its identifier however old
// the subscription; one whose every record is past its period gets the
// keyed pseudonym, in each of its records; ticket text past its period is
// erased, a recent ticket's kept.
func TestWhoIsPseudonymised(t *testing.T) {
	ctx := context.Background()
	st := sqlitetest.Open(t)
	st.SetSealer(ledger.NewSealer(ed25519.NewKeyFromSeed(make([]byte, 32))))
	in := `{"kind":"subscription","id":"s1","customer":"acme","started_at":"2023-01-01T00:00:00Z","mrr":100}
{"kind":"subscription","id":"s2","customer":"globex","started_at":"2023-01-01T00:00:00Z","ended_at":"2024-01-01T00:00:00Z","mrr":50}
{"kind":"ticket","id":"t1","customer":"globex","created_at":"2023-06-01T00:00:00Z","text":"jane@globex.example cannot log in"}
{"kind":"ticket","id":"t2","customer":"initech","created_at":"2026-05-30T00:00:00Z","text":"recent"}
{"kind":"ticket","id":"t3","customer":"acme","created_at":"2023-05-30T00:00:00Z","text":"old"}
`
	if _, err := ingest.Import(ctx, st, []ingest.Source{{Name: "in.ndjson", Reader: strings.NewReader(in)}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	key := []byte("0123456789abcdef0123456789abcdef")
	rep, err := Apply(ctx, st, Policy{PersonalAfter: 365 * 24 * time.Hour, Key: key}, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), false)
	if err != nil {
		t.Fatal(err)
	}
	get := func(kind domain.Kind, id string) string {
		s, err := st.Get(ctx, domain.Key{Kind: kind, Source: "import", ID: id})
		if err != nil {
			t.Fatal(err)
		}
		return string(s.Body)
	}
	g := Pseudonym(key, "globex")
	if !strings.Contains(get(domain.KindSubscription, "s1"), `"customer":"acme"`) || !strings.Contains(get(domain.KindTicket, "t2"), `"text":"recent"`) ||
		!strings.Contains(get(domain.KindSubscription, "s2"), `"customer":"`+g+`"`) || !strings.Contains(get(domain.KindTicket, "t1"), `"customer":"`+g+`"`) ||
		strings.Contains(get(domain.KindTicket, "t1"), "jane") || strings.Contains(get(domain.KindTicket, "t3"), "old") {
		t.Errorf("after retention: %s %s %s %s %s", get(domain.KindSubscription, "s1"), get(domain.KindSubscription, "s2"), get(domain.KindTicket, "t1"), get(domain.KindTicket, "t2"), get(domain.KindTicket, "t3"))
	}
	if rep.Customers != 1 || rep.Rewritten != 3 {
		t.Errorf("report %+v, want globex pseudonymised and three records rewritten", rep)
	}
}
