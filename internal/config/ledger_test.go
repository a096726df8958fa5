package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/candor/candor/internal/ledger"
)

// TestLedgerKey: the key comes from CANDOR_LEDGER_KEY, else the key file,
// else the embedded store's data directory (made once, then reused); a
// PostgreSQL store has no data directory, and no key is an error saying
// how to make one.
func TestLedgerKey(t *testing.T) {
	dir := t.TempDir()
	c := Default()
	c.Data = dir
	k1, from, created, err := c.LedgerKey()
	if err != nil || !created || from != filepath.Join(dir, "ledger.key") {
		t.Fatalf("first use: %v from %s created %v", err, from, created)
	}
	k2, _, created, err := c.LedgerKey()
	if err != nil || created || !k2.Equal(k1) {
		t.Fatalf("second use: %v created %v, same key %v", err, created, k2.Equal(k1))
	}

	other, _ := ledger.GenerateKey()
	file := filepath.Join(dir, "elsewhere.key")
	ledger.WriteKeyFile(file, other)
	c.Ledger.KeyFile = file
	if k, from, _, err := c.LedgerKey(); err != nil || !k.Equal(other) || from != file {
		t.Errorf("key file: %v from %s", err, from)
	}
	env := map[string]string{"CANDOR_LEDGER_KEY": ledger.FormatKey(k1), "CANDOR_DATA": dir}
	lc, err := Load("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if k, from, _, _ := lc.LedgerKey(); !k.Equal(k1) || from != "CANDOR_LEDGER_KEY" {
		t.Errorf("CANDOR_LEDGER_KEY: from %s", from)
	}
	env["CANDOR_LEDGER_KEY"] = "not a key"
	if _, err := Load("", func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "CANDOR_LEDGER_KEY") {
		t.Errorf("a bad CANDOR_LEDGER_KEY: %v", err)
	}

	pg := Default()
	pg.DB = "postgres://db/candor"
	if _, _, _, err := pg.LedgerKey(); err == nil || !strings.Contains(err.Error(), "candor ledger keygen --out FILE") {
		t.Errorf("PostgreSQL without a key: %v", err)
	}
	if _, err := os.Stat(filepath.Join(pg.Data, "ledger.key")); err == nil {
		t.Error("a PostgreSQL configuration made a key in the default data directory")
	}

	cfg := filepath.Join(dir, "candor.yaml")
	os.WriteFile(cfg, []byte("ledger:\n  trusted_keys: [nope]\n"), 0o600)
	if _, err := Load(cfg, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "ledger.trusted_keys[0]") {
		t.Errorf("a bad trusted key: %v", err)
	}
}

// Processes starting at once on a new data directory (a server and an
// import) each make the signing key on first use: all get the one key
// written, none a half-written file ("not a ledger key") or the refusal
// to overwrite one ("exists"), which had stopped them.
func TestLedgerKeyMadeOnceByConcurrentStarts(t *testing.T) {
	madeOnceByConcurrentStarts(t, func(c Config) (string, error) {
		k, _, _, err := c.LedgerKey()
		return string(k), err
	})
}

// madeOnceByConcurrentStarts has processes starting at once on new data
// directories each make a key on first use (key), and fails unless all
// succeed and get one key.
func madeOnceByConcurrentStarts(t *testing.T, key func(Config) (string, error)) {
	t.Helper()
	for range 20 {
		c := Default()
		c.Data = t.TempDir()
		const n = 8
		keys := make(chan string, n)
		errs := make(chan error, n)
		start := make(chan struct{})
		for range n {
			go func() {
				<-start
				k, err := key(c)
				if err != nil {
					errs <- err
					return
				}
				keys <- k
			}()
		}
		close(start)
		seen := map[string]bool{}
		for range n {
			select {
			case err := <-errs:
				t.Fatalf("a concurrent first use: %v", err)
			case k := <-keys:
				seen[k] = true
			}
		}
		if len(seen) != 1 {
			t.Fatalf("%d different keys from one data directory", len(seen))
		}
	}
}
