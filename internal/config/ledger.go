package config

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/candor/candor/internal/ledger"
)

// LedgerConfig is the ledger: section: where the key that signs the audit
// ledger lives. The key is kept outside the database, so that whoever can
// write to the database cannot make altered entries verify.
type LedgerConfig struct {
	// KeyFile is a file holding the signing key (candor ledger keygen).
	KeyFile string `yaml:"key_file"`
	// TrustedKeys are public keys whose signatures verify besides the
	// signing key's: keys retired by a rotation.
	TrustedKeys []string `yaml:"trusted_keys"`
	// Key is the key itself, from CANDOR_LEDGER_KEY only: a key written in
	// the configuration file would travel wherever the file does.
	Key string `yaml:"-"`
}

// LedgerKeyFile is the key file of an embedded store: DATA/ledger.key.
const LedgerKeyFile = "ledger.key"

// checkLedger validates what can be checked without the files.
func (c Config) checkLedger() error {
	if c.Ledger.Key != "" {
		if _, err := ledger.ParseKey(c.Ledger.Key); err != nil {
			return fmt.Errorf("CANDOR_LEDGER_KEY: %v", err)
		}
	}
	_, err := c.LedgerTrustedKeys()
	return err
}

// LedgerTrustedKeys are the retired public keys of ledger.trusted_keys.
func (c Config) LedgerTrustedKeys() ([]ed25519.PublicKey, error) {
	var out []ed25519.PublicKey
	for i, s := range c.Ledger.TrustedKeys {
		k, err := ledger.ParsePublicKey(s)
		if err != nil {
			return nil, fmt.Errorf("ledger.trusted_keys[%d]: %v", i, err)
		}
		out = append(out, k)
	}
	return out, nil
}

// ConfiguredLedgerKey is the key the configuration names: CANDOR_LEDGER_KEY,
// else the file ledger.key_file names; nil, with from "", when it names
// none. With PostgreSQL, which has no data directory to keep one in,
// naming none is an error. Every error is the configuration's and names
// the variable, or the file and line, the key came from; nothing is read
// or made but the key file, so a caller checks it before it opens, or
// creates, a store.
func (c Config) ConfiguredLedgerKey() (key ed25519.PrivateKey, from string, err error) {
	switch {
	case c.Ledger.Key != "":
		if key, err = ledger.ParseKey(c.Ledger.Key); err != nil {
			return nil, "", fmt.Errorf("CANDOR_LEDGER_KEY: %v", err)
		}
		return key, "CANDOR_LEDGER_KEY", nil
	case c.Ledger.KeyFile != "":
		key, err = ledger.ReadKeyFile(c.Ledger.KeyFile)
		if errors.Is(err, fs.ErrNotExist) {
			err = noKey{fmt.Errorf("%s does not exist: point it at the key that signs this ledger, or, for a new store, make one with candor ledger keygen --out %s", c.Ledger.KeyFile, c.Ledger.KeyFile)}
		}
		if err != nil {
			return nil, "", c.loadError(fmt.Errorf("ledger.key_file: %w", err))
		}
		return key, c.Ledger.KeyFile, nil
	case c.DB != "":
		return nil, "", noKey{errors.New("the audit ledger needs a signing key kept outside the database: " +
			"run candor ledger keygen --out FILE and set ledger.key_file (or CANDOR_LEDGER_KEY_FILE) to it, or put the key in CANDOR_LEDGER_KEY")}
	}
	return nil, "", nil
}

// LedgerKey returns the key that signs the ledger and says where it came
// from: ConfiguredLedgerKey, else, for the embedded store,
// DATA/ledger.key, made on first use (created reports that).
func (c Config) LedgerKey() (key ed25519.PrivateKey, from string, created bool, err error) {
	return c.ledgerKey(false)
}

// ExistingLedgerKey is LedgerKey without making one: a command that only
// reads the ledger (candor ledger verify) must not leave a new signing
// key in a data directory — one with no store, or one whose key was moved
// out of it. The error wraps fs.ErrNotExist when there is none.
func (c Config) ExistingLedgerKey() (ed25519.PrivateKey, error) {
	key, _, _, err := c.ledgerKey(true)
	return key, err
}

// noKey is an error saying the configuration gives no signing key — its
// key file is missing, or PostgreSQL's is not named — which is
// fs.ErrNotExist, as a missing key file of the data directory's is: a
// reader verifies with ledger.trusted_keys alone (ExistingLedgerKey).
type noKey struct{ error }

func (e noKey) Unwrap() error { return e.error }

func (noKey) Is(target error) bool { return target == fs.ErrNotExist }

func (c Config) ledgerKey(noCreate bool) (key ed25519.PrivateKey, from string, created bool, err error) {
	if key, from, err = c.ConfiguredLedgerKey(); key != nil || err != nil {
		return key, from, false, err
	}
	path := filepath.Join(c.Data, LedgerKeyFile)
	key, err = ledger.ReadKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) || noCreate {
		return key, path, false, err
	}
	if key, err = ledger.GenerateKey(); err != nil {
		return nil, "", false, err
	}
	if err := ledger.WriteKeyFile(path, key); errors.Is(err, fs.ErrExist) {
		// Another process starting beside this one made it first.
		key, err = ledger.ReadKeyFile(path)
		return key, path, false, err
	} else if err != nil {
		return nil, "", false, err
	}
	return key, path, true, nil
}
