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

// CANDOR_IMAGE takes off in any case; a bare word — no directory, no
// extension — is refused naming the variable, with off suggested for a
// near miss: OFF and of had been taken for files in the working
// directory (OFF, OFF.dataset written there, the image on). image.path in
// the file is held to the same rule, naming its line.
func TestImageOffAndBareWords(t *testing.T) {
	for v, want := range map[string]string{"OFF": "", "Off": "", " off ": "", "./OFF": "./OFF", "img.bin": "img.bin", "/var/lib/candor/img": "/var/lib/candor/img"} {
		c, err := Load("", env(map[string]string{"CANDOR_IMAGE": v, "CANDOR_DATA": "/d"}))
		if err != nil || c.ImagePath() != want {
			t.Errorf("CANDOR_IMAGE=%q: path %q, %v; want %q", v, c.ImagePath(), err, want)
		}
	}
	for v, want := range map[string]string{
		"of":    `CANDOR_IMAGE: "of" is neither off nor a path: did you mean off?`,
		"0ff":   `CANDOR_IMAGE: "0ff" is neither off nor a path: did you mean off?`,
		"offf":  `CANDOR_IMAGE: "offf" is neither off nor a path: did you mean off?`,
		"on":    `CANDOR_IMAGE: "on" is neither off nor a path: a path names a directory or has an extension (./on,`,
		"image": `CANDOR_IMAGE: "image" is neither off nor a path: a path names a directory or has an extension (./image,`,
	} {
		if _, err := Load("", env(map[string]string{"CANDOR_IMAGE": v})); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("CANDOR_IMAGE=%q: %v, want %q", v, err, want)
		}
	}
	for file, want := range map[string]string{
		"data: /d\nimage:\n  path: off\n":     `candor.yaml:3: image.path: "off" is not a path: to turn the image off write image.off: true`,
		"data: /d\nimage:\n  path: candor\n":  `candor.yaml:3: image.path: "candor" is not a path: a path names a directory or has an extension`,
		"data: /d\nimage:\n  path: ./img\n":   "",
		"data: /d\nimage:\n  path: img.bin\n": "",
	} {
		_, err := Load(write(t, file), env(nil))
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%q: %v, want %q", file, err, want)
		}
	}
}
