package catalog

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// FractionsInWholeFields finds a number with a fraction written where a
// YAML file decoded into t holds a whole number (read_copies: 1.5, a gate
// scope's tiers: [1.5]): the YAML library truncates it into the field, so
// 1.5 ran as 1 with nothing said. It walks the file's floats and follows
// each one's path through t's yaml tags; a path it cannot follow (a map of
// documents, a field decoded by its own UnmarshalYAML) is left to that
// field's own check. what names the file in the error ("config FILE").
func FractionsInWholeFields(what string, src []byte, t reflect.Type) error {
	f, err := parser.ParseBytes(src, 0)
	if err != nil {
		return nil // the decoder reports it, with its position
	}
	for _, n := range ast.FilterFile(ast.FloatType, f) {
		fl, ok := n.(*ast.FloatNode)
		if !ok || fl.Value == float64(int64(fl.Value)) {
			continue // 2.0 loses nothing
		}
		ft := TypeAt(t, n.GetPath())
		if ft == nil {
			continue
		}
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem() // an optional whole number (read_copies)
		}
		switch ft.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			key := strings.TrimPrefix(n.GetPath(), "$.")
			return fmt.Errorf("%s:%d: %s: %s is not a whole number", what, n.GetToken().Position.Line, key, n.GetToken().Value)
		}
	}
	return nil
}

// TypeAt is the Go type a YAML path ("$.alerts.routes[0].name") decodes
// into from t, nil where it cannot be followed.
func TypeAt(t reflect.Type, path string) reflect.Type {
	rest, ok := strings.CutPrefix(path, "$")
	if !ok {
		return nil
	}
	for rest != "" {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if ownDecoder(t) {
			return nil
		}
		switch {
		case strings.HasPrefix(rest, "["):
			end := strings.IndexByte(rest, ']')
			if end < 0 || (t.Kind() != reflect.Slice && t.Kind() != reflect.Array) {
				return nil
			}
			if _, err := strconv.Atoi(rest[1:end]); err != nil {
				return nil
			}
			t, rest = t.Elem(), rest[end+1:]
		case strings.HasPrefix(rest, "."):
			rest = rest[1:]
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			key := rest[:end]
			rest = rest[end:]
			switch t.Kind() {
			case reflect.Map:
				t = t.Elem()
			case reflect.Struct:
				if t = fieldByTag(t, key); t == nil {
					return nil
				}
			default:
				return nil
			}
		default:
			return nil
		}
	}
	if ownDecoder(t) {
		return nil
	}
	return t
}

// fieldByTag is the type of t's field the YAML key names (through inlined
// structs), nil when none does.
func fieldByTag(t reflect.Type, key string) reflect.Type {
	for f := range t.Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if strings.Contains(opts, "inline") {
			if ft := fieldByTag(f.Type, key); ft != nil {
				return ft
			}
			continue
		}
		if name == key && f.IsExported() {
			return f.Type
		}
	}
	return nil
}

// ownDecoder reports whether values of t decode themselves (any of the
// library's UnmarshalYAML forms), and so check their own numbers.
func ownDecoder(t reflect.Type) bool {
	_, ok := reflect.PointerTo(t).MethodByName("UnmarshalYAML")
	return ok
}
