package outbound

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A redirect that was not followed is named with its status and where it
// pointed — relative to the request, its password hidden, its length
// bounded — so an administrator can fix the URL; any other answer is no
// error.
func TestRedirected(t *testing.T) {
	req := &http.Request{URL: &url.URL{Scheme: "https", Host: "hooks.example.com", Path: "/alerts/1"}}
	answer := func(code int, loc string) *http.Response {
		h := http.Header{}
		if loc != "" {
			h.Set("Location", loc)
		}
		return &http.Response{StatusCode: code, Status: http.StatusText(code), Header: h, Request: req}
	}
	for _, c := range []struct {
		code    int
		loc     string
		want    string // in the error; "" for none
		notWant string
	}{
		{200, "", "", ""},
		{404, "", "", ""},
		{308, "https://other.example.com/in", "Location https://other.example.com/in", ""},
		{307, "/moved", "Location https://hooks.example.com/moved", ""},
		{302, "http://admin:s3cret@169.254.169.254/latest", "Location http://admin:xxxxx@169.254.169.254/latest", "s3cret"},
		{301, "", "no Location", ""},
		{303, "http://a b/%zz", "a Location that is not a URL", "%zz"},
		{308, "https://x.example.com/" + strings.Repeat("a", 500), "…", strings.Repeat("a", 300)},
	} {
		err := Redirected(answer(c.code, c.loc))
		if c.want == "" {
			if err != nil {
				t.Errorf("%d: %v, want no error", c.code, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || c.notWant != "" && strings.Contains(err.Error(), c.notWant) {
			t.Errorf("%d %q: %v; want it to say %q and not %q", c.code, c.loc, err, c.want, c.notWant)
		}
	}
}

// A client made to follow no redirect is a copy: the caller's client
// (a test server's, one shared with other calls) keeps its own rule.
func TestNoRedirectCopies(t *testing.T) {
	shared := &http.Client{}
	c := NoRedirect(shared)
	if shared.CheckRedirect != nil || c == shared || c.CheckRedirect == nil {
		t.Fatal("NoRedirect changed the client it was given")
	}
	if err := c.CheckRedirect(nil, nil); err != http.ErrUseLastResponse {
		t.Errorf("CheckRedirect = %v, want http.ErrUseLastResponse", err)
	}
	if NoRedirect(nil).Timeout != Timeout {
		t.Error("a client made from none has no timeout")
	}
}
