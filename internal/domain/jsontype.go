package domain

import (
	"reflect"
	"time"
)

// JSONTypeWords words the JSON a Go type decodes from, for an error that
// a field has the wrong type: "an object", "a list", "a number", "an RFC
// 3339 time". The Go names encoding/json gives ("want time.Time", "must
// be a string" for an object) mean nothing to whoever sent the JSON.
func JSONTypeWords(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[time.Time]() {
		return "an RFC 3339 time (2026-03-01T00:00:00Z)"
	}
	switch t.Kind() {
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	}
	return "a value"
}

// JSONKind is the JSON type of a value's first byte as encoding/json's
// errors word it — "object", "array", "string", "bool", "null", "number" —
// beside JSONTypeWords' want: "must be a number, not a JSON string".
// Leading space is the caller's to trim; an empty value is "value".
func JSONKind(raw []byte) string {
	if len(raw) == 0 {
		return "value"
	}
	switch raw[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}
