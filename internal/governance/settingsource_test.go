package governance

import (
	"encoding/json"
	"testing"
	"time"
)

// What put a setting in force at a time: the latest approved proposal
// effective by then (a later-proposed one at the same instant over an
// earlier), none when a proposal restored the default, else the
// configuration's initial set, else the default.
func TestSettingSource(t *testing.T) {
	day := func(d int) *time.Time { x := time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC); return &x }
	prop := func(id int64, status string, value string, eff *time.Time) View {
		return View{Proposal: Proposal{ID: id, Setting: "gross_margin", Value: json.RawMessage(value)}, Status: status, Effective: eff}
	}
	st := &State{
		Initial: &Proposal{Initial: &InitialSet{Settings: map[string]json.RawMessage{"gross_margin": json.RawMessage("0.75"), "currency": json.RawMessage("null")}}},
		Proposals: []View{
			prop(1, Approved, "0.7", day(10)),
			prop(2, Rejected, "0.9", day(11)),
			prop(3, Approved, "0.65", day(20)),
			prop(4, Approved, "0.6", day(20)),
			prop(5, Approved, "null", day(25)),
			prop(6, Open, "0.5", nil),
		},
	}
	for _, c := range []struct {
		name string
		at   *time.Time
		ref  string
		from *time.Time
	}{
		{"gross_margin", day(5), "configuration", nil},
		{"gross_margin", day(10), "proposal 1", day(10)},
		{"gross_margin", day(15), "proposal 1", day(10)},
		{"gross_margin", day(21), "proposal 4", day(20)},
		{"gross_margin", day(26), "", nil},
		{"currency", day(26), "", nil},
		{"exchange_rates", day(26), "", nil},
	} {
		ref, since := st.SettingSource(c.name, *c.at)
		want := time.Time{}
		if c.from != nil {
			want = *c.from
		}
		if ref != c.ref || !since.Equal(want) {
			t.Errorf("SettingSource(%s, %s) = %q since %v, want %q since %v", c.name, c.at.Format(time.DateOnly), ref, since, c.ref, want)
		}
	}
}
