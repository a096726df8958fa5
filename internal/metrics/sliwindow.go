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

// ServiceSLIOverlap returns the length of the service's shortest
// availability sample that overlaps [from, to] without lying inside it,
// and whether there is one: what a look at [from, to] that found no sample
// inside can say of the samples there are (hourly samples cannot tell
// the 15 minutes after a deployment). SLI periods run from minutes to a
// day (SPEC §3), so samples starting up to a day before from are seen.
func (d *Dataset) ServiceSLIOverlap(service string, from, to time.Time) (time.Duration, bool) {
	lo, hi := from.UnixNano(), to.UnixNano()
	var best int64
	for _, x := range d.slisStarting(lo-int64(24*time.Hour), hi) {
		inside := x.Start >= lo && x.End <= hi
		if inside || x.End <= lo || d.str(x.svc) != service {
			continue
		}
		if n := x.End - x.Start; best == 0 || n < best {
			best = n
		}
	}
	return time.Duration(best), best > 0
}
