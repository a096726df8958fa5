package main

import (
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/candor/candor/internal/config"
)

// read_timeout bounds a request's headers too, as docs/configuration.md
// says: a read_timeout of 1s closes a connection whose headers trickle
// after 1s, not after the 10s headers get at most.
func TestReadTimeoutBoundsHeaders(t *testing.T) {
	for _, c := range []struct {
		file       string
		read, head time.Duration
	}{
		{"read_timeout: 1s\n", time.Second, time.Second},
		{"read_timeout: 1m\n", time.Minute, 10 * time.Second},
		{"currency: USD\n", config.DefaultReadTimeout, min(10*time.Second, config.DefaultReadTimeout)},
	} {
		path := filepath.Join(t.TempDir(), "candor.yaml")
		if err := os.WriteFile(path, []byte(c.file), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(path, func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		to, err := cfg.Timeouts()
		if err != nil {
			t.Fatal(err)
		}
		srv := httpServer(http.NotFoundHandler(), to, slog.New(slog.DiscardHandler))
		if srv.ReadTimeout != c.read || srv.ReadHeaderTimeout != c.head {
			t.Errorf("%q: read %v, headers %v; want %v, %v", c.file, srv.ReadTimeout, srv.ReadHeaderTimeout, c.read, c.head)
		}
	}
}
