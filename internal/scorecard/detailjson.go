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
func (d *MetricDetail) AppendJSON(b []byte) ([]byte, error) {
	var err error
	member := func(name string, v any) {
		if err != nil {
			return
		}
		b = append(b, ',', '"')
		b = append(b, name...)
		b = append(b, '"', ':')
		b, err = jsonenc.Append(b, v)
	}
	b = append(b, `{"definition":`...)
	b, err = jsonenc.Append(b, &d.Definition)
	if err != nil {
		return nil, err
	}
	member("as_of", d.AsOf)
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
	b = append(b, `,"records":`...)
	if b, err = metrics.AppendRefs(b, d.Records); err != nil {
		return nil, err
	}
	b = append(b, `,"records_total":`...)
	b = strconv.AppendInt(b, int64(d.RecordsTotal), 10)
	if d.RecordsOffset != 0 {
		b = append(b, `,"records_offset":`...)
		b = strconv.AppendInt(b, int64(d.RecordsOffset), 10)
	}
	if d.RecordsLimit != 0 {
		b = append(b, `,"records_limit":`...)
		b = strconv.AppendInt(b, int64(d.RecordsLimit), 10)
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
	return append(b, '}'), nil
}
