package config

import (
	"strings"
	"testing"
	"time"
)

func TestTimeouts(t *testing.T) {
	c, err := Load("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Timeouts()
	if err != nil || got != (Timeouts{Read: time.Minute, Write: 2 * time.Minute, Idle: 2 * time.Minute}) {
		t.Errorf("defaults = %+v, %v", got, err)
	}
	c, err = Load(write(t, "read_timeout: 30s\nwrite_timeout: 90s\n"), env(map[string]string{"CANDOR_IDLE_TIMEOUT": "5m"}))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := c.Timeouts(); got != (Timeouts{Read: 30 * time.Second, Write: 90 * time.Second, Idle: 5 * time.Minute}) {
		t.Errorf("configured = %+v", got)
	}
	_, err = Load(write(t, "write_timeout: soon\n"), env(nil))
	if err == nil || !strings.Contains(err.Error(), "write_timeout") {
		t.Errorf("a bad timeout: %v, want an error naming write_timeout", err)
	}
	_, err = Load("", env(map[string]string{"CANDOR_READ_TIMEOUT": "0s"}))
	if err == nil || !strings.Contains(err.Error(), "CANDOR_READ_TIMEOUT") {
		t.Errorf("a zero timeout: %v, want an error naming CANDOR_READ_TIMEOUT", err)
	}
}

// IsPostgresURL is the one test of a PostgreSQL URL, for db, CANDOR_DB and
// --db alike (it had been written in config and in cmd/candor's openStore).
func TestIsPostgresURL(t *testing.T) {
	for db, want := range map[string]bool{"postgres://u@h/db": true, "postgresql://h/db": true, "mysql://x": false, "": false, "/var/lib/candor": false} {
		if got := IsPostgresURL(db); got != want {
			t.Errorf("IsPostgresURL(%q) = %v, want %v", db, got, want)
		}
	}
}
