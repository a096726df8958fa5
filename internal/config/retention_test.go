package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The pseudonym key is made as the ledger's key is: processes starting at
// once on a new data directory all get the one key, where the others had
// stopped with "exists" or read the file made but not yet written ("not a
// pseudonym key"); and a creation killed part way, which leaves only a
// temporary file, neither names the key file nor stops the next start.
func TestPseudonymKeyMadeWhole(t *testing.T) {
	madeOnceByConcurrentStarts(t, func(c Config) (string, error) {
		k, _, err := c.RetentionKey()
		return string(k), err
	})

	c := Default()
	c.Data = t.TempDir()
	left := filepath.Join(c.Data, "."+RetentionKeyFile+".new-123")
	if err := os.WriteFile(left, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if k, _, err := c.RetentionKeyIfMade(); k != nil || err != nil {
		t.Fatalf("after a killed creation: key %x, %v; want none made yet", k, err)
	}
	k, path, err := c.RetentionKey()
	if err != nil || len(k) != 32 || path != filepath.Join(c.Data, RetentionKeyFile) {
		t.Fatalf("RetentionKey = %x, %s, %v", k, path, err)
	}
	if again, _, err := c.RetentionKey(); err != nil || string(again) != string(k) {
		t.Fatalf("the key made is not the key read: %x, %v", again, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, %v; want readable by its owner only", path, fi.Mode(), err)
	}
}

// A measurement's customer is personal data, so measurements take a
// retention period of their own; a kind without personal data is refused,
// naming those that have some.
func TestRetentionPeriodOfMeasurements(t *testing.T) {
	c := Config{Retention: RetentionConfig{PersonalAfter: "730d", Periods: map[string]string{"measurement": "90d"}}}
	p, _, err := c.RetentionPolicy()
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Period("measurement"); got != 90*24*time.Hour {
		t.Errorf("measurement period %v, want 90 days", got)
	}
	c.Retention.Periods = map[string]string{"deployment": "90d"}
	_, _, err = c.RetentionPolicy()
	if err == nil || !strings.Contains(err.Error(), "retention.periods.deployment: not a kind with personal data") || !strings.Contains(err.Error(), "measurement") {
		t.Errorf("error %v, want deployment refused with measurement among the kinds named", err)
	}
}
