package governance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// SectionChange is one difference between a section's value in force and
// the value a proposal gives it: a field changed, added or removed, named
// by its path in the configuration ("custom_metrics[team_health].filter").
type SectionChange struct {
	Path string `json:"path"`
	// Old and New are the values as the configuration would write them
	// (text as it is, anything else as JSON); Old is "" for an addition,
	// New "" for a removal.
	Old     string `json:"old,omitempty"`
	New     string `json:"new,omitempty"`
	Added   bool   `json:"added,omitempty"`
	Removed bool   `json:"removed,omitempty"`
}

func (c SectionChange) String() string {
	switch {
	case c.Added:
		return fmt.Sprintf("%s: %s (added)", c.Path, c.New)
	case c.Removed:
		if c.Old == "" {
			return c.Path + ": removed"
		}
		return fmt.Sprintf("%s: removed (was %s)", c.Path, c.Old)
	}
	return fmt.Sprintf("%s: %s → %s", c.Path, c.Old, c.New)
}

// SectionBase is the value a section proposal is to be judged against: for
// an open proposal the value in force at now, which approving it replaces;
// for an approved one the value it replaced; for a rejected one the value
// in force when it was proposed. Nil (JSON null) when the section was not
// set.
func (s *State) SectionBase(v *View, now time.Time) json.RawMessage {
	if v.Section == "" {
		return nil
	}
	switch v.Status {
	case Open:
		if p := s.SectionAt(v.Section, now); p != nil {
			return p.Value
		}
		return nil
	case Approved:
		if v.Effective != nil {
			if p := s.SectionAt(v.Section, v.Effective.Add(-time.Nanosecond)); p != nil {
				return p.Value
			}
			return nil
		}
	}
	if v.Before != nil {
		return v.Before.Setting
	}
	return nil
}

// SectionBaseWords names what SectionBase compares a proposal with, for
// its status.
func SectionBaseWords(status string) string {
	switch status {
	case Approved:
		return "the value it replaced"
	case Rejected:
		return "the value in force when proposed"
	}
	return "the value in force"
}

// SectionChanges lists what a section proposal changes (SectionBase), so
// that whoever decides it sees the few fields that differ rather than a
// whole text that looks like the one in force. Lists of objects are
// matched by their id (custom metrics, views) or name (alert rules), so a
// reordered list is not a change of every entry.
func (s *State) SectionChanges(v *View, now time.Time) ([]SectionChange, error) {
	return DiffSection(s.SectionBase(v, now), v.Value)
}

// DiffSection compares two values of a section (canonical JSON, as
// proposals record them; null is not set).
func DiffSection(old, new json.RawMessage) ([]SectionChange, error) {
	var a, b any
	if err := decodeValue(old, &a); err != nil {
		return nil, fmt.Errorf("the value in force: %w", err)
	}
	if err := decodeValue(new, &b); err != nil {
		return nil, fmt.Errorf("the proposed value: %w", err)
	}
	var out []SectionChange
	diffValue("", a, b, &out)
	return out, nil
}

func decodeValue(raw json.RawMessage, v *any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	// Numbers as written: 0.1 stays 0.1, not a float's rendering.
	d.UseNumber()
	return d.Decode(v)
}

func diffValue(path string, a, b any, out *[]SectionChange) {
	switch {
	case a == nil && b == nil:
		return
	case a == nil:
		added(path, b, out)
		return
	case b == nil:
		c := SectionChange{Path: orRoot(path), Removed: true}
		switch a.(type) {
		case map[string]any, []any:
			// A whole section or entry: its path says what went.
		default:
			c.Old = words(a)
		}
		*out = append(*out, c)
		return
	}
	if am, ok := a.(map[string]any); ok {
		if bm, ok := b.(map[string]any); ok {
			keys := slices.Sorted(maps.Keys(am))
			for _, k := range slices.Sorted(maps.Keys(bm)) {
				if _, ok := am[k]; !ok {
					keys = append(keys, k)
				}
			}
			for _, k := range keys {
				diffValue(join(path, k), am[k], bm[k], out)
			}
			return
		}
	}
	if al, ok := a.([]any); ok {
		if bl, ok := b.([]any); ok {
			if key := listKey(al, bl); key != "" {
				diffKeyed(path, key, al, bl, out)
				return
			}
		}
	}
	if words(a) != words(b) {
		*out = append(*out, SectionChange{Path: orRoot(path), Old: words(a), New: words(b)})
	}
}

// diffKeyed compares two lists of objects matched by key: the entries
// removed, then each entry of b in its order, changed or added.
func diffKeyed(path, key string, a, b []any, out *[]SectionChange) {
	old := map[string]any{}
	for _, e := range a {
		old[e.(map[string]any)[key].(string)] = e
	}
	now := map[string]bool{}
	for _, e := range b {
		now[e.(map[string]any)[key].(string)] = true
	}
	for _, e := range a {
		if id := e.(map[string]any)[key].(string); !now[id] {
			*out = append(*out, SectionChange{Path: fmt.Sprintf("%s[%s]", path, id), Removed: true})
		}
	}
	for _, e := range b {
		id := e.(map[string]any)[key].(string)
		diffValue(fmt.Sprintf("%s[%s]", path, id), old[id], e, out)
	}
}

// listKey is the field that identifies the entries of both lists, "" when
// some entry lacks it or two share a value (then the lists compare whole).
func listKey(a, b []any) string {
	for _, key := range []string{"id", "name"} {
		ok := true
		for _, l := range [][]any{a, b} {
			seen := map[string]bool{}
			for _, e := range l {
				m, isMap := e.(map[string]any)
				id, isString := m[key].(string)
				if !isMap || !isString || id == "" || seen[id] {
					ok = false
					break
				}
				seen[id] = true
			}
		}
		if ok && (len(a) > 0 || len(b) > 0) {
			return key
		}
	}
	return ""
}

// added lists a new value field by field, so an added metric's definition
// is read in full.
func added(path string, v any, out *[]SectionChange) {
	if m, ok := v.(map[string]any); ok && len(m) > 0 {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			added(join(path, k), m[k], out)
		}
		return
	}
	if l, ok := v.([]any); ok {
		if key := listKey(l, l); key != "" {
			for _, e := range l {
				added(fmt.Sprintf("%s[%s]", path, e.(map[string]any)[key].(string)), e, out)
			}
			return
		}
	}
	*out = append(*out, SectionChange{Path: orRoot(path), New: words(v), Added: true})
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func orRoot(path string) string {
	if path == "" {
		return "the section"
	}
	return path
}

// words writes a value as the configuration would: text as it is (quoted
// when empty or padded, so it is seen), anything else as compact JSON.
func words(v any) string {
	if s, ok := v.(string); ok {
		if s != "" && strings.TrimSpace(s) == s {
			return s
		}
	}
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	// An expression's >= and && read as written, not \u003e.
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}
