package metrics

import (
	"unicode/utf8"
)

// AppendRefs appends refs as JSON, byte for byte what json.Marshal writes
// for them (null for nil). A drill-down page is up to thousands of rows:
// json.Marshal reflects over each and then compacts every row's fields
// again, since they come from a MarshalJSON — during a large import that
// was a sixth of the server's CPU.
func AppendRefs(b []byte, refs []Ref) ([]byte, error) {
	if refs == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	for i := range refs {
		r := &refs[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"kind":`...)
		b = appendJSONString(b, string(r.Kind))
		b = append(b, `,"id":`...)
		b = appendJSONString(b, r.ID)
		b = append(b, `,"source":`...)
		b = appendJSONString(b, r.Source)
		if r.Value != nil {
			b = append(b, `,"value":`...)
			var err error
			if b, err = appendJSONValue(b, *r.Value); err != nil {
				return nil, err
			}
		}
		if r.Note != "" {
			b = append(b, `,"note":`...)
			b = appendJSONString(b, r.Note)
		}
		if len(r.Fields) > 0 {
			b = append(b, `,"fields":`...)
			var err error
			if b, err = r.Fields.appendJSON(b); err != nil {
				return nil, err
			}
		}
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// appendJSONString quotes s as json.Marshal does — so the fields a
// MarshalJSON writes come out of json.Marshal's compaction unchanged —:
// HTML's <, > and & escaped too, \b \f \n \r \t short, other control characters and
// U+2028/U+2029 as \u escapes, invalid UTF-8 as U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += n
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += n
			start = i
			continue
		}
		i += n
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
