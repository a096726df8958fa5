package bench

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// The whole-process scorecard of a PostgreSQL benchmark gets the store's
// URL in its environment, not on its command line, which every local
// user may read (ps) — password included.
func TestCLIGetsTheURLInItsEnvironment(t *testing.T) {
	const url = "postgres://candor:s3cretpw@db.example/candor"
	cli := filepath.Join(t.TempDir(), "candor")
	script := "#!/bin/sh\n[ \"$CANDOR_DB\" = '" + url + "' ] || exit 3\ncase \"$*\" in *s3cretpw*) exit 4;; esac\n"
	if err := os.WriteFile(cli, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	opt := &Options{CLI: []string{cli}, CLIEnv: []string{"CANDOR_DB=" + url}}
	var took, peak float64
	if err := cliRun(context.Background(), opt, filepath.Join(t.TempDir(), "candor.image"), &took, &peak); err != nil {
		t.Fatal(err)
	}
}
