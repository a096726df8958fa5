package adoption

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/candor/candor/internal/plural"
	"github.com/candor/candor/internal/store"
)

// Counts are the adoption counts of the weeks From ≤ week < To, as kept:
// per week, person, route and metric or view, how many opens.
type Counts struct {
	From  string  `json:"from_week"`
	To    string  `json:"to_week"`
	Opens []Count `json:"opens"`
	// Weeks totals each week that has opens, in order.
	Weeks []WeekTotal `json:"weeks"`
}

// Count is one kept count.
type Count struct {
	Week    string `json:"week"`
	Who     string `json:"who"` // "" once retention forgot who
	Page    string `json:"page"`
	Subject string `json:"subject,omitempty"`
	Opens   int64  `json:"opens"`
}

// WeekTotal is a week's opens, the people (users) who opened something
// and, apart, the API tokens that did: a token is no person, and the
// review counts people alone.
type WeekTotal struct {
	Week    string `json:"week"`
	Opens   int64  `json:"opens"`
	Openers int    `json:"openers"`
	Tokens  int    `json:"token_openers"`
}

// isPerson says whether who, as the counts keep it, is a person: a user,
// or a token acting for one (auth.Person records its user). A bare
// token, "token:NAME", is a script's.
func isPerson(who string) bool { return strings.HasPrefix(who, "user:") }

// Span returns the bounds of the weeks holding from and to, both
// included: from's Monday and the Monday after to's. A zero to is now; a
// zero from is QuarterWeeks-1 weeks before to, the review's quarter.
func Span(from, to, now time.Time) (string, string, error) {
	if to.IsZero() {
		to = now
	}
	if from.IsZero() {
		from = to.AddDate(0, 0, -7*(QuarterWeeks-1))
	}
	if to.Before(from) {
		return "", "", fmt.Errorf("to (%s) is before from (%s)", to.Format(time.DateOnly), from.Format(time.DateOnly))
	}
	return Week(from), weekStart(to).AddDate(0, 0, 7).Format(time.DateOnly), nil
}

// LoadCounts reads the counts of the weeks from ≤ week < to (Span).
func LoadCounts(ctx context.Context, st store.AdoptionStore, from, to string) (*Counts, error) {
	opens, err := st.Opens(ctx, from, to)
	if err != nil {
		return nil, err
	}
	c := &Counts{From: from, To: to, Opens: make([]Count, 0, len(opens)), Weeks: []WeekTotal{}}
	people := map[string]bool{}
	for _, o := range opens {
		c.Opens = append(c.Opens, Count{Week: o.Week, Who: o.Who, Page: o.Page, Subject: o.Subject, Opens: o.Count})
		if n := len(c.Weeks); n == 0 || c.Weeks[n-1].Week != o.Week {
			c.Weeks = append(c.Weeks, WeekTotal{Week: o.Week})
			clear(people)
		}
		wt := &c.Weeks[len(c.Weeks)-1]
		wt.Opens += o.Count
		if o.Who != "" && !people[o.Who] {
			people[o.Who] = true
			if isPerson(o.Who) {
				wt.Openers++
			} else {
				wt.Tokens++
			}
		}
	}
	return c, nil
}

// Text renders the counts for people: each week's totals, then its rows.
func (c *Counts) Text() string {
	var b strings.Builder
	// To is the Monday after the last week counted (the JSON keeps it
	// so, as the review's): the text names the last week itself, where
	// it had named a week not yet begun.
	last := c.To
	if t, err := time.Parse(time.DateOnly, c.To); err == nil {
		last = t.AddDate(0, 0, -7).Format(time.DateOnly)
	}
	fmt.Fprintf(&b, "Adoption, weeks %s to %s (each named by its Monday)\n", c.From, last)
	if len(c.Opens) == 0 {
		b.WriteString("\nNo opens counted.\n")
	}
	i := 0
	for _, wt := range c.Weeks {
		by := plural.Counts(wt.Openers, "person", "people")
		if wt.Tokens > 0 {
			by += " and " + plural.Count(int64(wt.Tokens), "API token")
		}
		fmt.Fprintf(&b, "\nWeek %s: %s by %s\n", wt.Week, plural.Count(wt.Opens, "open"), by)
		for ; i < len(c.Opens) && c.Opens[i].Week == wt.Week; i++ {
			o := c.Opens[i]
			who := o.Who
			if who == "" {
				who = "(forgotten)"
			}
			fmt.Fprintf(&b, "  %6d  %-28s %-32s %s\n", o.Opens, who, o.Page, o.Subject)
		}
	}
	return b.String()
}
