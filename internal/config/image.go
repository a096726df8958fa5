package config

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
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

// applyImage reads CANDOR_IMAGE: a path, or "off".
func (c *Config) applyImage(v string) {
	switch v = strings.TrimSpace(v); v {
	case "":
	case "off":
		c.Image.Off = true
	default:
		c.Image.Off, c.Image.Path = false, v
	}
}
