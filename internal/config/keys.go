package config

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"github.com/candor/candor/internal/domain"
)

// yamlError words a decoding error of the configuration file with the file
// and line; an unknown key also gets the key it was probably meant to be,
// and a value of the wrong type the key and, in words, the type wanted.
func yamlError(path string, src []byte, err error) error {
	snippet := yaml.FormatError(err, false, true)
	if tok, msg, ok := wrongType(err); ok {
		// The library's words are Go's ("cannot unmarshal string into Go
		// struct field Config.ReadCopies of type int"), which the operator
		// cannot map back to the file.
		if key := keyAt(src, tok); key != "" {
			msg = key + ": " + msg
		}
		out := fmt.Sprintf("config %s:%d: %s", path, tok.Position.Line, msg)
		if _, s, ok := strings.Cut(snippet, "\n"); ok {
			out += "\n" + s
		}
		return errors.New(out)
	}
	var ue *yaml.UnknownFieldError
	if !errors.As(err, &ue) || ue.GetToken() == nil {
		// The library starts with "[line:col] message"; say it as
		// FILE:LINE:COL: message, the way every other input error reads.
		head, rest, _ := strings.Cut(snippet, "\n")
		if pos, msg, ok := strings.Cut(strings.TrimPrefix(head, "["), "] "); ok && strings.HasPrefix(head, "[") {
			if msg == "found character '\t' that cannot start any token" {
				// The library quotes the tab itself, which reads as blank.
				msg = "a tab character" + tabBefore(src, pos) + ": YAML indents with spaces only; replace the tab with spaces"
			}
			return fmt.Errorf("config %s:%s: %s\n%s", path, pos, msg, rest)
		}
		return fmt.Errorf("config %s:\n%s", path, snippet)
	}
	tok := ue.GetToken()
	key := tok.Value
	msg := fmt.Sprintf("config %s:%d: unknown key %q", path, tok.Position.Line, key)
	// The suggestion comes from the keys of the block the key is written
	// in (a metric override's for a key under metrics.ID): the keys of
	// every block at once had offered "threshold", an alert rule's, for
	// an override's "threshold" — the very key refused.
	block, top := blockKeys(src, tok)
	if s := closestKey(key, block); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	} else if paths := nestedKeyPaths(reflect.TypeFor[Config](), key); top && len(paths) > 0 && len(paths) <= 3 {
		// A section's key written at the left margin (session_max_age
		// for auth.session_max_age): where it belongs.
		for i, p := range paths {
			paths[i] = strconv.Quote(p)
		}
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(paths, " or "))
	}
	// The library's snippet, without its own "[line:col] message" line.
	if _, src, ok := strings.Cut(snippet, "\n"); ok {
		msg += "\n" + src
	}
	return errors.New(msg)
}

// tabBefore names the key that follows a tab at pos ("LINE:COL") of the
// file, ` before "owner"`, or nothing.
func tabBefore(src []byte, pos string) string {
	l, _, _ := strings.Cut(pos, ":")
	n, err := strconv.Atoi(l)
	lines := strings.Split(string(src), "\n")
	if err != nil || n < 1 || n > len(lines) {
		return ""
	}
	key, _, ok := strings.Cut(strings.TrimLeft(lines[n-1], " \t-"), ":")
	if !ok || key == "" || strings.ContainsAny(key, " \t\"'{[") {
		return ""
	}
	return fmt.Sprintf(" before %q", key)
}

// wrongType reads a decoding error that is a value of the wrong type: its
// token and what was wrong, in words ("\"two\" is not a whole number").
func wrongType(err error) (*token.Token, string, bool) {
	var te *yaml.TypeError
	var ne *yaml.UnexpectedNodeTypeError
	var oe *yaml.OverflowError
	switch {
	case errors.As(err, &te) && te.Token != nil:
		return te.Token, fmt.Sprintf("%s is not %s", given(te.Token, te.SrcType.Kind()), wanted(te.DstType)), true
	case errors.As(err, &ne) && ne.Token != nil:
		var k reflect.Kind
		switch ne.Actual {
		case ast.SequenceType:
			k = reflect.Slice
		case ast.MappingType:
			k = reflect.Map
		}
		want := "a list"
		if ne.Expected == ast.MappingType {
			want = "a mapping (key: value)"
		}
		msg := fmt.Sprintf("%s is not %s", given(ne.Token, k), want)
		if ne.Expected == ast.SequenceType && k == reflect.Invalid {
			msg += fmt.Sprintf(" (write [%s])", ne.Token.Value)
		}
		return ne.Token, msg, true
	case errors.As(err, &oe) && oe.Token != nil:
		return oe.Token, fmt.Sprintf("%s is too large for %s", oe.SrcNum, wanted(oe.DstType)), true
	}
	return nil, "", false
}

// given words the value at tok: a scalar quoted, a list or a mapping by
// its shape (kind is the Go kind it decoded as, Invalid for a scalar).
func given(tok *token.Token, kind reflect.Kind) string {
	switch kind {
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	}
	return fmt.Sprintf("%q", tok.Value)
}

// wanted words the type a field takes.
func wanted(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number, 0 or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a single value"
	case reflect.Slice, reflect.Array:
		return "a list"
	}
	return "a mapping (key: value)"
}

// keyAt is the key path ("auth.trusted_proxies", "views[0].metrics") whose
// value starts at tok in src, or, when no value starts there (a block
// mapping's error points inside it), the last key written before tok; ""
// when src does not parse.
func keyAt(src []byte, tok *token.Token) string {
	at := tok.Position
	before := func(p *token.Position) bool {
		return p.Line < at.Line || p.Line == at.Line && p.Column <= at.Column
	}
	var exact, last string
	eachEntry(src, func(_, own []string, key *token.Token, value ast.Node) {
		p := strings.ReplaceAll(strings.Join(own, "."), ".[", "[")
		// The walk is in document order: the last key before tok wins.
		if key != nil && before(key.Position) {
			last = p
		}
		if t := value.GetToken(); t != nil && samePos(t.Position, at) && exact == "" {
			exact = p
		}
	})
	if exact != "" {
		return exact
	}
	return last
}

func samePos(a, b *token.Position) bool { return a.Line == b.Line && a.Column == b.Column }

// eachEntry calls visit, in document order, for every mapping entry (key
// its key's token) and list item (key nil; its path ends "[i]") of src,
// with the path of the block it is in, its own path and its value; false
// when src does not parse.
func eachEntry(src []byte, visit func(parent, own []string, key *token.Token, value ast.Node)) bool {
	f, err := parser.ParseBytes(src, 0, parser.AllowDuplicateMapKey())
	if err != nil {
		return false
	}
	var walk func(n ast.Node, path []string)
	walk = func(n ast.Node, path []string) {
		switch v := n.(type) {
		case *ast.MappingNode:
			for _, mv := range v.Values {
				walk(mv, path)
			}
		case *ast.MappingValueNode:
			k := v.Key.GetToken()
			if k == nil {
				return
			}
			own := append(slices.Clip(path), k.Value)
			visit(path, own, k, v.Value)
			walk(v.Value, own)
		case *ast.SequenceNode:
			for i, item := range v.Values {
				own := append(slices.Clip(path), fmt.Sprintf("[%d]", i))
				visit(path, own, nil, item)
				walk(item, own)
			}
		case *ast.AnchorNode:
			walk(v.Value, path)
		case *ast.TagNode:
			walk(v.Value, path)
		}
	}
	for _, doc := range f.Docs {
		walk(doc.Body, nil)
	}
	return true
}

// blockKeys are the keys the block holding the key at tok may have (the
// fields of the Config struct at that block's path), and whether that
// block is the top level; no keys when the path leads to no struct (a
// map's own keys, a value decoded by hand).
func blockKeys(src []byte, tok *token.Token) ([]string, bool) {
	path, ok := blockPath(src, tok)
	if !ok {
		// The file did not parse again: a key at the left margin is a
		// top-level one.
		if tok.Position.Column != 1 {
			return nil, false
		}
		path = nil
	}
	t := reflect.TypeFor[Config]()
	for _, p := range path {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Map, reflect.Slice, reflect.Array:
			// A map's key (a metric's id) or a list's index.
			t = t.Elem()
		case reflect.Struct:
			f, ok := yamlFields(t)[p]
			if !ok {
				return nil, len(path) == 0
			}
			t = f.Type
		default:
			return nil, false
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil, len(path) == 0
	}
	return slices.Sorted(maps.Keys(yamlFields(t))), len(path) == 0
}

// blockPath is the path (keys, map keys and "[i]" indices) of the
// mapping in which the key at tok is written; false when src does not
// parse or holds no such key.
func blockPath(src []byte, tok *token.Token) ([]string, bool) {
	var found []string
	ok := false
	eachEntry(src, func(parent, _ []string, key *token.Token, _ ast.Node) {
		if key != nil && !ok && samePos(key.Position, tok.Position) {
			found, ok = slices.Clone(parent), true
		}
	})
	return found, ok
}

// yamlFields are struct t's fields by their YAML keys, those of inlined
// structs among them.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for f := range t.Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case name == "-" || !f.IsExported():
		case name == "" && opts == "inline":
			in := f.Type
			for in.Kind() == reflect.Pointer {
				in = in.Elem()
			}
			if in.Kind() == reflect.Struct {
				maps.Copy(out, yamlFields(in))
			}
		case name != "":
			out[name] = f
		}
	}
	return out
}

// spelledOut are the words that keys shorten ("addr"), so that a key
// meant as the long word ("adress") is still matched to the short one.
var spelledOut = map[string]string{"addr": "address", "db": "database"}

// closestKey is the key of known that key was probably meant to be,
// never key itself (a key a block has is not refused for being unknown,
// so an equal one is some other block's), or "".
func closestKey(key string, known []string) string {
	known = slices.DeleteFunc(slices.Clone(known), func(k string) bool { return k == key })
	if s := domain.Closest(key, known); s != "" {
		return s
	}
	var long []string
	for _, k := range known {
		if w, ok := spelledOut[k]; ok {
			long = append(long, w)
		}
	}
	if s := domain.Closest(key, long); s != "" {
		for _, k := range known {
			if spelledOut[k] == s {
				return k
			}
		}
	}
	return ""
}

// nestedKeyPaths are the paths ("auth.session_max_age") of the keys named
// key below the top level of t, through sections alone: a key under a
// list or a map (a metric's owner) needs its entry, which a suggestion
// cannot know.
func nestedKeyPaths(t reflect.Type, key string) []string {
	var out []string
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type, path string)
	walk = func(t reflect.Type, path string) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		defer delete(seen, t)
		for name, f := range yamlFields(t) {
			p := name
			if path != "" {
				p = path + "." + name
				if name == key {
					out = append(out, p)
				}
			}
			walk(f.Type, p)
		}
	}
	walk(t, "")
	slices.Sort(out)
	return slices.Compact(out)
}

// devEnv are CANDOR_* variables read by Candor's tests and benchmarks, not
// by the binary; a developer's shell may hold them.
// A variable read by the benchmark (candor bench: its profiles and memory
// log) had made every other command refuse to run while it was exported.
var devEnv = []string{
	"CANDOR_BENCH_SCALE", "CANDOR_BENCH_CPUPROFILE", "CANDOR_BENCH_DURING_CPUPROFILE", "CANDOR_BENCH_DURING_TRACE",
	"CANDOR_ARTIFACTS", "CANDOR_BENCH_HEAPPROFILE", "CANDOR_BENCH_MEMLOG", "CANDOR_DIGEST_EML", "CANDOR_HUGEPAGES_CHILD",
	"CANDOR_REQUIRE_BROWSER", "CANDOR_REQUIRE_POPPLER", "CANDOR_REQUIRE_POSTGRES", "CANDOR_REQUIRE_PROMETHEUS",
	"CANDOR_TEST_POSTGRES_URL", "CANDOR_UPDATE_CATALOG", "CANDOR_UPDATE_DOCS",
}

// CheckEnviron refuses CANDOR_* variables Candor does not read (environ
// is KEY=VALUE pairs, as os.Environ gives them), each with the one it was
// probably meant to be: a mistyped CANDOR_DTA would otherwise leave the
// data in the default directory without a word. named are the variables
// the configuration itself names (Config.NamedEnv): an alert channel's
// secret_env is read though it is no variable of Candor's own.
func CheckEnviron(environ []string, named ...string) error {
	known := slices.Concat(devEnv, named)
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
