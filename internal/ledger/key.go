package ledger

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/candor/candor/internal/newfile"
)

// Ed25519 rather than HMAC-SHA256: a signature is checked with the public
// key alone, so an auditor verifies the ledger without holding anything
// that could sign (with HMAC the verifier's key forges entries too), the
// public key can be published beside the head, and Ed25519 signatures are
// deterministic, so sealing the same entries gives the same bytes. Signing
// costs tens of microseconds per entry, and entries are per batch, not per
// record.

// The key's text form is the standard base64 of its 32-byte seed, which is
// what a key file holds (one line) and CANDOR_LEDGER_KEY holds; a public
// key's is the standard base64 of its 32 bytes.

// GenerateKey makes a new signing key.
func GenerateKey() (ed25519.PrivateKey, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	return key, err
}

// FormatKey is the text form of a signing key.
func FormatKey(key ed25519.PrivateKey) string {
	return base64.StdEncoding.EncodeToString(key.Seed())
}

// ParseKey reads FormatKey's text (surrounding space ignored).
func ParseKey(text string) (ed25519.PrivateKey, error) {
	seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, errors.New("not a ledger key: want the base64 of a 32-byte Ed25519 seed, as candor ledger keygen writes")
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// FormatPublicKey is the text form of a public key.
func FormatPublicKey(pub ed25519.PublicKey) string {
	return base64.StdEncoding.EncodeToString(pub)
}

// ParsePublicKey reads FormatPublicKey's text.
func ParsePublicKey(text string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%q is not a ledger public key: want the base64 of 32 bytes, as candor ledger keygen prints", text)
	}
	return ed25519.PublicKey(b), nil
}

// KeyID is the first 16 hex digits of the SHA-256 of a public key: what
// each entry records of the key that signed it.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// ReadKeyFile reads a key file.
func ReadKeyFile(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ledger key: %w", err)
	}
	key, err := ParseKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("ledger key %s: %w", path, err)
	}
	return key, nil
}

// WriteKeyFile writes key to a new file readable by its owner only, whole
// or not at all (package newfile): one made and then written, left empty
// by a process killed or out of room in between, stopped every start
// after with "not a ledger key". An existing file is never overwritten
// (it may be the key of a ledger), and the error then is fs.ErrExist: of
// two processes making it at once, one key is kept, the other process is
// told it exists.
func WriteKeyFile(path string, key ed25519.PrivateKey) error {
	if err := newfile.Write(path, []byte(FormatKey(key)+"\n"), 0o600); errors.Is(err, fs.ErrExist) {
		return keyExists(path)
	} else if err != nil {
		return fmt.Errorf("ledger key: %w", err)
	}
	return nil
}

// keyExists is WriteKeyFile's refusal to overwrite a key file.
type keyExists string

func (p keyExists) Error() string {
	return fmt.Sprintf("ledger key %s exists; a new key would not verify the entries the old one signed: keep it, or choose another path", string(p))
}

func (keyExists) Is(target error) bool { return target == fs.ErrExist }
