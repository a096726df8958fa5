package metrics

import "github.com/candor/candor/internal/jsonenc"

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
		b = jsonenc.AppendString(b, string(r.Kind))
		b = append(b, `,"id":`...)
		b = jsonenc.AppendString(b, r.ID)
		b = append(b, `,"source":`...)
		b = jsonenc.AppendString(b, r.Source)
		if r.Value != nil {
			b = append(b, `,"value":`...)
			var err error
			if b, err = appendJSONValue(b, *r.Value); err != nil {
				return nil, err
			}
		}
		if r.Note != "" {
			b = append(b, `,"note":`...)
			b = jsonenc.AppendString(b, r.Note)
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
