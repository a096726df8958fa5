package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// TokenPrefix starts every API token, so a leaked one is recognisable (by
// secret scanners, in logs) as Candor's.
const TokenPrefix = "cdr_"

// An API token is TokenPrefix, a public lookup part, "_" and the secret:
// cdr_<13 chars>_<52 chars>, lower-case base32. The lookup part finds the
// stored row; the SHA-256 of the whole token is then compared in constant
// time, so response times say nothing about how much of a guess was right.
// The lookup part is also how `candor token list` shows a token without
// revealing it.
const (
	lookupBytes = 8
	secretBytes = 32 // 256 bits
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

func randomBytes(n int) []byte {
	b := make([]byte, n)
	// crypto/rand.Read never fails (it crashes the program instead).
	rand.Read(b)
	return b
}

func newToken() (token, lookup string) { return newSecret(TokenPrefix) }

// newSecret is a token's shape under another prefix (a share link's).
func newSecret(prefix string) (secret, lookup string) {
	lookup = strings.ToLower(b32.EncodeToString(randomBytes(lookupBytes)))
	return prefix + lookup + "_" + strings.ToLower(b32.EncodeToString(randomBytes(secretBytes))), lookup
}

var (
	lookupLen = b32.EncodedLen(lookupBytes)
	secretLen = b32.EncodedLen(secretBytes)
)

// tokenLookup returns the lookup part of a well-formed token.
func tokenLookup(token string) (string, bool) { return secretLookup(TokenPrefix, token) }

// secretLookup returns the lookup part of a well-formed secret of newSecret's shape.
func secretLookup(prefix, token string) (string, bool) {
	rest, ok := strings.CutPrefix(token, prefix)
	if !ok || len(rest) != lookupLen+1+secretLen || rest[lookupLen] != '_' {
		return "", false
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if i != lookupLen && !('a' <= c && c <= 'z' || '2' <= c && c <= '7') {
			return "", false
		}
	}
	return rest[:lookupLen], true
}

// TokenDisplay is how a token is shown once created: its prefix and
// lookup part, which identify it without granting anything.
func TokenDisplay(lookup string) string { return TokenPrefix + lookup + "_…" }

// hashSecret is the stored form of a session or token secret: hex SHA-256.
// A fast hash is right here, unlike for passwords: the secrets are 256
// random bits, beyond guessing whatever the hash costs.
func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// sameHash compares two stored-form hashes in constant time.
func sameHash(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// newSessionSecret is the value of a session cookie: 256 random bits.
func newSessionSecret() string {
	return base64.RawURLEncoding.EncodeToString(randomBytes(secretBytes))
}

// validSessionSecret rejects cookie values that cannot be a session
// secret before they reach the store.
func validSessionSecret(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == secretBytes
}

// csrfToken derives a session's CSRF token from its secret: bound to the
// session (a token from another session fails), never stored, and useless
// without the HttpOnly cookie it is derived from.
func csrfToken(sessionSecret string) string {
	m := hmac.New(sha256.New, []byte(sessionSecret))
	m.Write([]byte("candor csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
