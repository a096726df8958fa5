package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
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
		// Shown without its password: a mistyped scheme (postgress://,
		// postgresql:/) had printed the URL whole, password and all.
		return fmt.Errorf("%q is not a postgres:// URL", RedactURL(db))
	}
	u, err := url.Parse(db)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		msg := err.Error()
		if quotesUserinfo(msg, db) {
			// url.Parse quotes what it stumbled on: in the user name or
			// password (an unescaped '/' ends the host early, and what
			// follows its ':' is then a bad port) that is the password.
			msg = "the user name or password holds a character that must be percent-encoded (/ as %2F, % as %25, @ as %40, ? as %3F, # as %23)"
		}
		return fmt.Errorf("the postgres:// URL cannot be parsed: %s", msg)
	}
	// A port the driver cannot read (127.0.0.1:5432:1, which url.Parse
	// takes) is the same mistake as one url.Parse refuses: it had been
	// found only when the driver parsed it, exiting 1 as a failure of the
	// store. The driver's rule: a host ends at the first ':' (after the
	// brackets of an IPv6 address), and hosts are separated by commas.
	for _, h := range strings.Split(u.Host, ",") {
		if strings.HasPrefix(h, "[") {
			if i := strings.IndexByte(h, ']'); i >= 0 {
				h = h[i+1:]
			}
		}
		_, port, ok := strings.Cut(h, ":")
		if !ok || port == "" {
			continue
		}
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
			return fmt.Errorf("the postgres:// URL cannot be parsed: the port %q is not a number from 1 to 65535", port)
		}
	}
	return nil
}

// passwordParam is a password given as a parameter of a URL's query
// (?password=…) or of a key=value connection string.
var passwordParam = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*)`)

// redactedError is an error whose text shows no password or secret
// (RedactText); errors.As and errors.Is see the error it wraps.
type redactedError struct{ err error }

func (e *redactedError) Error() string { return RedactText(e.err.Error()) }
func (e *redactedError) Unwrap() error { return e.err }

var (
	// urlUserinfo is a URL's user name and password in a text: the
	// password runs to the last '@' of the word, as RedactURL takes it.
	urlUserinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^\s:/@"']*:)\S*@`)
	// snippetLine is a line of a quoted file (a YAML snippet: "  3 | key:
	// value", the line of the mistake marked "> "): its number, and the
	// text of the file's line.
	snippetLine = regexp.MustCompile(`^(\s*>?\s*\d+\s*\|)(.*)$`)
	// secretKey is a key naming a secret — a password, a webhook or client
	// secret, a token — quoted or not, in block or flow style, and its
	// value: quoted, or plain up to a flow collection's separator. Keys
	// that name where a secret is (webhook_secret_env) or how it is used
	// (token_recheck, password_login) do not end so.
	secretKey = regexp.MustCompile(`((?:^|[\s{,])["']?(?:secret|password|token|[A-Za-z0-9_]*_(?:secret|password|token))["']?\s*:)(\s*)("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^,}\]\s][^,}\]]*)?`)
	// textPasswordParam is passwordParam in a message, which may quote
	// the string it is in: the quote ends the value.
	textPasswordParam = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&"]*)`)
)

// RedactText is a message with every URL's password, password parameter
// and quoted secret line's value replaced by xxxxx: for messages that
// quote what the operator wrote, such as a configuration file's lines
// around a mistake.
func RedactText(s string) string {
	s = urlUserinfo.ReplaceAllString(s, "${1}xxxxx@")
	s = textPasswordParam.ReplaceAllString(s, "${1}xxxxx")
	lines := strings.Split(s, "\n")
	// block is the indentation of a secret's key whose value is a block
	// scalar (client_secret: >-): the file's lines below it indented more
	// are the value. -1: none.
	block := -1
	for i, line := range lines {
		m := snippetLine.FindStringSubmatch(line)
		if m == nil {
			block = -1
			continue
		}
		text := m[2]
		indent := len(text) - len(strings.TrimLeft(text, " "))
		if block >= 0 {
			if strings.TrimSpace(text) == "" || indent > block {
				lines[i] = m[1] + strings.Repeat(" ", indent) + "xxxxx"
				continue
			}
			block = -1
		}
		text = secretKey.ReplaceAllStringFunc(text, func(kv string) string {
			sm := secretKey.FindStringSubmatch(kv)
			v := strings.TrimSpace(sm[3])
			switch {
			case v == "":
				return kv
			case strings.HasPrefix(v, ">") || strings.HasPrefix(v, "|"):
				block = indent
				return kv
			}
			return sm[1] + sm[2] + "xxxxx"
		})
		lines[i] = m[1] + text
	}
	return strings.Join(lines, "\n")
}

// RedactURL is db as a message may show it: the password of its user
// information, and a password parameter, replaced by xxxxx (as the
// driver's own messages write it). A string that does not parse as a URL
// with user information (postgresql:/candor:pw@host/db) has everything
// between its scheme and its last '@' replaced: what it holds there
// cannot be told apart, and may be the password.
func RedactURL(db string) string {
	if u, err := url.Parse(db); err == nil && u.User != nil {
		db = u.Redacted()
	} else if start, at, ok := userinfoSpan(db); ok {
		db = db[:start] + "xxxxx" + db[at:]
	}
	return passwordParam.ReplaceAllString(db, "${1}xxxxx")
}

// quotesUserinfo says whether msg quotes a piece of what may be db's user
// information: the text between its scheme and its last '@'.
func quotesUserinfo(msg, db string) bool {
	start, at, ok := userinfoSpan(db)
	if !ok {
		return false
	}
	info := db[start:at]
	for _, q := range quoted.FindAllStringSubmatch(msg, -1) {
		if v := strings.TrimLeft(q[1], ":"); v != "" && strings.Contains(info, v) {
			return true
		}
	}
	return false
}

// userinfoSpan is where db's user information may be: from the end of
// its scheme and slashes to its last '@'; ok false when it has no '@'.
func userinfoSpan(db string) (start, at int, ok bool) {
	at = strings.LastIndexByte(db, '@')
	if at < 0 {
		return 0, 0, false
	}
	if m := schemePrefix.FindStringIndex(db); m != nil && m[1] <= at {
		start = m[1]
	}
	return start, at, true
}

// quoted is a value a message quotes.
var quoted = regexp.MustCompile(`"([^"]*)"`)

// schemePrefix is a URL's scheme and the slashes after it ("postgres://",
// "postgresql:/", "pg:").
var schemePrefix = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:/*`)

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
