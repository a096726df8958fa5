package oidc

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)

// FlowTTL is how long a sign-in may take between leaving for the provider
// and coming back.
const FlowTTL = 10 * time.Minute

// flow is what the browser carries, in a cookie, between Start and
// Finish: the state that the callback must echo, the nonce that the ID
// token must hold, the PKCE verifier the code is exchanged with, and
// where to go afterwards. It is signed, so the browser can keep it but
// not change it, and it names this browser's sign-in: a callback with
// another browser's state is refused.
type flow struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"x"`
	Expires  int64  `json:"e"`
}

// flowKey derives the key flows are signed with from the client secret,
// so every instance behind a load balancer accepts every other's flows
// without a key of its own to share.
func flowKey(clientSecret string) []byte {
	m := hmac.New(sha256.New, []byte(clientSecret))
	m.Write([]byte("candor oidc flow v1"))
	return m.Sum(nil)
}

func (f flow) seal(key []byte) string {
	body, _ := json.Marshal(f) // strings and a number
	payload := base64.RawURLEncoding.EncodeToString(body)
	return payload + "." + base64.RawURLEncoding.EncodeToString(sign(key, payload))
}

func sign(key []byte, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// openFlow returns the flow sealed in v when its signature holds and it
// has not expired at now.
func openFlow(key []byte, v string, now time.Time) (flow, bool) {
	payload, mac, ok := strings.Cut(v, ".")
	if !ok {
		return flow{}, false
	}
	got, err := base64.RawURLEncoding.DecodeString(mac)
	if err != nil || !hmac.Equal(got, sign(key, payload)) {
		return flow{}, false
	}
	body, err := base64.RawURLEncoding.DecodeString(payload)
	var f flow
	if err != nil || json.Unmarshal(body, &f) != nil || now.Unix() >= f.Expires {
		return flow{}, false
	}
	return f, true
}
