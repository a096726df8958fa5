package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The image lives in the data directory unless image.path or CANDOR_IMAGE
// says otherwise; image.off or CANDOR_IMAGE=off turn it off; a bad
// image.every is refused at load naming the key.
func TestImageConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	for _, c := range []struct {
		file, env string
		want      string
		every     time.Duration
		bad       string
	}{
		{file: "data: /d\n", want: "/d/candor.image", every: DefaultImageEvery},
		{file: "data: /d\nimage:\n  path: /fast/img\n  every: 1h\n", want: "/fast/img", every: time.Hour},
		{file: "data: /d\nimage:\n  off: true\n", want: ""},
		{file: "data: /d\n", env: "off", want: ""},
		{file: "data: /d\nimage:\n  off: true\n", env: "/e/img", want: "/e/img"},
		{file: "image:\n  every: often\n", bad: "image.every"},
		{file: "image:\n  every: 0s\n", bad: "image.every"},
	} {
		if err := os.WriteFile(path, []byte(c.file), 0o644); err != nil {
			t.Fatal(err)
		}
		vars := map[string]string{}
		if c.env != "" {
			vars["CANDOR_IMAGE"] = c.env
		}
		cfg, err := Load(path, env(vars))
		if c.bad != "" {
			if err == nil || !strings.Contains(err.Error(), c.bad) {
				t.Errorf("%q: err = %v, want one naming %s", c.file, err, c.bad)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", c.file, err)
		}
		if got := cfg.ImagePath(); got != c.want {
			t.Errorf("%q env %q: path %q, want %q", c.file, c.env, got, c.want)
		}
		if c.every != 0 {
			if got, _ := cfg.ImageEvery(); got != c.every {
				t.Errorf("%q: every %v, want %v", c.file, got, c.every)
			}
		}
	}
}
