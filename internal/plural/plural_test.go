package plural

import "testing"

func TestCount(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{{0, "0 records"}, {1, "1 record"}, {2, "2 records"}, {-1, "-1 records"}, {1000000, "1000000 records"}} {
		if got := Count(c.n, "record"); got != c.want {
			t.Errorf("Count(%d) = %q, want %q", c.n, got, c.want)
		}
	}
	if got := Count(1, "invalid record"); got != "1 invalid record" {
		t.Errorf("got %q", got)
	}
	if got := Counts(2, "entry", "entries"); got != "2 entries" {
		t.Errorf("got %q", got)
	}
}

func TestAnd(t *testing.T) {
	for _, c := range []struct {
		items []string
		want  string
	}{{nil, ""}, {[]string{"a"}, "a"}, {[]string{"a", "b"}, "a and b"}, {[]string{"a", "b", "c"}, "a, b and c"}} {
		if got := And(c.items); got != c.want {
			t.Errorf("And(%q) = %q, want %q", c.items, got, c.want)
		}
	}
}

func TestA(t *testing.T) {
	for noun, want := range map[string]string{
		"plan": "a plan", "owner": "an owner", "environment": "an environment", "origin": "an origin",
		"business unit": "a business unit", "unit": "a unit", "user": "a user", "account": "an account",
		"industry": "an industry", "upstream": "an upstream", "team": "a team", "": "a ",
	} {
		if got := A(noun); got != want {
			t.Errorf("A(%q) = %q, want %q", noun, got, want)
		}
	}
}
