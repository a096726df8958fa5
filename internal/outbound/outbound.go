// Package outbound holds the redirect rules of Candor's outbound HTTP
// calls: the pull collectors follow redirects on their API's host only
// (package connect), and the webhooks Candor posts to (alerts, Slack, the
// rollback webhook) follow none.
package outbound

import (
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Timeout is a call's limit when the caller gives no client.
const Timeout = 10 * time.Second

// Redirecting is a copy of c (a client with Timeout when nil) whose
// redirects check decides, so that a client the caller shares (a test
// server's, the server's own) is never changed.
func Redirecting(c *http.Client, check func(req *http.Request, via []*http.Request) error) *http.Client {
	out := http.Client{Timeout: Timeout}
	if c != nil {
		out = *c
	}
	out.CheckRedirect = check
	return &out
}

// NoRedirect is c following no redirect: the 3xx answer is returned as it
// is (Redirected turns it into the failure). Go's client re-POSTs the
// body on a 307 or 308 to wherever the receiver points, a loopback or
// cloud metadata address included, and follows a 301-303 with a GET
// there; an alert's body and signature have no business going anywhere
// but the URL an administrator configured.
func NoRedirect(c *http.Client) *http.Client {
	return Redirecting(c, func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse })
}

// Redirected is nil unless resp is a redirect; then an error naming the
// status and where it pointed (its credentials hidden), so the
// administrator can set the URL to the address it moved to, if that is
// the right one.
func Redirected(resp *http.Response) error {
	if resp.StatusCode < 300 || resp.StatusCode > 399 {
		return nil
	}
	where := "no Location"
	if loc := resp.Header.Get("Location"); loc != "" {
		// Quoted only once parsed, so that its password is hidden: one
		// that does not parse is not quoted at all.
		where = "a Location that is not a URL"
		if u, err := url.Parse(loc); err == nil {
			if resp.Request != nil && resp.Request.URL != nil {
				u = resp.Request.URL.ResolveReference(u)
			}
			where = "Location " + clip(u.Redacted())
		}
	}
	return &RedirectError{Status: resp.Status, Where: where}
}

// RedirectError is a redirect answer that was not followed.
type RedirectError struct{ Status, Where string }

func (e *RedirectError) Error() string {
	return fmt.Sprintf("answered %s (%s): redirects are not followed; set the URL to the receiver's own address", e.Status, e.Where)
}

// clip bounds an address a receiver chose, so that a hostile one cannot
// flood the logs or the outbox's error.
func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
