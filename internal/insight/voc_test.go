package insight

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/candor/candor/internal/metrics"
)

func TestStem(t *testing.T) {
	for w, want := range map[string]string{"failing": "fail", "failed": "fail", "fails": "fail", "payments": "payment", "stopped": "stop",
		"retries": "retry", "slowly": "slow", "process": "process", "timeouts": "timeout", "declined": "declin", "declines": "declin", "decline": "declin"} {
		if got := stem(w); got != want {
			t.Errorf("stem(%q) = %q, want %q", w, got, want)
		}
	}
}

// themeTickets are n tickets of background complaints, and, when planted,
// m more saying the card was declined at checkout.
func themeTickets(seed uint64, prefix string, n, m int) ([]metrics.TicketRef, map[string]string) {
	rng := rand.New(rand.NewPCG(seed, 3))
	background := []string{"Cannot log in to my account", "Invoice shows the wrong amount", "Export to CSV is missing columns",
		"Search results are slow to load", "How do I change my password?", "Report page shows an error", "Notification emails arrive late"}
	var refs []metrics.TicketRef
	text := map[string]string{}
	for i := range n + m {
		id := fmt.Sprintf("%s%d", prefix, i)
		refs = append(refs, metrics.TicketRef{ID: id, Source: "zendesk"})
		if i < n {
			text[id] = background[rng.IntN(len(background))]
		} else {
			text[id] = []string{"Card declined at checkout", "My card was declined at checkout again", "Checkout declines every card"}[rng.IntN(3)]
		}
	}
	return refs, text
}

func TestThemes(t *testing.T) {
	base, bt := themeTickets(1, "b", 200, 0)
	cur, ct := themeTickets(2, "c", 60, 15)
	ct["c0"] = "" // erased by retention: not read
	text := func(r metrics.TicketRef) string { return bt[r.ID] + ct[r.ID] }
	th := Themes(cur, base, text, ThemeOptions{})
	planted := map[string]bool{"card": true, "checkout": true, "declin": true, "card declin": true, "checkout declin": true, "declin every": true, "every card": true}
	if len(th) == 0 || !planted[th[0].Stem] {
		t.Fatalf("planted theme not first: %+v", th)
	}
	found := false
	for _, x := range th {
		if !planted[x.Stem] {
			t.Errorf("a background phrase stands out: %+v", x)
		}
		found = found || x.Stem == "declin"
		if len(x.Examples) == 0 || x.Lift < 1.5 {
			t.Errorf("theme without examples or lift: %+v", x)
		}
	}
	if !found {
		t.Errorf("'declined' is not a theme: %+v", th)
	}
	// The same mix in both periods: nothing stands out.
	cur2, ct2 := themeTickets(3, "d", 75, 0)
	if th := Themes(cur2, base, func(r metrics.TicketRef) string { return bt[r.ID] + ct2[r.ID] }, ThemeOptions{}); len(th) != 0 {
		t.Errorf("themes without a planted one: %+v", th)
	}
}
