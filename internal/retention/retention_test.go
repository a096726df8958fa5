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
	in := `{"kind":"subscription","id":"s1","customer":"acme","started_at":"2023-01-01T00:00:00Z","mrr":100}
{"kind":"subscription","id":"s2","customer":"globex","started_at":"2023-01-01T00:00:00Z","ended_at":"2024-01-01T00:00:00Z","mrr":50}
{"kind":"ticket","id":"t1","customer":"globex","created_at":"2023-06-01T00:00:00Z","text":"jane@globex.example cannot log in"}
{"kind":"ticket","id":"t2","customer":"initech","created_at":"2026-05-30T00:00:00Z","text":"recent"}
{"kind":"ticket","id":"t3","customer":"acme","created_at":"2023-05-30T00:00:00Z","text":"old"}
`
	rep, get := importAndApply(t, in)
	g := Pseudonym(testKey, "globex")
	if !strings.Contains(get(domain.KindSubscription, "s1"), `"customer":"acme"`) || !strings.Contains(get(domain.KindTicket, "t2"), `"text":"recent"`) ||
		!strings.Contains(get(domain.KindSubscription, "s2"), `"customer":"`+g+`"`) || !strings.Contains(get(domain.KindTicket, "t1"), `"customer":"`+g+`"`) ||
		strings.Contains(get(domain.KindTicket, "t1"), "jane") || strings.Contains(get(domain.KindTicket, "t3"), "old") {
		t.Errorf("after retention: %s %s %s %s %s", get(domain.KindSubscription, "s1"), get(domain.KindSubscription, "s2"), get(domain.KindTicket, "t1"), get(domain.KindTicket, "t2"), get(domain.KindTicket, "t3"))
	}
	if rep.Customers != 1 || rep.Rewritten != 3 {
		t.Errorf("report %+v, want globex pseudonymised and three records rewritten", rep)
	}
}

// A measurement's customer is personal (SPEC §6): it takes the same
// pseudonym as the customer's other records once every record naming the
// customer is past its period, and a recent measurement keeps its
// customer's name — in its other records too, so no grouping is split.
func TestMeasurementCustomerPseudonymised(t *testing.T) {
	in := `{"kind":"measurement","id":"m1","metric":"feature_adoption","at":"2023-06-01T00:00:00Z","value":42,"customer":"globex","unit":"%"}
{"kind":"ticket","id":"t1","customer":"globex","created_at":"2023-06-01T00:00:00Z"}
{"kind":"measurement","id":"m2","metric":"feature_adoption","at":"2023-06-01T00:00:00Z","value":7,"customer":"initech"}
{"kind":"measurement","id":"m3","metric":"feature_adoption","at":"2026-05-01T00:00:00Z","value":9,"customer":"initech"}
{"kind":"measurement","id":"m4","metric":"team_health","at":"2023-06-01T00:00:00Z","value":4}
`
	rep, get := importAndApply(t, in)
	g := Pseudonym(testKey, "globex")
	for _, c := range []struct {
		kind     domain.Kind
		id, want string
	}{
		{domain.KindMeasurement, "m1", `"customer":"` + g + `"`},
		{domain.KindTicket, "t1", `"customer":"` + g + `"`},
		{domain.KindMeasurement, "m2", `"customer":"initech"`},
		{domain.KindMeasurement, "m3", `"customer":"initech"`},
	} {
		if body := get(c.kind, c.id); !strings.Contains(body, c.want) {
			t.Errorf("%s %s after retention: %s, want %s", c.kind, c.id, body, c.want)
		}
	}
	// The value and the rest of the reading stay as they were.
	if body := get(domain.KindMeasurement, "m1"); !strings.Contains(body, `"value":42`) || !strings.Contains(body, `"unit":"%"`) {
		t.Errorf("m1 after retention: %s", body)
	}
	if rep.Customers != 1 || rep.Pseudonymised[domain.KindMeasurement] != 1 || rep.Rewritten != 2 {
		t.Errorf("report %+v, want globex pseudonymised in one measurement and one ticket", rep)
	}
}

var testKey = []byte("0123456789abcdef0123456789abcdef")

// importAndApply imports the NDJSON records into a new store and applies
// a one-year period as of 2026-06-01; get reads a record's stored body.
func importAndApply(t *testing.T, in string) (rep *Report, get func(kind domain.Kind, id string) string) {
	t.Helper()
	ctx := context.Background()
	st := sqlitetest.Open(t)
	st.SetSealer(ledger.NewSealer(ed25519.NewKeyFromSeed(make([]byte, 32))))
	if _, err := ingest.Import(ctx, st, []ingest.Source{{Name: "in.ndjson", Reader: strings.NewReader(in)}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	rep, err := Apply(ctx, st, Policy{PersonalAfter: 365 * 24 * time.Hour, Key: testKey}, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), false)
	if err != nil {
		t.Fatal(err)
	}
	return rep, func(kind domain.Kind, id string) string {
		t.Helper()
		s, err := st.Get(ctx, domain.Key{Kind: kind, Source: "import", ID: id})
		if err != nil {
			t.Fatal(err)
		}
		return string(s.Body)
	}
}
