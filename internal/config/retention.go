package config

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/newfile"
	"github.com/candor/candor/internal/retention"
)

// RetentionConfig is the retention: section (SPEC §5): after how long
// personal data is pseudonymised or erased, per kind, and the key of the
// pseudonyms, kept outside the database like the ledger's.
type RetentionConfig struct {
	// PersonalAfter is the period for every kind without one of its own
	// (and the ledger's personal data): a length such as 730d; unset or
	// "0": never.
	PersonalAfter string `yaml:"personal_after"`
	// Periods override PersonalAfter per record kind, and for the ledger.
	Periods map[string]string `yaml:"periods"`
	// Every is how often the leader applies it (default 24h).
	Every string `yaml:"every"`
	// KeyFile holds the pseudonym key (default for the embedded store:
	// DATA/pseudonym.key, made on first use).
	KeyFile string `yaml:"key_file"`
	// Key is the key itself, from CANDOR_RETENTION_KEY only.
	Key string `yaml:"-"`
}

// RetentionKeyFile is the pseudonym key file of an embedded store.
const RetentionKeyFile = "pseudonym.key"

// RetentionPolicy is the policy configured, without its key
// (RetentionKey), and how often to apply it.
func (c Config) RetentionPolicy() (retention.Policy, time.Duration, error) {
	var p retention.Policy
	var err error
	if p.PersonalAfter, err = retentionPeriod("retention.personal_after", c.Retention.PersonalAfter); err != nil {
		return p, 0, err
	}
	keys := make([]string, 0, len(c.Retention.Periods))
	for k := range c.Retention.Periods {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k != retention.LedgerKind && !slices.Contains(retentionKinds(), k) {
			return p, 0, fmt.Errorf("retention.periods.%s: not a kind with personal data (%s, or %s)", k, strings.Join(retentionKinds(), ", "), retention.LedgerKind)
		}
		d, err := retentionPeriod("retention.periods."+k, c.Retention.Periods[k])
		if err != nil {
			return p, 0, err
		}
		if p.Periods == nil {
			p.Periods = map[string]time.Duration{}
		}
		p.Periods[k] = d
	}
	every := 24 * time.Hour
	if c.Retention.Every != "" {
		if every, err = catalog.ParseWindow(c.Retention.Every); err != nil || every <= 0 {
			return p, 0, fmt.Errorf("retention.every: %q is not a positive length (e.g. 24h, 1d)", c.Retention.Every)
		}
	}
	if c.Retention.Key != "" {
		if _, err := parseRetentionKey(c.Retention.Key); err != nil {
			return p, 0, fmt.Errorf("CANDOR_RETENTION_KEY: %v", err)
		}
	}
	return p, every, nil
}

func retentionKinds() []string {
	var out []string
	for _, k := range domain.Kinds {
		if _, ok := retention.PersonalFields[k]; ok {
			out = append(out, string(k))
		}
	}
	return out
}

func retentionPeriod(name, v string) (time.Duration, error) {
	if v == "" || v == "0" {
		return 0, nil
	}
	d, err := catalog.ParseWindow(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s: %q is not a length (e.g. 730d, 52w), or 0 for never", name, v)
	}
	return d, nil
}

// parseRetentionKey reads a pseudonym key: the standard base64 of 32
// bytes or more.
func parseRetentionKey(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) < 32 {
		return nil, errors.New("not a pseudonym key: want the base64 of 32 random bytes (head -c 32 /dev/urandom | base64)")
	}
	return b, nil
}

// RetentionKey returns the pseudonym key and where it came from:
// CANDOR_RETENTION_KEY, else retention.key_file, else, for the embedded
// store, DATA/pseudonym.key, made on first use. With PostgreSQL there is
// no data directory, and no key is an error. Replacing the key gives the
// customers pseudonymised after it other pseudonyms than before: keep it.
func (c Config) RetentionKey() ([]byte, string, error) {
	return c.retentionKey(true)
}

// RetentionKeyIfMade is RetentionKey without making DATA/pseudonym.key:
// nil and its path when it does not exist yet (a dry run, which changes
// nothing, does not make it either).
func (c Config) RetentionKeyIfMade() ([]byte, string, error) {
	return c.retentionKey(false)
}

func (c Config) retentionKey(create bool) ([]byte, string, error) {
	switch {
	case c.Retention.Key != "":
		k, err := parseRetentionKey(c.Retention.Key)
		return k, "CANDOR_RETENTION_KEY", err
	case c.Retention.KeyFile != "":
		k, err := readRetentionKey(c.Retention.KeyFile)
		return k, c.Retention.KeyFile, err
	case c.DB != "":
		return nil, "", errors.New("retention needs a pseudonym key kept outside the database: " +
			"write 32 random bytes in base64 to a file (head -c 32 /dev/urandom | base64 > FILE) and set retention.key_file (or CANDOR_RETENTION_KEY_FILE) to it, or put them in CANDOR_RETENTION_KEY")
	}
	path := filepath.Join(c.Data, RetentionKeyFile)
	k, err := readRetentionKey(path)
	if !errors.Is(err, fs.ErrNotExist) || !create {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, path, nil
		}
		return k, path, err
	}
	k = make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, "", err
	}
	// Written whole or not at all, as the ledger's key: a file made and
	// then written, left empty by a process killed in between, stopped
	// every later start with "not a pseudonym key", and a key lost to a
	// power loss makes the pseudonyms already written unmatchable.
	if err := newfile.Write(path, []byte(base64.StdEncoding.EncodeToString(k)+"\n"), 0o600); errors.Is(err, fs.ErrExist) {
		// Another process starting beside this one made it first.
		k, err = readRetentionKey(path)
		return k, path, err
	} else if err != nil {
		return nil, "", fmt.Errorf("pseudonym key: %w", err)
	}
	return k, path, nil
}

func readRetentionKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pseudonym key: %w", err)
	}
	k, err := parseRetentionKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("pseudonym key %s: %v", path, err)
	}
	return k, nil
}
