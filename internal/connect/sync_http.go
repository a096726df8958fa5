package connect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/outbound"
)

// apiClient reads one tool's REST API for a collector: authenticated GETs
// under the configured base URL, the tool's rate limits honoured, and
// transient failures (429, 5xx, a broken connection) retried a bounded
// number of times with exponential backoff and jitter.
type apiClient struct {
	source string
	base   *url.URL
	http   *http.Client
	// auth adds the credentials and the API's fixed headers.
	auth  func(h http.Header)
	sleep func(ctx context.Context, d time.Duration) error
	now   func() time.Time
	// resume is when the quota the last answer reported as spent comes
	// back: the next request waits for it rather than be refused.
	resume time.Time
	// tokenKey names the setting to check when the API refuses the token.
	tokenKey string
}

// apiResponse is a successful answer.
type apiResponse struct {
	url    string
	header http.Header
	body   []byte
}

const (
	// maxAttempts bounds the tries of one request (the first and five
	// retries).
	maxAttempts = 6
	// maxWait bounds one wait for a rate limit: a longer one fails the run
	// (the next one resumes) rather than hold it for hours.
	maxWait     = time.Hour
	backoffBase = time.Second
	backoffCap  = time.Minute
	// maxPageBytes bounds one answer, so a broken or hostile API cannot
	// exhaust memory.
	maxPageBytes = 64 << 20
)

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// offHost is a redirect away from the API's host, refused.
type offHost struct{ msg string }

func (e *offHost) Error() string { return e.msg }

// onHost is c following redirects on base's scheme and host only. Go's
// client drops Authorization on a redirect to another host but forwards
// every other header, GitLab's PRIVATE-TOKEN among them: a base URL
// answering 302 to elsewhere (a moved instance, a proxy's login page, a
// hostile server) had been sent the token.
func onHost(c *http.Client, base *url.URL) *http.Client {
	return outbound.Redirecting(c, func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != base.Scheme || req.URL.Host != base.Host {
			return &offHost{fmt.Sprintf("redirected to %s, which is not on %s; not following it with the token (set base_url to the API's own address)", clip(req.URL.Redacted()), base.Host)}
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	})
}

// resolve turns a path (with its query) or an absolute URL the API gave
// (a Link header's next page) into the URL to ask. An absolute URL must
// be on the base URL's host: the token is never sent anywhere else.
func (c *apiClient) resolve(target string) (*url.URL, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("%s API: bad URL %q: %v", c.source, clip(target), err)
	}
	if u.IsAbs() {
		if u.Scheme != c.base.Scheme || u.Host != c.base.Host {
			return nil, fmt.Errorf("%s API: the next page %s is not on %s; not following it", c.source, clip(u.Redacted()), c.base.Host)
		}
		return u, nil
	}
	out := *c.base
	out.Path = strings.TrimRight(c.base.Path, "/") + "/" + strings.TrimLeft(u.Path, "/")
	out.RawPath = ""
	if u.RawPath != "" {
		out.RawPath = strings.TrimRight(c.base.EscapedPath(), "/") + "/" + strings.TrimLeft(u.RawPath, "/")
	}
	out.RawQuery = u.RawQuery
	return &out, nil
}

// get asks for target and returns the answer once it is a success.
func (c *apiClient) get(ctx context.Context, target string) (*apiResponse, error) {
	u, err := c.resolve(target)
	if err != nil {
		return nil, err
	}
	where := "GET " + u.Redacted()
	for attempt := 1; ; attempt++ {
		if wait := c.resume.Sub(c.now()); wait > 0 {
			if wait > maxWait {
				return nil, fmt.Errorf("%s: the API quota is spent until %s, more than %v away", where, c.resume.Format(time.RFC3339), maxWait)
			}
			if err := c.sleep(ctx, wait); err != nil {
				return nil, err
			}
		}
		c.resume = time.Time{}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, err
		}
		c.auth(req.Header)
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if oh := (*offHost)(nil); errors.As(err, &oh) {
				return nil, fmt.Errorf("%s: %s", where, oh.msg) // asking again would be redirected again
			}
			if attempt == maxAttempts {
				return nil, fmt.Errorf("%s: %v (gave up after %d attempts)", where, err, attempt)
			}
			if err := c.sleep(ctx, backoff(attempt)); err != nil {
				return nil, err
			}
			continue
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxPageBytes+1))
		resp.Body.Close()
		if err == nil && len(body) > maxPageBytes {
			return nil, fmt.Errorf("%s: the answer is over %d bytes", where, maxPageBytes)
		}
		now := c.now()
		quota := quotaReset(resp.Header, now)
		retry, wait := c.retryable(resp, quota, now, attempt)
		switch {
		case err != nil && attempt < maxAttempts:
			// The connection broke mid-answer.
			if err := c.sleep(ctx, backoff(attempt)); err != nil {
				return nil, err
			}
			continue
		case err != nil:
			return nil, fmt.Errorf("%s: reading the answer: %v (gave up after %d attempts)", where, err, attempt)
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			c.resume = quota
			return &apiResponse{url: u.String(), header: resp.Header, body: body}, nil
		case !retry:
			return nil, c.refusal(where, resp, body)
		case attempt == maxAttempts:
			return nil, fmt.Errorf("%s: %s (gave up after %d attempts)", where, resp.Status, attempt)
		case wait > maxWait:
			return nil, fmt.Errorf("%s: %s: the API asks to wait %v, more than %v", where, resp.Status, wait.Round(time.Second), maxWait)
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// retryable reports whether a refused request is tried again, and after
// how long: a rate limit (429; GitHub's 403 with its quota spent or a
// Retry-After) after what the API says, else after the backoff; a server
// error (5xx) after the backoff.
func (c *apiClient) retryable(resp *http.Response, quota, now time.Time, attempt int) (bool, time.Duration) {
	after, hasAfter := retryAfter(resp.Header, now)
	limited := resp.StatusCode == http.StatusTooManyRequests ||
		(resp.StatusCode == http.StatusForbidden && (hasAfter || !quota.IsZero()))
	switch {
	case limited && hasAfter:
		// At least what was asked, and a little more so that clients told
		// the same time do not all come back at once.
		return true, after + jitter(min(after/10, time.Second)+time.Millisecond)
	case limited && !quota.IsZero():
		return true, quota.Sub(now) + jitter(time.Second)
	case limited, resp.StatusCode >= 500:
		return true, backoff(attempt)
	}
	return false, 0
}

// backoff is the wait before retry n: exponential from backoffBase, capped
// at backoffCap, its upper half random ("equal jitter"), so clients that
// failed together spread out while each still waits a growing time.
func backoff(n int) time.Duration {
	d := min(backoffCap, backoffBase<<min(n-1, 16))
	return d/2 + jitter(d/2)
}

func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}

// retryAfter reads Retry-After: seconds, or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 {
		return time.Duration(n * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now)), true
	}
	return 0, false
}

// quotaReset is when a spent quota comes back, by the rate-limit headers
// the APIs send: GitHub's X-RateLimit-Remaining and X-RateLimit-Reset
// (unix seconds), GitLab's RateLimit-Remaining and RateLimit-Reset (unix
// seconds), Jira's X-RateLimit-Reset (an ISO 8601 time), the IETF draft's
// RateLimit-Reset (seconds from now) or its RateLimit field
// ("limit=100, remaining=0, reset=30"). Zero when the quota is not spent
// or no header says.
func quotaReset(h http.Header, now time.Time) time.Time {
	remaining, reset := h.Get("X-RateLimit-Remaining"), h.Get("X-RateLimit-Reset")
	if remaining == "" {
		remaining = h.Get("RateLimit-Remaining")
	}
	if reset == "" {
		reset = h.Get("RateLimit-Reset")
	}
	if f := h.Get("RateLimit"); f != "" && (remaining == "" || reset == "") {
		for _, part := range strings.FieldsFunc(f, func(r rune) bool { return r == ',' || r == ';' }) {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			switch strings.ToLower(k) {
			case "remaining", "r":
				remaining = firstOf(remaining, v)
			case "reset", "t":
				reset = firstOf(reset, v)
			}
		}
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(remaining), 10, 64); err != nil || n > 0 {
		return time.Time{}
	}
	v := strings.TrimSpace(reset)
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n > 1e9 { // a unix time, not a number of seconds
			return time.Unix(n, 0)
		}
		return now.Add(time.Duration(n) * time.Second)
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04Z07:00", "2006-01-02T15:04Z"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t
		}
	}
	return time.Time{}
}

// refusal words an answer that is not retried: the status, what the API
// said (its message, in the shapes GitHub, GitLab, PagerDuty and Jira use)
// and, for a refused token, the setting to check.
func (c *apiClient) refusal(where string, resp *http.Response, body []byte) error {
	var m struct {
		Message       any      `json:"message"`
		Error         any      `json:"error"`
		ErrorMessages []string `json:"errorMessages"`
	}
	var said string
	if json.Unmarshal(body, &m) == nil {
		for _, v := range []any{m.Message, m.Error} {
			switch v := v.(type) {
			case string:
				said = firstOf(said, v)
			case map[string]any:
				if s, ok := v["message"].(string); ok {
					said = firstOf(said, s)
				}
			}
		}
		said = firstOf(said, strings.Join(m.ErrorMessages, "; "))
	}
	msg := fmt.Sprintf("%s: %s", where, resp.Status)
	if said != "" {
		msg += ": " + clip(said)
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		msg += fmt.Sprintf(" (check %s)", c.tokenKey)
	}
	return &apiError{status: resp.StatusCode, msg: msg}
}

// apiError is an answer the API gave that is not retried.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

// nextLink is the rel="next" URL of a Link header (RFC 8288), "" when
// there is none.
func nextLink(h http.Header) string {
	for _, v := range h.Values("Link") {
		for _, part := range strings.Split(v, ",") {
			target, params, ok := strings.Cut(part, ";")
			if !ok {
				continue
			}
			target = strings.TrimSpace(target)
			if !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			for _, p := range strings.Split(params, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(k, "rel") && slicesContainsField(strings.Trim(v, `"`), "next") {
					return target[1 : len(target)-1]
				}
			}
		}
	}
	return ""
}

// slicesContainsField reports whether the space-separated list holds f.
func slicesContainsField(list, f string) bool {
	for _, x := range strings.Fields(list) {
		if strings.EqualFold(x, f) {
			return true
		}
	}
	return false
}
