package ingest

import (
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/jsonscan"
)

// parseLine is domain.ParseJSON, faster on the lines imports are made of.
// ParseJSON splits the object with encoding/json into a map of raw
// messages (unmarshal, map and copies): a third of an import's CPU. Here a
// single pass validates and splits an object with plain member names, and
// anything else (not an object, a name with escapes or non-ASCII bytes, a
// repeated name, invalid JSON) goes to ParseJSON, which decides and words
// the error. TestSplitObjectMatchesParseJSON and FuzzSplitObject hold the
// two to the same results.
//
// f, when not nil, is cleared and reused for the fields (ParseFields keeps
// nothing of them), which spares the map an allocation per line; names,
// when not nil, interns member names across lines.
func parseLine(line []byte, kind domain.Kind, opt domain.ParseOptions, f domain.Fields, names names) (domain.Record, error) {
	if f, ok := splitObject(line, f, names); ok {
		return domain.ParseFields(f, kind, opt)
	}
	return domain.ParseJSON(line, kind, opt)
}

// names interns member names: every line of an import repeats the same
// few dozen, and a string per member was an eighth of the allocations.
// The lookup does not allocate; the table stops growing at maxNames so
// input with endless distinct names cannot grow it.
type names map[string]string

const maxNames = 512

func (n names) intern(b []byte) string {
	if s, ok := n[string(b)]; ok {
		return s
	}
	s := string(b)
	if n != nil && len(n) < maxNames {
		n[s] = s
	}
	return s
}

// splitObject splits a JSON object into its members, each value's raw
// bytes as encoding/json's RawMessage would hold them, into f (a new map
// if nil). ok is false when the line is not such an object or the fast
// path cannot tell.
func splitObject(b []byte, f domain.Fields, names names) (domain.Fields, bool) {
	i := jsonscan.SkipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	if f == nil {
		f = make(domain.Fields, 16)
	}
	clear(f)
	i = jsonscan.SkipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return f, jsonscan.SkipSpace(b, i+1) == len(b)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return nil, false
		}
		// A plain name: printable ASCII without escapes, so its bytes are
		// its decoded value.
		start := i + 1
		i = start
		for i < len(b) && b[i] != '"' {
			if c := b[i]; c < 0x20 || c >= 0x80 || c == '\\' {
				return nil, false
			}
			i++
		}
		if i >= len(b) {
			return nil, false
		}
		name := b[start:i]
		i = jsonscan.SkipSpace(b, i+1)
		if i >= len(b) || b[i] != ':' {
			return nil, false
		}
		i = jsonscan.SkipSpace(b, i+1)
		end, ok := jsonscan.Value(b, i, 0)
		if !ok {
			return nil, false
		}
		if _, dup := f[string(name)]; dup {
			return nil, false
		}
		f[names.intern(name)] = domain.Value{Raw: b[i:end]}
		i = jsonscan.SkipSpace(b, end)
		if i >= len(b) {
			return nil, false
		}
		switch b[i] {
		case ',':
			i = jsonscan.SkipSpace(b, i+1)
		case '}':
			return f, jsonscan.SkipSpace(b, i+1) == len(b)
		default:
			return nil, false
		}
	}
}
