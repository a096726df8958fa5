package config

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
)

// ImageConfig is the dataset image (docs/design.md, "The image"): a file
// a starting process reads instead of most of the store.
type ImageConfig struct {
	// Off turns it off: every start reads the whole store, and nothing
	// writes an image.
	Off bool `yaml:"off"`
	// Path is the file (default: candor.image in the data directory — with
	// PostgreSQL too, so each instance keeps its own, in its own data
	// directory).
	Path string `yaml:"path"`
	// Every is how often `candor serve` writes it again when the data
	// moved (default 10m; sooner after 100,000 new rows).
	Every string `yaml:"every"`
}

// ImagePath is where the dataset image lives, or "" when it is off.
func (c Config) ImagePath() string {
	switch {
	case c.Image.Off:
		return ""
	case strings.TrimSpace(c.Image.Path) != "":
		return c.Image.Path
	}
	return filepath.Join(c.Data, "candor.image")
}

// ImageEvery is image.every: DefaultImageEvery when unset; positive.
func (c Config) ImageEvery() (time.Duration, error) {
	if strings.TrimSpace(c.Image.Every) == "" {
		return DefaultImageEvery, nil
	}
	d, err := catalog.ParseWindow(c.Image.Every)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("image.every: %q is not a positive duration", c.Image.Every)
	}
	return d, nil
}

// DefaultImageEvery is image.every when unset.
const DefaultImageEvery = 10 * time.Minute

// applyImage reads CANDOR_IMAGE: off (in any case), or a path. A bare
// word — no directory, no extension — is neither: OFF and of had been
// taken for files in the working directory, which serve then wrote
// (OFF, OFF.dataset) with the image on.
func (c *Config) applyImage(v string) error {
	switch v = strings.TrimSpace(v); {
	case v == "":
	case strings.EqualFold(v, "off"):
		c.Image.Off = true
	case bareWord(v) && nearOff(v):
		return fmt.Errorf("%q is neither off nor a path: did you mean off?", v)
	case bareWord(v):
		return fmt.Errorf("%q is neither off nor a path: a path names a directory or has an extension (./%s, /var/lib/candor/candor.image)", v, v)
	default:
		c.Image.Off, c.Image.Path = false, v
	}
	return nil
}

// checkImage refuses an image.path that is a bare word, as CANDOR_IMAGE
// does: the file turns the image off with image.off, so path: off is a
// mistake too, not a file named off.
func (c Config) checkImage() error {
	v := strings.TrimSpace(c.Image.Path)
	switch {
	case v == "" || !bareWord(v):
		return nil
	case strings.EqualFold(v, "off") || nearOff(v):
		return fmt.Errorf("image.path: %q is not a path: to turn the image off write image.off: true", v)
	}
	return fmt.Errorf("image.path: %q is not a path: a path names a directory or has an extension (./%s, /var/lib/candor/candor.image)", v, v)
}

// bareWord says whether an image path names neither a directory nor an
// extension (candor.image, ./img and /var/lib/candor/img do).
func bareWord(v string) bool {
	return !strings.ContainsRune(v, filepath.Separator) && filepath.Ext(v) == ""
}

// nearOff says whether a bare word was probably meant as off: of, offf,
// 0ff (not on, which is as near by letters).
func nearOff(v string) bool {
	l := strings.ToLower(v)
	return domain.Closest(l, []string{"off"}) != "" && (strings.HasPrefix(l, "of") || strings.HasSuffix(l, "ff"))
}
