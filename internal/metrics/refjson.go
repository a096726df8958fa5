package metrics

import "github.com/candor/candor/internal/jsonenc"

// AppendRefs appends refs as JSON, byte for byte what json.Marshal writes
// for them (null for nil). A drill-down page is up to thousands of rows:
// json.Marshal reflects over each and then compacts every row's fields
// again, since they come from a MarshalJSON — during a large import that
// was a sixth of the server's CPU.
func AppendRefs(b []byte, refs []Ref) ([]byte, error) { return AppendRefsIndent(b, refs, -1) }

// AppendRefsIndent appends refs as AppendRefs writes them indented by
// jsonenc.AppendIndentAt at depth (the array's own level), in one pass: a
// drill-down's page is most of its answer's bytes. A negative depth writes
// them compact; indented, they are an answer, and a row's value (computed:
// 12 × 226.81) is tidied as jsonenc.AppendAnswer tidies floats.
func AppendRefsIndent(b []byte, refs []Ref, depth int) ([]byte, error) {
	if refs == nil {
		return append(b, "null"...), nil
	}
	if len(refs) == 0 {
		return append(b, "[]"...), nil
	}
	b = append(b, '[')
	in := jsonenc.Inner(depth)
	var scratch []byte
	var err error
	for i := range refs {
		r := &refs[i]
		b = jsonenc.AppendElem(b, i == 0, depth)
		b = append(b, '{')
		b = jsonenc.AppendKey(b, "kind", true, in)
		b = jsonenc.AppendString(b, string(r.Kind))
		b = jsonenc.AppendKey(b, "id", false, in)
		b = jsonenc.AppendString(b, r.ID)
		b = jsonenc.AppendKey(b, "source", false, in)
		b = jsonenc.AppendString(b, r.Source)
		if r.Value != nil {
			b = jsonenc.AppendKey(b, "value", false, in)
			if b, err = appendJSONValue(b, *r.Value, depth >= 0); err != nil {
				return nil, err
			}
		}
		if r.Note != "" {
			b = jsonenc.AppendKey(b, "note", false, in)
			b = jsonenc.AppendString(b, r.Note)
		}
		if len(r.Fields) > 0 {
			b = jsonenc.AppendKey(b, "fields", false, in)
			if b, scratch, err = r.Fields.appendJSON(b, jsonenc.Inner(in), scratch); err != nil {
				return nil, err
			}
		}
		b = jsonenc.AppendEnd(b, '}', in)
	}
	return jsonenc.AppendEnd(b, ']', depth), nil
}
