package catalog

import (
	"slices"
	"strings"
	"unicode"

	"github.com/candor/candor/internal/domain"
)

// Nearest is the metric in force, not retired and visible (nil: any), that
// id most likely means: the closest by spelling, else the one id begins
// ("lead_time" for lead_time_for_changes, too far to be a misspelling),
// each tried against the metrics' ids and then their names written as ids
// ("time_to_restore" for mttr, "Time to restore (median)"); "" when none.
// The API's refusals, the pages and `candor catalog propose` guess alike,
// and only among what the reader may see.
func (c *Catalog) Nearest(id string, visible func(*Metric) bool) string {
	var ids, names []string
	byName := map[string]string{}
	for _, m := range c.MetricsInForce() {
		if !m.Retired && (visible == nil || visible(&m)) {
			ids = append(ids, m.ID)
			n := nameAsID(m.Name)
			names = append(names, n)
			byName[n] = m.ID
		}
	}
	if near := nearest(id, ids); near != "" {
		return near
	}
	return byName[nearest(nameAsID(id), names)]
}

// nearest is the closest of xs to id by spelling, else the shortest id
// begins.
func nearest(id string, xs []string) string {
	if near := domain.Closest(id, xs); near != "" {
		return near
	}
	best := ""
	for _, x := range xs {
		if len(id) >= 3 && strings.HasPrefix(x, id) && (best == "" || len(x) < len(best)) {
			best = x
		}
	}
	return best
}

// nameAsID writes a metric's name as an id would be: "Time to restore
// (median)" → "time_to_restore_median".
func nameAsID(name string) string {
	var b strings.Builder
	gap := false
	for _, r := range strings.ToLower(name) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if gap && b.Len() > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
			gap = false
		} else {
			gap = true
		}
	}
	return b.String()
}

// Unseen sorts ids (nil: every metric in force and not retired) into those
// visible does not show and those the catalog does not hold, each sorted:
// what a reader is refused a pack for, which states every metric it names
// (board packs, evidence packs, a report sent again).
func (c *Catalog) Unseen(ids []string, visible func(*Metric) bool) (hidden, unknown []string) {
	ms := c.MetricsInForce()
	byID := make(map[string]*Metric, len(ms))
	for i := range ms {
		byID[ms[i].ID] = &ms[i]
	}
	if ids == nil {
		for i := range ms {
			if !ms[i].Retired {
				ids = append(ids, ms[i].ID)
			}
		}
	}
	for _, id := range ids {
		m, ok := byID[id]
		switch {
		case !ok:
			unknown = append(unknown, id)
		case !visible(m):
			hidden = append(hidden, id)
		}
	}
	slices.Sort(hidden)
	slices.Sort(unknown)
	return hidden, unknown
}
