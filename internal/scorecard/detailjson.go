package scorecard

import (
	"strconv"

	"github.com/candor/candor/internal/jsonenc"
	"github.com/candor/candor/internal/metrics"
)

// AppendJSON appends d as JSON, byte for byte what json.Marshal writes for
// it, with the page of records encoded by hand (metrics.AppendRefs): they
// are nearly all of a metric page's bytes, and json.Marshal reflected over
// every row and compacted every row's fields a second time. The other
// members are small and go through jsonenc. A member added to
// MetricDetail must be added here (TestDetailAppendJSONMatchesMarshal).
func (d *MetricDetail) AppendJSON(b []byte) ([]byte, error) { return d.appendJSON(b, false) }

// AppendJSONIndent appends d as an answer (jsonenc.AppendAnswer: floats
// tidied) indented by jsonenc.AppendIndent, in one pass over the records
// (jsonenc.Indenter): the API and the CLI answer indented.
func (d *MetricDetail) AppendJSONIndent(b []byte) ([]byte, error) { return d.appendJSON(b, true) }

func (d *MetricDetail) appendJSON(b []byte, indent bool) ([]byte, error) {
	depth := -1 // compact (jsonenc.AppendKey)
	if indent {
		depth = 0
	}
	var err error
	var scratch []byte
	first := true
	key := func(name string) {
		b = jsonenc.AppendKey(b, name, first, depth)
		first = false
	}
	member := func(name string, v any) {
		if err != nil {
			return
		}
		key(name)
		if !indent {
			b, err = jsonenc.Append(b, v)
			return
		}
		// Indented, d is an answer: its floats tidied (jsonenc.Indenter).
		if scratch, err = jsonenc.AppendAnswer(scratch[:0], v); err == nil {
			b = jsonenc.AppendIndentAt(b, scratch, 1)
		}
	}
	number := func(name string, n int) {
		key(name)
		b = strconv.AppendInt(b, int64(n), 10)
	}
	b = append(b, '{')
	member("definition", &d.Definition)
	member("as_of", d.AsOf)
	if d.Month != "" {
		member("month", d.Month)
	}
	if d.Closing {
		key("closing")
		b = append(b, "true"...)
	}
	member("metric", &d.Card)
	if d.By != "" {
		member("by", d.By)
	}
	if len(d.Breakdown) > 0 {
		member("breakdown", d.Breakdown)
	}
	if err != nil {
		return nil, err
	}
	key("records")
	if d.page.Holds(d.Records) {
		b, err = d.page.AppendJSON(b, jsonenc.Inner(depth))
	} else {
		b, err = metrics.AppendRefsIndent(b, d.Records, jsonenc.Inner(depth))
	}
	if err != nil {
		return nil, err
	}
	number("records_total", d.RecordsTotal)
	if d.RecordsOffset != 0 {
		number("records_offset", d.RecordsOffset)
	}
	if d.RecordsLimit != 0 {
		number("records_limit", d.RecordsLimit)
	}
	if d.Scope != nil {
		member("scope", d.Scope)
	}
	member("dimensions", d.Dimensions)
	member("problems", d.Problems)
	if len(d.FlowStages) > 0 {
		member("flow_stages", d.FlowStages)
	}
	if len(d.Customers) > 0 {
		member("customers", d.Customers)
	}
	if err != nil {
		return nil, err
	}
	return jsonenc.AppendEnd(b, '}', depth), nil
}
