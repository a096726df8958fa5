package metrics

import (
	"slices"
	"sort"
	"time"

	"github.com/candor/candor/internal/domain"
)

// applyScan notes a full vulnerability scan (domain.VulnerabilityScan):
// its time is vulnerability data (SPEC §4) though it may change no
// finding's record — a daily scan reporting the same findings keeps the
// kind fresh, and a clean one is data that nothing is open. A record sent
// again under its key replaces its time.
func (d *Dataset) applyScan(r *domain.VulnerabilityScan) {
	k := key(r.Source, r.ID)
	at := ns(r.ScannedAt)
	if old, ok := d.scans[k]; ok {
		if old == at {
			return
		}
		if i, found := slices.BinarySearch(d.scanTimes, old); found {
			d.scanTimes = slices.Delete(d.scanTimes, i, i+1)
		}
		delete(d.scans, k)
		d.touchNs(domain.KindVulnerability, old)
	}
	if at == 0 {
		return
	}
	d.scans[k] = at
	i, _ := slices.BinarySearch(d.scanTimes, at)
	d.scanTimes = slices.Insert(d.scanTimes, i, at)
	// Rare: the results reading vulnerabilities as of the scan or later
	// (their freshness, and a value null for want of data) are dropped.
	d.touchNs(domain.KindVulnerability, at)
}

// lastScan is the newest full scan at or before at; ok is false when
// there is none.
func (d *Dataset) lastScan(at int64) (t int64, ok bool) {
	i := sort.Search(len(d.scanTimes), func(i int) bool { return d.scanTimes[i] > at })
	if i == 0 {
		return 0, false
	}
	return d.scanTimes[i-1], true
}

// LastScan returns the newest full vulnerability scan at or before asOf,
// and whether there is one (the data sources page says when a scan is the
// kind's newest data).
func (d *Dataset) LastScan(asOf time.Time) (time.Time, bool) {
	t, ok := d.lastScan(asOf.UnixNano())
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(0, t).UTC(), true
}

// scanTimesOf is the scans' times in order, as applyScan keeps them.
func scanTimesOf(scans map[recKey]int64) []int64 {
	out := make([]int64, 0, len(scans))
	for _, t := range scans {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}
