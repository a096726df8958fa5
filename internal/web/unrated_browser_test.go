package web

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/candor/candor/internal/browsertest"
	"github.com/candor/candor/internal/ingest"
)

// The data sources page, in the browser, says which money has no exchange
// rate and what it leaves without a value, whole at laptop and phone
// width: the demo's spend in euros had left CAC without a value and the
// page silent.
func TestBrowserSourcesSayMoneyWithoutARate(t *testing.T) {
	ctx := browsertest.New(t)
	s, base := newDemoServer(t, map[string][]string{"cfo@example.com": {"executive", "admin"}})
	const eur = `{"kind":"spend","id":"eu-mar","period_start":"2026-03-01T00:00:00Z","period_end":"2026-03-31T00:00:00Z","category":"marketing","amount":12000,"currency":"EUR"}
{"kind":"subscription","id":"eu-sub","customer":"eu-customer","started_at":"2026-03-02T00:00:00Z","mrr":450,"currency":"EUR"}
`
	if _, err := ingest.Import(context.Background(), s.Store, []ingest.Source{{Name: "eur.ndjson", Reader: strings.NewReader(eur)}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Engine.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	browserSignIn(t, ctx, base, "/sources?as_of=2026-03-31", "cfo@example.com", "#sec-unrated")
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`section[aria-labelledby="sec-unrated"]`)))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Money without an exchange rate", "spend: 1 record in EUR, which has no exchange rate into USD: Customer acquisition cost and CAC payback have no value",
		"subscription: 1 record in EUR", "add exchange_rates.EUR (how many USD one EUR is worth)"} {
		if !strings.Contains(text, want) {
			t.Errorf("the section lacks %q:\n%s", want, text)
		}
	}
	shoot(t, ctx, "sources-unrated")
}
