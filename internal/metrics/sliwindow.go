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

// ServiceSLIFineEnd returns when the newest of the service's availability
// samples no longer than fine, among those starting from a day before from
// up to to, ends, and whether there is one: a look at [from, to] that
// found no sample inside it tells a feed of short samples that stopped
// (or is late) before the period from one whose samples are too long to
// fit it.
func (d *Dataset) ServiceSLIFineEnd(service string, from, to time.Time, fine time.Duration) (time.Time, bool) {
	var last int64
	for _, x := range d.slisStarting(from.UnixNano()-int64(24*time.Hour), to.UnixNano()) {
		if x.End-x.Start <= int64(fine) && x.End > last && d.str(x.svc) == service {
			last = x.End
		}
	}
	if last == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, last).UTC(), true
}
