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

// AppendRefsIndent appends refs as AppendRefs writes them indented by
// jsonenc.AppendIndentAt at depth (the array's own level), in one pass: a
// drill-down's page is most of its answer's bytes.
func AppendRefsIndent(b []byte, refs []Ref, depth int) ([]byte, error) {
	if refs == nil {
		return append(b, "null"...), nil
	}
	if len(refs) == 0 {
		return append(b, "[]"...), nil
	}
	b = append(b, '[')
	var scratch []byte
	for i := range refs {
		r := &refs[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.AppendNewline(b, depth+1)
		b = append(b, '{')
		member := func(name string) {
			b = jsonenc.AppendNewline(b, depth+2)
			b = append(b, name...)
		}
		member(`"kind": `)
		b = jsonenc.AppendString(b, string(r.Kind))
		b = append(b, ',')
		member(`"id": `)
		b = jsonenc.AppendString(b, r.ID)
		b = append(b, ',')
		member(`"source": `)
		b = jsonenc.AppendString(b, r.Source)
		if r.Value != nil {
			b = append(b, ',')
			member(`"value": `)
			var err error
			if b, err = appendJSONValue(b, *r.Value); err != nil {
				return nil, err
			}
		}
		if r.Note != "" {
			b = append(b, ',')
			member(`"note": `)
			b = jsonenc.AppendString(b, r.Note)
		}
		if len(r.Fields) > 0 {
			b = append(b, ',')
			member(`"fields": `)
			var err error
			if b, scratch, err = r.Fields.appendJSONIndent(b, depth+2, scratch); err != nil {
				return nil, err
			}
		}
		b = jsonenc.AppendNewline(b, depth+1)
		b = append(b, '}')
	}
	b = jsonenc.AppendNewline(b, depth)
	return append(b, ']'), nil
}
