package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters. They are stored with every hash,
// so raising them later leaves existing passwords verifiable.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
}

// DefaultParams is RFC 9106's second recommended setting (64 MiB, three
// passes, four lanes): about 0.1–0.2 s per sign-in on a small server,
// which is what makes a stolen database slow to attack.
var DefaultParams = Params{Memory: 64 * 1024, Time: 3, Threads: 4}

const (
	saltLen = 16
	keyLen  = 32

	// MinPasswordLen and MaxPasswordLen bound a password in characters
	// and bytes: long enough to resist guessing once rate limits are
	// bypassed, short enough that hashing it costs no more than usual.
	MinPasswordLen = 12
	MaxPasswordLen = 1024
)

// CheckPassword reports why a new password is unacceptable, or nil.
func CheckPassword(pw string) error {
	switch {
	case !utf8.ValidString(pw):
		return errors.New("password is not valid UTF-8")
	case utf8.RuneCountInString(pw) < MinPasswordLen:
		return fmt.Errorf("password is shorter than %d characters", MinPasswordLen)
	case len(pw) > MaxPasswordLen:
		return fmt.Errorf("password is longer than %d bytes", MaxPasswordLen)
	}
	return nil
}

// HashPassword returns the PHC string of pw under argon2id with a fresh
// random salt: $argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>.
func HashPassword(pw string, p Params) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// ErrBadHash is returned for a stored hash Candor cannot read.
var ErrBadHash = errors.New("unreadable password hash")

// Bounds on the parameters read back from a stored hash, so that a damaged
// or hostile row cannot make one sign-in take minutes or gigabytes.
const (
	maxMemory  = 1 << 20 // KiB: 1 GiB
	maxTime    = 64
	maxKeyLen  = 128
	minKeyLen  = 16
	minSaltLen = 8
)

// parseHash reads a PHC argon2id string.
func parseHash(encoded string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("%w: not an argon2id PHC string", ErrBadHash)
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, fmt.Errorf("%w: version %q (want v=%d)", ErrBadHash, parts[2], argon2.Version)
	}
	var threads uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &threads); err != nil || n != 3 ||
		p.Memory == 0 || p.Memory > maxMemory || p.Time == 0 || p.Time > maxTime || threads == 0 || threads > 255 ||
		p.Memory < 8*threads {
		return p, nil, nil, fmt.Errorf("%w: parameters %q", ErrBadHash, parts[3])
	}
	p.Threads = uint8(threads)
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < minSaltLen {
		return p, nil, nil, fmt.Errorf("%w: salt", ErrBadHash)
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < minKeyLen || len(key) > maxKeyLen {
		return p, nil, nil, fmt.Errorf("%w: key", ErrBadHash)
	}
	return p, salt, key, nil
}

// VerifyPassword reports whether pw matches the stored hash, comparing in
// constant time. An unreadable hash is an error, never a match.
func VerifyPassword(pw, encoded string) (bool, error) {
	p, salt, key, err := parseHash(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// passwordAlphabet has no look-alike characters (0/o, 1/l/i), so a
// generated password can be read aloud or typed from a screen.
const passwordAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// GeneratePassword returns a random password of four groups of six
// characters (about 119 bits), such as "k7m2qx-9bz4wf-…".
func GeneratePassword() (string, error) {
	const groups, size = 4, 6
	var b strings.Builder
	buf := make([]byte, 1)
	for g := 0; g < groups; g++ {
		if g > 0 {
			b.WriteByte('-')
		}
		for i := 0; i < size; {
			if _, err := rand.Read(buf); err != nil {
				return "", err
			}
			// Rejection sampling: bytes past the largest multiple of the
			// alphabet's size would favour its first letters.
			if int(buf[0]) >= 256-256%len(passwordAlphabet) {
				continue
			}
			b.WriteByte(passwordAlphabet[int(buf[0])%len(passwordAlphabet)])
			i++
		}
	}
	return b.String(), nil
}
