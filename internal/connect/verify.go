package connect

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/candor/candor/internal/domain"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/auth"
)

// Every comparison of a secret or a signature here takes the same time
// whatever the bytes, so response times say nothing about how close a
// forgery came.

func hmacSHA256(secret string, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// verifyHubSignature checks a "sha256=HEX" HMAC of the body in the
// header: GitHub's X-Hub-Signature-256, Jira's X-Hub-Signature.
func verifyHubSignature(header string) func(*input, string, time.Duration) error {
	return func(in *input, secret string, _ time.Duration) error {
		sig := in.header.Get(header)
		if sig == "" {
			return fmt.Errorf("no %s header: set the webhook's secret", header)
		}
		hexSig, ok := strings.CutPrefix(sig, "sha256=")
		got, err := hex.DecodeString(hexSig)
		if !ok || err != nil {
			return fmt.Errorf("%s is not sha256=HEX", header)
		}
		if !hmac.Equal(got, hmacSHA256(secret, in.body)) {
			return fmt.Errorf("%s does not match the body signed with the configured secret", header)
		}
		return nil
	}
}

// verifyGitLabToken checks X-Gitlab-Token, which GitLab sends as is.
// Hashing both sides first makes the comparison constant-time in their
// lengths too.
func verifyGitLabToken(in *input, secret string, _ time.Duration) error {
	tok := in.header.Get("X-Gitlab-Token")
	if tok == "" {
		return errors.New("no X-Gitlab-Token header: set the webhook's secret token")
	}
	a, b := sha256.Sum256([]byte(tok)), sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
		return errors.New("X-Gitlab-Token is not the configured secret")
	}
	return nil
}

// verifyPagerDuty checks X-PagerDuty-Signature: comma-separated v1=HEX
// HMACs of the body, one per signing secret the subscription has (several
// while PagerDuty rotates them); any may match.
func verifyPagerDuty(in *input, secret string, _ time.Duration) error {
	h := in.header.Get("X-PagerDuty-Signature")
	if h == "" {
		return errors.New("no X-PagerDuty-Signature header")
	}
	want := hmacSHA256(secret, in.body)
	if !anyMatch(signatures(h, "v1"), want) {
		return errors.New("no v1 signature of X-PagerDuty-Signature matches the body signed with the configured secret")
	}
	return nil
}

// signatures are the hex values of scheme= in a comma-separated header
// (PagerDuty's "v1=a,v1=b", Stripe's "t=1,v1=a,v0=b"); values that are not
// hex are skipped.
func signatures(header, scheme string) [][]byte {
	var out [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || k != scheme {
			continue
		}
		if b, err := hex.DecodeString(v); err == nil {
			out = append(out, b)
		}
	}
	return out
}

// anyMatch compares want with every candidate, without stopping early.
func anyMatch(candidates [][]byte, want []byte) bool {
	ok := 0
	for _, c := range candidates {
		ok |= subtle.ConstantTimeCompare(c, want)
	}
	return ok == 1
}

// verifyStripe checks Stripe-Signature: t=UNIX then v1=HEX HMACs of
// "t.body"; any v1 may match, and t must be within the tolerance of now
// (default five minutes, Stripe's), so a captured delivery cannot be
// replayed later.
func verifyStripe(in *input, secret string, tolerance time.Duration) error {
	h := in.header.Get("Stripe-Signature")
	if h == "" {
		return errors.New("no Stripe-Signature header")
	}
	var ts string
	for _, part := range strings.Split(h, ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok && k == "t" {
			ts = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("Stripe-Signature has no t=UNIX timestamp")
	}
	if !anyMatch(signatures(h, "v1"), hmacSHA256(secret, []byte(ts), []byte("."), in.body)) {
		return errors.New("no v1 signature of Stripe-Signature matches the body signed with the configured secret")
	}
	if age := in.now.Sub(time.Unix(sec, 0)); age > tolerance || age < -tolerance {
		return fmt.Errorf("Stripe-Signature's timestamp is %v from now, beyond the %v tolerance (a replayed delivery, or a wrong clock)", age.Round(time.Second), tolerance)
	}
	return nil
}

// verifyZendesk checks X-Zendesk-Webhook-Signature: the base64 HMAC of the
// X-Zendesk-Webhook-Signature-Timestamp header followed by the body; the
// timestamp must be within the tolerance of now.
func verifyZendesk(in *input, secret string, tolerance time.Duration) error {
	sig := in.header.Get("X-Zendesk-Webhook-Signature")
	ts := in.header.Get("X-Zendesk-Webhook-Signature-Timestamp")
	if sig == "" || ts == "" {
		return errors.New("no X-Zendesk-Webhook-Signature and X-Zendesk-Webhook-Signature-Timestamp headers")
	}
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return errors.New("X-Zendesk-Webhook-Signature is not base64")
	}
	if !hmac.Equal(got, hmacSHA256(secret, []byte(ts), in.body)) {
		return errors.New("X-Zendesk-Webhook-Signature does not match the timestamp and body signed with the configured secret")
	}
	at, err := parseWhen(ts)
	if err != nil || at.IsZero() {
		return errors.New("X-Zendesk-Webhook-Signature-Timestamp is not a time")
	}
	if age := in.now.Sub(at); age > tolerance || age < -tolerance {
		return fmt.Errorf("X-Zendesk-Webhook-Signature-Timestamp is %v from now, beyond the %v tolerance (a replayed delivery, or a wrong clock)", age.Round(time.Second), tolerance)
	}
	return nil
}

// bearerToken is the API token of an Authorization header: "Bearer
// TOKEN", or HTTP Basic with the token as the password, for senders that
// can only put credentials in the URL (Jenkins' notification plugin sends
// https://candor:TOKEN@host/… as Basic).
func bearerToken(h http.Header) (string, bool) {
	v := h.Get("Authorization")
	scheme, cred, ok := strings.Cut(v, " ")
	if !ok {
		return "", false
	}
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		return strings.TrimSpace(cred), true
	case strings.EqualFold(scheme, "Basic"):
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
		if err != nil {
			return "", false
		}
		_, pass, ok := strings.Cut(string(raw), ":")
		return pass, ok && pass != ""
	}
	return "", false
}

// verifyBearer authenticates the API token and requires records:write. A
// refusal is a code and its reason; err is the store's.
func (s *Service) verifyBearer(ctx context.Context, h http.Header) (domain.Code, string, error) {
	tok, ok := bearerToken(h)
	if !ok {
		return domain.EUnauthorized, "no API token: send Authorization: Bearer TOKEN (a token with the ingest role)", nil
	}
	if s.tokens == nil {
		return domain.EForbidden, "API tokens are not available to webhooks on this server", nil
	}
	p, err := s.tokens.AuthenticateToken(ctx, tok)
	if errors.Is(err, auth.ErrInvalidCredentials) {
		return domain.EUnauthorized, "the API token is unknown, revoked or malformed", nil
	}
	if err != nil {
		return "", "", err
	}
	if !s.tokens.Grants().Can(p, auth.RecordsWrite) {
		return domain.EForbidden, fmt.Sprintf("token %q lacks records:write (give it the ingest role)", p.Name), nil
	}
	return "", "", nil
}
