package domain

import (
	"reflect"
	"testing"
	"time"
)

func TestJSONTypeWords(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{time.Time{}, "an RFC 3339 time (2026-03-01T00:00:00Z)"},
		{&time.Time{}, "an RFC 3339 time (2026-03-01T00:00:00Z)"},
		{map[string]string{}, "an object"},
		{struct{}{}, "an object"},
		{[]int{}, "a list"},
		{int64(0), "a number"},
		{0.5, "a number"},
		{true, "true or false"},
		{"", "a string"},
	} {
		if got := JSONTypeWords(reflect.TypeOf(c.v)); got != c.want {
			t.Errorf("%T: %q, want %q", c.v, got, c.want)
		}
	}
}
