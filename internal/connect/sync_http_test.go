package connect

import (
	"net/http"
	"testing"
	"time"
)

// Each API says when a spent quota comes back in its own way.
func TestQuotaReset(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name   string
		header map[string]string
		want   time.Time
	}{
		{"GitHub", map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1772366460"}, time.Unix(1772366460, 0)},
		{"GitHub with quota left", map[string]string{"X-RateLimit-Remaining": "4999", "X-RateLimit-Reset": "1772366460"}, time.Time{}},
		{"GitLab", map[string]string{"RateLimit-Remaining": "0", "RateLimit-Reset": "1772366430"}, time.Unix(1772366430, 0)},
		{"IETF draft, seconds", map[string]string{"RateLimit-Remaining": "0", "RateLimit-Reset": "42"}, now.Add(42 * time.Second)},
		{"IETF draft, one field", map[string]string{"RateLimit": "limit=100, remaining=0, reset=9"}, now.Add(9 * time.Second)},
		{"Jira Cloud", map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2026-03-01T12:05Z"}, now.Add(5 * time.Minute)},
		{"nothing said", map[string]string{}, time.Time{}},
	} {
		h := http.Header{}
		for k, v := range c.header {
			h.Set(k, v)
		}
		if got := quotaReset(h, now); !got.Equal(c.want) {
			t.Errorf("%s: quota back at %v, want %v", c.name, got, c.want)
		}
	}
	h := http.Header{}
	h.Set("Retry-After", "Sun, 01 Mar 2026 12:00:20 GMT")
	if d, ok := retryAfter(h, now); !ok || d != 20*time.Second {
		t.Errorf("Retry-After as a date: %v %v", d, ok)
	}
	for n := 1; n <= 10; n++ {
		d := backoff(n)
		full := min(backoffCap, backoffBase<<(n-1))
		if d < full/2 || d >= full {
			t.Errorf("backoff(%d) = %v, want in [%v, %v)", n, d, full/2, full)
		}
	}
}

func TestNextLink(t *testing.T) {
	h := http.Header{}
	h.Add("Link", `<https://api.github.com/repositories/1/pulls?page=1>; rel="prev", <https://api.github.com/repositories/1/pulls?page=3>; rel="next", <https://api.github.com/repositories/1/pulls?page=9>; rel="last"`)
	if got := nextLink(h); got != "https://api.github.com/repositories/1/pulls?page=3" {
		t.Errorf("nextLink = %q", got)
	}
	if got := nextLink(http.Header{"Link": {`<https://x/?page=9>; rel="last"`}}); got != "" {
		t.Errorf("nextLink without next = %q", got)
	}
}
