package metrics

import (
	"math"
	"slices"
	"sort"
	"time"

	"github.com/candor/candor/internal/domain"
)

// heldScan is what the dataset keeps of a full vulnerability scan: its
// time and the service it was imported for ("" when none).
type heldScan struct {
	at      int64
	service string
}

// applyScan notes a full vulnerability scan (domain.VulnerabilityScan):
// its time is vulnerability data (SPEC §4) though it may change no
// finding's record — a daily scan reporting the same findings keeps the
// kind fresh, and a clean one is data that nothing is open, in its
// service's scopes too. A record sent again under its key replaces its
// time and service.
func (d *Dataset) applyScan(r *domain.VulnerabilityScan) {
	k := key(r.Source, r.ID)
	s := heldScan{at: ns(r.ScannedAt), service: r.Service}
	if old, ok := d.scans[k]; ok {
		if old == s {
			return
		}
		d.removeScan(k)
	}
	if s.at == 0 {
		return
	}
	d.scans[k] = s
	i, _ := slices.BinarySearch(d.scanTimes, s.at)
	d.scanTimes = slices.Insert(d.scanTimes, i, s.at)
	if t, ok := d.scanFirst[s.service]; s.service != "" && (!ok || s.at < t) {
		d.scanFirst[s.service] = s.at
	}
	// Rare: the results reading vulnerabilities as of the scan or later
	// (their freshness, and a value null for want of data) are dropped.
	d.touchNs(domain.KindVulnerability, s.at)
}

// removeScan takes the scan held under k out, as if it had never been
// applied (a replacement, or a stored row quarantined: Dataset.remove).
func (d *Dataset) removeScan(k recKey) {
	old, ok := d.scans[k]
	if !ok {
		return
	}
	if i, found := slices.BinarySearch(d.scanTimes, old.at); found {
		d.scanTimes = slices.Delete(d.scanTimes, i, i+1)
	}
	delete(d.scans, k)
	if old.service != "" && d.scanFirst[old.service] == old.at {
		d.firstScanOf(old.service)
	}
	d.touchNs(domain.KindVulnerability, old.at)
}

// firstScanOf sets the service's earliest full scan from the scans held
// (a scan that held it moved or went).
func (d *Dataset) firstScanOf(service string) {
	first := int64(math.MaxInt64)
	for _, s := range d.scans {
		if s.service == service {
			first = min(first, s.at)
		}
	}
	if first == math.MaxInt64 {
		delete(d.scanFirst, service)
		return
	}
	d.scanFirst[service] = first
}

// scannedIn reports whether a full scan at or before at is data for the
// scope: any scan for the organisation; for a scope of service-level
// filters only (service, team, tier, business unit), a scan imported for a
// service that passes them all, as a vulnerability record of that service
// would. A scan without a service is the organisation's alone, and a scope
// on a dimension a scan does not carry (a package) is judged by the
// records.
func (d *Dataset) scannedIn(s Scope, at int64) bool {
	if s.IsZero() {
		_, ok := d.lastScan(at)
		return ok
	}
	for _, f := range s.Filters() {
		if !serviceDim(f.Dim) {
			return false
		}
	}
	q := Query{Scope: s}
	if f := s.Filters(); len(f) == 1 && f[0].Dim == "service" {
		t, ok := d.scanFirst[f[0].Value]
		return ok && t <= at
	}
	for svc, t := range d.scanFirst {
		if t <= at && d.matchService(q, svc) {
			return true
		}
	}
	return false
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

// FullScans is what the full vulnerability scans say of a period (an
// evidence pack): how many ran in it, and the newest before its end — its
// record and time — if any ran by then (LastID "" when none did).
type FullScans struct {
	InPeriod           int
	Last               time.Time
	LastSource, LastID string
}

// FullScansIn counts the full scans in [from, to) and finds the newest
// before to (in the period or before it).
func (d *Dataset) FullScansIn(from, to time.Time) FullScans {
	var out FullScans
	f, t := from.UnixNano(), to.UnixNano()
	var newest int64
	for k, s := range d.scans {
		if s.at >= t {
			continue
		}
		if s.at >= f {
			out.InPeriod++
		}
		if out.LastID == "" || s.at > newest || s.at == newest && (k.source < out.LastSource || k.source == out.LastSource && k.id < out.LastID) {
			newest, out.LastSource, out.LastID = s.at, k.source, k.id
		}
	}
	if out.LastID != "" {
		out.Last = time.Unix(0, newest).UTC()
	}
	return out
}

// scanIndexes rebuilds the scans' times in order and each service's
// earliest scan, as applyScan keeps them.
func (d *Dataset) scanIndexes() {
	d.scanTimes = make([]int64, 0, len(d.scans))
	clear(d.scanFirst)
	for _, s := range d.scans {
		d.scanTimes = append(d.scanTimes, s.at)
		if t, ok := d.scanFirst[s.service]; s.service != "" && (!ok || s.at < t) {
			d.scanFirst[s.service] = s.at
		}
	}
	slices.Sort(d.scanTimes)
}
