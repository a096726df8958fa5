package jsonenc

import "reflect"

// Planned reports whether values of type t are written here rather than
// left to json.Marshal.
func Planned(t reflect.Type) bool {
	if t.Kind() == reflect.Struct {
		return planOf(t, exact) != nil
	}
	return encoderFor(t, exact) != nil
}
