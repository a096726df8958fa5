package metrics

import "time"

// SLIPoint is one pushed availability sample, as the post-deploy watch
// (package gate) reads it.
type SLIPoint struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Good  float64   `json:"good"`
	Total float64   `json:"total"`
}

// ServiceSLIs returns a service's availability samples whose period lies
// inside [from, to], by start.
func (d *Dataset) ServiceSLIs(service string, from, to time.Time) []SLIPoint {
	var out []SLIPoint
	for _, x := range d.slisStarting(from.UnixNano(), to.UnixNano()) {
		if d.str(x.svc) == service && x.End <= to.UnixNano() {
			out = append(out, SLIPoint{Start: time.Unix(0, x.Start).UTC(), End: time.Unix(0, x.End).UTC(), Good: x.Good, Total: x.Total})
		}
	}
	return out
}
