package insight

import (
	"cmp"
	"slices"
	"strings"
	"unicode"

	"github.com/candor/candor/internal/metrics"
)

// Voice of the customer (SPEC §7): the key phrases of ticket text in a
// period that stand out against a baseline period. A phrase is one or two
// neighbouring words once stop words are dropped, each word stemmed; a
// ticket counts a phrase once. Lift is the share of the period's tickets
// holding it over the baseline's share (with half a ticket added, so a
// phrase new in the period has a finite lift). Text erased by retention is
// empty in the store and so never read; the output names ticket ids only.

// Theme is one key phrase.
type Theme struct {
	Phrase   string   `json:"phrase"`
	Stem     string   `json:"stem"`
	Tickets  int      `json:"tickets"`
	Share    float64  `json:"share"`
	Baseline int      `json:"baseline_tickets"`
	Lift     float64  `json:"lift"`
	Examples []string `json:"examples"`
}

// ThemeOptions bound a theme analysis; zero fields take the defaults.
type ThemeOptions struct {
	MinTickets int // fewest tickets holding a phrase (3)
	MinLift    float64
	Top        int // themes returned (10)
}

// Text reads a ticket's text ("" when it has none or it was erased).
type Text func(metrics.TicketRef) string

// Themes ranks the phrases of the period's tickets by lift against the
// baseline's.
func Themes(period, baseline []metrics.TicketRef, text Text, opt ThemeOptions) []Theme {
	if opt.MinTickets <= 0 {
		opt.MinTickets = 3
	}
	if opt.MinLift <= 0 {
		opt.MinLift = 1.5
	}
	if opt.Top <= 0 {
		opt.Top = 10
	}
	type acc struct {
		n        int
		surface  map[string]int
		examples []string
	}
	cur := map[string]*acc{}
	nCur := 0
	for _, t := range period {
		words := text(t)
		if words == "" {
			continue
		}
		nCur++
		for stem, surface := range phrases(words) {
			a := cur[stem]
			if a == nil {
				a = &acc{surface: map[string]int{}}
				cur[stem] = a
			}
			a.n++
			a.surface[surface]++
			if len(a.examples) < 3 {
				a.examples = append(a.examples, t.Source+"/"+t.ID)
			}
		}
	}
	base := map[string]int{}
	nBase := 0
	for _, t := range baseline {
		words := text(t)
		if words == "" {
			continue
		}
		nBase++
		for stem := range phrases(words) {
			if cur[stem] != nil {
				base[stem]++
			}
		}
	}
	out := []Theme{}
	for stem, a := range cur {
		if a.n < opt.MinTickets {
			continue
		}
		share := float64(a.n) / float64(nCur)
		lift := share / ((float64(base[stem]) + 0.5) / float64(nBase+1))
		if lift < opt.MinLift {
			continue
		}
		out = append(out, Theme{Phrase: mostCommon(a.surface), Stem: stem, Tickets: a.n, Share: share, Baseline: base[stem], Lift: lift, Examples: a.examples})
	}
	slices.SortFunc(out, func(x, y Theme) int {
		return cmp.Or(cmp.Compare(y.Lift, x.Lift), cmp.Compare(y.Tickets, x.Tickets), cmp.Compare(x.Stem, y.Stem))
	})
	// A two-word phrase and its words often rise together: keep the
	// phrase and drop a word that adds no ticket of its own.
	kept := out[:0]
	for _, th := range out {
		covered := false
		for _, k := range kept {
			if strings.Contains(" "+k.Stem+" ", " "+th.Stem+" ") && k.Tickets >= th.Tickets {
				covered = true
				break
			}
		}
		if !covered {
			kept = append(kept, th)
		}
	}
	if len(kept) > opt.Top {
		kept = kept[:opt.Top]
	}
	return kept
}

func mostCommon(m map[string]int) string {
	best, n := "", -1
	for s, c := range m {
		if c > n || c == n && s < best {
			best, n = s, c
		}
	}
	return best
}

// phrases returns a text's phrases, stem → the words as written.
func phrases(text string) map[string]string {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' })
	out := map[string]string{}
	var prev, prevStem string
	for _, w := range words {
		w = strings.Trim(w, "'")
		if len(w) < 3 || stopWords[w] {
			prev, prevStem = "", ""
			continue
		}
		s := stem(w)
		out[s] = w
		if prevStem != "" {
			out[prevStem+" "+s] = prev + " " + w
		}
		prev, prevStem = w, s
	}
	return out
}

// stem strips common English suffixes (a small Porter-style stemmer:
// plurals, -ed, -ing, -ly, -ment, -ness, -ation, -ful), so that "failing",
// "failed" and "fails" are one word.
func stem(w string) string {
	w = strip(w)
	// A final e goes (Porter's step 5), so "decline" meets "declined".
	if len(w) > 4 && strings.HasSuffix(w, "e") {
		w = w[:len(w)-1]
	}
	return w
}

func strip(w string) string {
	for _, r := range []struct{ suffix, with string }{
		{"ational", "ate"}, {"ation", "ate"}, {"fulness", "ful"}, {"ness", ""}, {"ment", ""},
		{"ingly", ""}, {"edly", ""}, {"ies", "y"}, {"ied", "y"}, {"ing", ""}, {"sses", "ss"}, {"ed", ""}, {"ly", ""}, {"es", "e"}, {"s", ""},
	} {
		if strings.HasSuffix(w, r.suffix) && len(w)-len(r.suffix) >= 3 && !(r.suffix == "s" && strings.HasSuffix(w, "ss")) {
			w = w[:len(w)-len(r.suffix)] + r.with
			// A doubled final consonant left by -ing/-ed (stopped → stopp) is one.
			if n := len(w); (r.suffix == "ing" || r.suffix == "ed") && n >= 2 && w[n-1] == w[n-2] && !strings.ContainsRune("aeiouls", rune(w[n-1])) {
				w = w[:n-1]
			}
			return w
		}
	}
	return w
}

var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a about above after again against all also am an and any are aren't as at be because been before
		being below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each few for from
		further had hadn't has hasn't have haven't having he her here hers herself him himself his how i i'm if in into is isn't it it's its
		itself just let's me more most mustn't my myself no nor not now of off on once only or other ought our ours ourselves out over own
		please same shan't she should shouldn't since so some still such than thank thanks that that's the their theirs them themselves then
		there there's these they they're this those through to too under until up us very was wasn't we we're were weren't what when where
		which while who whom why will with won't would wouldn't you you're your yours yourself yourselves hi hello team get got getting
		since today yesterday again ever anyone someone something`) {
		m[w] = true
	}
	return m
}()
