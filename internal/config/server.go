package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Timeouts are the connection timeouts of `candor serve`.
type Timeouts struct {
	// Read bounds reading a request, headers and body: a slow client
	// cannot hold a connection open by trickling bytes.
	Read time.Duration
	// Write bounds answering a request, from the end of its headers.
	Write time.Duration
	// Idle is how long a kept-alive connection waits for its next request.
	Idle time.Duration
}

// checkAddr refuses an addr that is not HOST:PORT, which net.Listen would
// report without naming the key or variable.
func (c Config) checkAddr() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("addr: %q is not HOST:PORT, such as 127.0.0.1:8080 or :8080", c.Addr)
	}
	return nil
}

// checkMaxBody refuses a body limit that is not positive, as
// CANDOR_MAX_BODY_BYTES does: the server had taken 0 or -5 from the file
// for 32 MiB without a word.
func (c Config) checkMaxBody() error {
	if c.MaxBodyBytes <= 0 {
		return fmt.Errorf("max_body_bytes: %d is not a positive number of bytes", c.MaxBodyBytes)
	}
	return nil
}

// checkDB refuses a db that is not a PostgreSQL URL here, where the error
// can name the file's line or CANDOR_DB; a --db flag is checked where it
// is read.
func (c Config) checkDB() error {
	if c.DB == "" {
		return nil
	}
	if err := CheckPostgresURL(c.DB); err != nil {
		return fmt.Errorf("db: %w", err)
	}
	return nil
}

// CheckPostgresURL refuses a db that is not a PostgreSQL URL or cannot be
// parsed as a URL, without repeating a URL it cannot parse: its password
// could be in it. A malformed URL ("postgres://%zz") had been found only
// when the driver parsed it, after the ledger's key was looked for, and
// exited 1 as a failure of the store.
func CheckPostgresURL(db string) error {
	if !IsPostgresURL(db) {
		return fmt.Errorf("%q is not a postgres:// URL", db)
	}
	if _, err := url.Parse(db); err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("the postgres:// URL cannot be parsed: %v", err)
	}
	return nil
}

// IsPostgresURL says whether db is a PostgreSQL URL (postgres:// or
// postgresql://): the test of db, CANDOR_DB and --db.
func IsPostgresURL(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// Default timeouts: a minute to send a request (a 32 MiB body on a slow
// link), two to answer it (a large drill-down), two of idleness.
const (
	DefaultReadTimeout  = time.Minute
	DefaultWriteTimeout = 2 * time.Minute
	DefaultIdleTimeout  = 2 * time.Minute
)

// Timeouts returns the serve timeouts, defaults for those not set, naming
// the field of one that is not a duration.
func (c Config) Timeouts() (Timeouts, error) {
	t := Timeouts{Read: DefaultReadTimeout, Write: DefaultWriteTimeout, Idle: DefaultIdleTimeout}
	for _, f := range []struct {
		name, v string
		dst     *time.Duration
	}{
		{"read_timeout", c.ReadTimeout, &t.Read},
		{"write_timeout", c.WriteTimeout, &t.Write},
		{"idle_timeout", c.IdleTimeout, &t.Idle},
	} {
		if err := setDuration(f.name, f.v, f.dst); err != nil {
			return t, err
		}
	}
	return t, nil
}
