package scorecard

import (
	"reflect"
	"testing"
)

// A setting's value in words: aliases by what they stand for, the name
// itself not listed as its own alias; other maps and lists as items.
func TestSettingValueWords(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{map[string]string{"live": "production", "prd": "production", "prod": "production", "production": "production", "stg": "staging"}, "production (also live, prd, prod); staging (also stg)"},
		{map[string]string{"production": "production"}, "production"},
		{map[string]float64{"EUR": 1.1, "GBP": 1.3}, "EUR: 1.1, GBP: 1.3"},
		{[]string{"prod", "production"}, "prod, production"},
		{map[string]string{}, "none"},
	} {
		if got := settingValueWords(reflect.ValueOf(c.v)); got != c.want {
			t.Errorf("%v: %q, want %q", c.v, got, c.want)
		}
	}
}
