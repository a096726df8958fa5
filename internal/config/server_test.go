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

// A db that is not a postgres:// URL, or cannot be parsed, is refused
// without its password, from the file, CANDOR_DB or a URL the parser
// stumbles in: a mistyped scheme had printed the URL whole
// ("postgress://candor:choose-one@…"), into the journal.
func TestDBErrorsNeverShowThePassword(t *testing.T) {
	cases := []struct {
		file string
		vars map[string]string
		want string
	}{
		{"db: postgress://candor:choose-one@127.0.0.1:55432/x\n", nil, `candor.yaml:1: db: "postgress://candor:xxxxx@127.0.0.1:55432/x" is not a postgres:// URL`},
		{"db: postgresql:/candor:choose-one@127.0.0.1:55432/candor\n", nil, `candor.yaml:1: db: "postgresql:/xxxxx@127.0.0.1:55432/candor" is not a postgres:// URL`},
		{"", map[string]string{"CANDOR_DB": "pg://candor:choose-one@127.0.0.1:55432/candor"}, `CANDOR_DB: "pg://candor:xxxxx@127.0.0.1:55432/candor" is not a postgres:// URL`},
		{"", map[string]string{"CANDOR_DB": "host=db user=candor password=choose-one"}, `CANDOR_DB: "host=db user=candor password=xxxxx" is not a postgres:// URL`},
		{"", map[string]string{"CANDOR_DB": "postgresq://candor@db/candor?sslmode=disable&password=choose-one"}, `CANDOR_DB: "postgresq://candor@db/candor?sslmode=disable&password=xxxxx" is not a postgres:// URL`},
		// An unescaped '/' in the password ends the host early, and the
		// parser quotes the rest as a bad port.
		{"db: postgres://candor:choose/one@127.0.0.1/candor\n", nil, `candor.yaml:1: db: the postgres:// URL cannot be parsed: the user name or password holds a character that must be percent-encoded`},
		{"db: postgres://candor:choose%zzone@127.0.0.1/candor\n", nil, `the user name or password holds a character that must be percent-encoded`},
	}
	for _, c := range cases {
		_, err := Load(write(t, c.file), env(c.vars))
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "choose") {
			t.Errorf("%q %v: err = %v, want one holding %q, without the password", c.file, c.vars, err, c.want)
		}
	}
	for db, want := range map[string]string{
		"postgres://u@h/db":         "postgres://u@h/db",
		"postgres://u:pw@h/db":      "postgres://u:xxxxx@h/db",
		"mysql://x":                 "mysql://x",
		"postgresql:/u:p@w@h/db":    "postgresql:/xxxxx@h/db",
		"u:pw@h/db":                 "u:xxxxx@h/db",
		"host=h password='a b' x=y": "host=h password=xxxxx x=y",
	} {
		if got := RedactURL(db); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", db, got, want)
		}
	}
}

// A mistake beside the db: line, or beside a secret, quotes the file's
// lines around it without the password or the secret: the YAML library's
// snippet had shown "db: postgres://candor:s3cretpw@…" whole.
func TestFileErrorsQuoteNoSecret(t *testing.T) {
	const db = "db: postgres://candor:s3cretpw@db.example/candor\n"
	for _, c := range []struct{ file, want string }{
		{db + "sesion_max_age: 1h\n", `unknown key "sesion_max_age"`},
		{db + "read_copies: x\n", "read_copies"},
		{db + "addr: [\n", "candor.yaml"},
		{"db: [postgres://candor:s3cretpw@db.example/candor]\n", "db"},
		{"auth:\n  oidc:\n    client_secret: s3cretpw\n    client_idd: x\n", `unknown key "client_idd"`},
		{"connectors:\n  github:\n    secret: s3cretpw\n    secrett: y\n", `unknown key "secrett"`},
		{"db: host=db user=candor password=s3cretpw\nsesion_max_age: 1h\n", `unknown key "sesion_max_age"`},
		// A flow map, a quoted key, a quoted value, a block scalar.
		{"auth:\n  oidc: {issuer: https://id.example.com, client_secret: s3cretpw, client_idd: x}\n", "client_idd"},
		{"auth:\n  oidc:\n    \"client_secret\": s3cretpw\n    client_idd: x\n", "client_idd"},
		{"auth:\n  oidc:\n    client_secret: \"s3cretpw, still\"\n    client_idd: x\n", "client_idd"},
		{"auth:\n  oidc:\n    client_secret: >-\n      s3cretpw\n      s3cretpw again\n    client_idd: x\n", "client_idd"},
	} {
		_, err := Load(write(t, c.file), env(nil))
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "s3cretpw") {
			t.Errorf("%q: err = %v, want one holding %q, without the secret", c.file, err, c.want)
		}
	}
	// What is not a secret is quoted as written.
	_, err := Load(write(t, "auth:\n  token_recheck: 5m\n  password_login: true\n  oidc:\n    issuer: https://id.example.com\n    client_idd: x\n"), env(nil))
	if err == nil || !strings.Contains(err.Error(), "token_recheck: 5m") && !strings.Contains(err.Error(), "issuer: https://id.example.com") {
		t.Errorf("a mistake's neighbours that are no secret: %v", err)
	}
}

// A port the driver cannot read is a mistake of the URL, found where it
// is read (exit 2, naming where it was set), as url.Parse's own are: one
// url.Parse takes (5432:1) had reached the driver and exited 1.
func TestDBPortChecked(t *testing.T) {
	for _, c := range []struct{ db, want string }{
		{"postgres://u:pw@127.0.0.1:5432:1/candor", `CANDOR_DB: the postgres:// URL cannot be parsed: the port "5432:1" is not a number from 1 to 65535`},
		{"postgres://u:pw@127.0.0.1:notaport/candor", `CANDOR_DB: the postgres:// URL cannot be parsed: invalid port ":notaport" after host`},
		{"postgres://u:pw@h1:5432,h2:0/candor", `the port "0" is not a number`},
	} {
		if _, err := Load("", env(map[string]string{"CANDOR_DB": c.db})); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.db, err, c.want)
		}
	}
	for _, db := range []string{"postgres://u@h1:5432,h2:5433/db", "postgres://u@[::1]:5432/db", "postgres://u@/db?host=/run/postgresql", "postgres://u@h/db"} {
		if err := CheckPostgresURL(db); err != nil {
			t.Errorf("%s: %v", db, err)
		}
	}
}
