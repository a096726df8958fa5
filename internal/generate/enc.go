package generate

import (
	"bufio"
	"math"
	"strconv"
)

// Record kinds of SPEC §1, indexed so per-kind counters are an array.
const (
	kService = iota
	kDeployment
	kChange
	kIncident
	kSLI
	kTicket
	kSurvey
	kVulnerability
	kControl
	kCost
	kUsage
	kBudget
	kSubscription
	kOpportunity
	kLead
	kQuota
	kSpend
	kTarget
	kMeasurement
	nKinds
)

var kindNames = [nKinds]string{
	"service", "deployment", "change", "incident", "sli", "ticket", "survey", "vulnerability",
	"control", "cost", "usage", "budget", "subscription", "opportunity", "lead", "quota", "spend", "target",
	"measurement",
}

// enc writes one NDJSON record at a time by appending into a reused buffer.
// encoding/json would cost an allocation and reflection per record, several
// times the budget of the benchmark. Every string the generator emits comes
// from its own word lists and number formatting, so none needs escaping.
type enc struct {
	w   *bufio.Writer
	b   []byte
	cur int
	n   [nKinds]int64
	err error
}

func (e *enc) begin(k int) {
	e.cur = k
	e.b = append(e.b[:0], `{"kind":"`...)
	e.b = append(e.b, kindNames[k]...)
	e.b = append(e.b, '"')
}

func (e *enc) end() {
	e.b = append(e.b, '}', '\n')
	if _, err := e.w.Write(e.b); err != nil && e.err == nil {
		e.err = err
	}
	e.n[e.cur]++
}

func (e *enc) key(k string) {
	e.b = append(e.b, ',', '"')
	e.b = append(e.b, k...)
	e.b = append(e.b, '"', ':')
}

func (e *enc) str(k, v string) {
	e.key(k)
	e.b = append(e.b, '"')
	e.b = append(e.b, v...)
	e.b = append(e.b, '"')
}

// ref writes a numbered identifier such as "dep-0001234".
func (e *enc) ref(k, prefix string, n int64, width int) {
	e.key(k)
	e.b = append(e.b, '"')
	e.b = append(e.b, prefix...)
	e.b = appendPadded(e.b, n, width)
	e.b = append(e.b, '"')
}

func (e *enc) ts(k string, sec int64) {
	e.key(k)
	e.b = append(e.b, '"')
	e.b = appendTS(e.b, sec)
	e.b = append(e.b, '"')
}

func (e *enc) date(k string, sec int64) {
	e.key(k)
	e.b = append(e.b, '"')
	e.b = appendDate(e.b, floorDiv(sec, day))
	e.b = append(e.b, '"')
}

func (e *enc) int(k string, v int64) {
	e.key(k)
	e.b = strconv.AppendInt(e.b, v, 10)
}

// num writes v rounded to prec decimals in its shortest form.
func (e *enc) num(k string, v float64, prec int) {
	e.key(k)
	p := math.Pow10(prec)
	e.b = strconv.AppendFloat(e.b, math.Round(v*p)/p, 'f', -1, 64)
}

func (e *enc) boolean(k string, v bool) {
	e.key(k)
	e.b = strconv.AppendBool(e.b, v)
}

// money writes an amount held in cents, with the currency every
// money-bearing kind carries.
func (e *enc) money(k string, cents int64) {
	e.key(k)
	if cents < 0 {
		e.b = append(e.b, '-')
		cents = -cents
	}
	e.b = strconv.AppendInt(e.b, cents/100, 10)
	if c := cents % 100; c != 0 {
		e.b = append(e.b, '.', byte('0'+c/10))
		if c%10 != 0 {
			e.b = append(e.b, byte('0'+c%10))
		}
	}
	e.str("currency", "USD")
}

func appendPadded(b []byte, n int64, width int) []byte {
	var tmp [24]byte
	i := len(tmp)
	for n >= 10 {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
	}
	i--
	tmp[i] = byte('0' + n)
	for len(tmp)-i < width {
		i--
		tmp[i] = '0'
	}
	return append(b, tmp[i:]...)
}

const (
	minute = int64(60)
	hour   = 60 * minute
	day    = 24 * hour
)

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date
// (H. Hinnant's days_from_civil inverse); time.Time.Format costs several
// times more and formatting timestamps dominates the output.
func civil(z int64) (y, m, d int64) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// daysFromCivil is the inverse of civil.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := m + 9
	if m > 2 {
		mp = m - 3
	}
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func appendDate(b []byte, days int64) []byte {
	y, m, d := civil(days)
	b = appendPadded(b, y, 4)
	return append(b, '-', byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
}

// appendTS writes an RFC 3339 UTC timestamp with whole seconds.
func appendTS(b []byte, sec int64) []byte {
	days := floorDiv(sec, day)
	rem := sec - days*day
	b = appendDate(b, days)
	h, m, s := rem/hour, rem/minute%60, rem%60
	return append(b, 'T', byte('0'+h/10), byte('0'+h%10), ':', byte('0'+m/10), byte('0'+m%10),
		':', byte('0'+s/10), byte('0'+s%10), 'Z')
}

// monthStart returns the first instant of the calendar month containing sec
// shifted by add months.
func monthStart(sec int64, add int64) int64 {
	y, m, _ := civil(floorDiv(sec, day))
	mi := y*12 + m - 1 + add
	return daysFromCivil(floorDiv(mi, 12), mi-floorDiv(mi, 12)*12+1, 1) * day
}

// quarterStart returns the first instant of the calendar quarter containing
// sec shifted by add quarters.
func quarterStart(sec int64, add int64) int64 {
	y, m, _ := civil(floorDiv(sec, day))
	qi := y*4 + (m-1)/3 + add
	return daysFromCivil(floorDiv(qi, 4), (qi-floorDiv(qi, 4)*4)*3+1, 1) * day
}

// monthLabel is "YYYY-MM", used in the ids of monthly records.
func monthLabel(b []byte, sec int64) []byte {
	y, m, _ := civil(floorDiv(sec, day))
	b = appendPadded(b, y, 4)
	return append(b, '-', byte('0'+m/10), byte('0'+m%10))
}

// quarterLabel is "YYYY-Qn".
func quarterLabel(b []byte, sec int64) []byte {
	y, m, _ := civil(floorDiv(sec, day))
	b = appendPadded(b, y, 4)
	return append(b, '-', 'Q', byte('0'+(m-1)/3+1))
}

// open starts a string field whose value the caller appends piecewise to
// e.b; close ends it.
func (e *enc) open(k string) {
	e.key(k)
	e.b = append(e.b, '"')
}

func (e *enc) close() { e.b = append(e.b, '"') }
