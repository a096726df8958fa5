package catalog

import "testing"

// A definition that names no function, or no sign-off at all (an
// organisation's own metric), is said without an empty name.
func TestSignoffText(t *testing.T) {
	for _, tc := range []struct {
		m    Metric
		want string
	}{
		{Metric{Signoff: SignoffConfirmed, SignoffBy: "finance"}, "confirmed by finance"},
		{Metric{Signoff: "assumed", SignoffBy: "finance"}, "assumed: finance has not confirmed this definition yet"},
		{Metric{Signoff: SignoffConfirmed}, "confirmed"},
		{Metric{Signoff: "assumed"}, "assumed: not confirmed yet"},
		{Metric{}, ""},
	} {
		if got := SignoffText(&tc.m); got != tc.want {
			t.Errorf("SignoffText(%+v) = %q, want %q", tc.m, got, tc.want)
		}
	}
}
