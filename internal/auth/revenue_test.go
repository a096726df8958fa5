package auth

import "testing"

// A row of a revenue kind hides its amounts from a role without
// revenue:read, whatever else the role may read; other kinds never do.
func TestHidesRevenueOf(t *testing.T) {
	g := grants(t, nil)
	support, ceo := g.Access([]string{"support"}), g.Access([]string{"ceo"})
	for _, k := range []string{"subscription", "opportunity", "quota"} {
		if !support.HidesRevenueOf(k) {
			t.Errorf("support sees %s amounts", k)
		}
		if ceo.HidesRevenueOf(k) {
			t.Errorf("ceo does not see %s amounts", k)
		}
	}
	if support.HidesRevenueOf("deployment") || support.HidesRevenueOf("cost") {
		t.Error("a kind no revenue metric reads is hidden")
	}
	if !(Access{}).HidesRevenueOf("deployment") {
		t.Error("the zero Access, which allows nothing, shows amounts")
	}
}
