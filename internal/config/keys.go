package config

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/candor/candor/internal/domain"
)

// yamlError words a decoding error of the configuration file with the file
// and line; an unknown key also gets the key it was probably meant to be.
func yamlError(path string, err error) error {
	snippet := yaml.FormatError(err, false, true)
	var ue *yaml.UnknownFieldError
	if !errors.As(err, &ue) || ue.GetToken() == nil {
		// The library starts with "[line:col] message"; say it as
		// FILE:LINE:COL: message, the way every other input error reads.
		head, src, _ := strings.Cut(snippet, "\n")
		if pos, msg, ok := strings.Cut(strings.TrimPrefix(head, "["), "] "); ok && strings.HasPrefix(head, "[") {
			return fmt.Errorf("config %s:%s: %s\n%s", path, pos, msg, src)
		}
		return fmt.Errorf("config %s:\n%s", path, snippet)
	}
	tok := ue.GetToken()
	key := tok.Value
	msg := fmt.Sprintf("config %s:%d: unknown key %q", path, tok.Position.Line, key)
	// A key at the left margin is a top-level one; any other belongs to a
	// nested block (a metric override, its thresholds).
	top := tok.Position.Column == 1
	if s := domain.Closest(key, yamlKeys(reflect.TypeFor[Config](), top)); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	// The library's snippet, without its own "[line:col] message" line.
	if _, src, ok := strings.Cut(snippet, "\n"); ok {
		msg += "\n" + src
	}
	return errors.New(msg)
}

// yamlKeys lists the YAML keys of t's fields (top) or of the structs
// nested in them (not top), following pointers, maps and slices.
func yamlKeys(t reflect.Type, top bool) []string {
	var out []string
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type, depth int)
	walk = func(t reflect.Type, depth int) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Map || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			if (depth == 0) == top {
				out = append(out, name)
			}
			walk(f.Type, depth+1)
		}
	}
	walk(t, 0)
	slices.Sort(out)
	return slices.Compact(out)
}

// devEnv are CANDOR_* variables read by Candor's tests and benchmarks, not
// by the binary; a developer's shell may hold them.
var devEnv = []string{"CANDOR_BENCH_SCALE", "CANDOR_TEST_POSTGRES_URL", "CANDOR_REQUIRE_POSTGRES", "CANDOR_UPDATE_DOCS"}

// CheckEnviron refuses CANDOR_* variables Candor does not read (environ
// is KEY=VALUE pairs, as os.Environ gives them), each with the one it was
// probably meant to be: a mistyped CANDOR_DTA would otherwise leave the
// data in the default directory without a word.
func CheckEnviron(environ []string) error {
	known := slices.Clone(devEnv)
	for _, e := range Env {
		known = append(known, e.Name)
	}
	var errs []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "CANDOR_") || slices.Contains(known, name) {
			continue
		}
		msg := name + ": not a variable Candor reads"
		if s := domain.Closest(name, known); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		} else {
			msg += " (docs/configuration.md lists them)"
		}
		errs = append(errs, msg)
	}
	if len(errs) == 0 {
		return nil
	}
	slices.Sort(errs)
	return errors.New("environment: " + strings.Join(errs, "; "))
}
