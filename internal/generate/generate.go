// Package generate produces a deterministic, realistic organisation's data
// as NDJSON in the canonical import format (SPEC §1): services, delivery,
// reliability, security, cost, customer and revenue records, and the
// measurements other tools would send (measure.go). It feeds
// `candor generate`, `candor demo` and `candor bench`.
//
// The output is streamed day by day so that memory stays flat at any scale;
// records that refer to one another (a rollback to the deployment it undoes,
// an incident to its cause, a ticket to a release) only ever point backwards
// in time, so a small per-service window of recent deployments is all the
// state the generator keeps.
package generate

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/candor/candor/internal/domain"
)

// BenchScaleEnv names the variable that sets the scale of the Go
// benchmarks that generate data.
const BenchScaleEnv = "CANDOR_BENCH_SCALE"

// BenchScale is the scale a Go benchmark generates: BenchScaleEnv when
// set, else def. A value that is not a positive number is an error naming
// the variable, not a silent default.
func BenchScale(def float64) (float64, error) {
	v, ok := os.LookupEnv(BenchScaleEnv)
	if !ok || v == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f > 0) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%s=%q: want a positive number", BenchScaleEnv, v)
	}
	return f, nil
}

// Options selects what to generate.
type Options struct {
	Seed  int64     // same Seed, Scale, End and Days => byte-identical output
	Scale float64   // 1 ≈ one year of a dozen services; volumes scale linearly
	End   time.Time // every event is before End
	Days  int       // span in days, default 365
}

// Stats counts what was written.
type Stats struct {
	Records int64
	ByKind  map[string]int64
}

// Yearly volumes at scale 1. Changes (~300k) follow from deployments.
const (
	deploymentsPerYear     = 100000
	incidentsPerYear       = 10000
	ticketsPerYear         = 100000
	opportunitiesPerYear   = 20000
	leadsPerYear           = 50000
	vulnerabilitiesPerYear = 2000
	npsPerYear             = 3000
	customersBefore        = 400 // started in the three years before the window
	// newLogosPerYear is how many deals the sales team wins a year, each a
	// new customer. Beside the customers before the window it makes a
	// fast-growing company (the demo's ARR +65 % in its year), and at the
	// demo's scale ~10 new customers in a 30-day window: CAC and its
	// payback need 5, and with 300 one window in nine had fewer.
	newLogosPerYear = 400
	repsAtScale1    = 40
	stagingShare    = 0.30
	// changesPerPlanned is the Poisson mean of changes beyond the first one
	// a planned production deployment ships; with 70 % of deployments in
	// production it yields ~300k changes a year at scale 1.
	changesPerPlanned = 3.5
	// Leads turn into opportunities at 0.4 (MQL) × 0.4 (SQL) × 0.6; the
	// rest of the opportunity volume is sales-sourced.
	leadOppShare = mqlRate * 0.4 * 0.6
	// targetCAC is what the organisation spends per new customer.
	targetCAC = 18000.0
	// winP is the chance a qualified deal is won, before the rep's skill.
	winP = 0.31
	// salesStream seeds the random stream leads and opportunities draw
	// from, apart from the rest, so that the deals the year will win can
	// be known before the day loop lays out the customers they become.
	salesStream = 0x5a1e5_0f_dea15
)

// Write streams the generated records to w and reports what it wrote.
func Write(w io.Writer, opt Options) (Stats, error) {
	if !(opt.Scale > 0) || math.IsInf(opt.Scale, 0) {
		return Stats{}, fmt.Errorf("generate: scale must be a positive number, got %v", opt.Scale)
	}
	if opt.End.IsZero() {
		return Stats{}, errors.New("generate: End is required (the generator never reads the clock)")
	}
	if opt.Days <= 0 {
		opt.Days = 365
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	g := newGen(opt, bw)
	g.run()
	if err := bw.Flush(); err != nil && g.e.err == nil {
		g.e.err = err
	}
	st := Stats{ByKind: make(map[string]int64, nKinds)}
	for k, n := range g.e.n {
		if n > 0 {
			st.ByKind[kindNames[k]] = n
			st.Records += n
		}
	}
	return st, g.e.err
}

type depRef struct{ n, fin int64 }

type span struct{ start, end int64 }

type customer struct{ spans []span }

// win is a deal won before End: its customer starts then, at amount ÷ 12
// a month (an opportunity's amount is its annual contract value).
type win struct {
	closed int64
	amount float64
}

type rep struct {
	name  string
	skill float64
}

type service struct {
	baseService
	name, team, owner, repo, path, env, provider string
	slo                                          float64
	depRate, incRate, reqPerDay, share           float64
	engineers                                    []string
	recurring                                    []string
	ver, prev                                    [3]int64
	prNext                                       int64
	ring                                         [24]depRef
	ringN, ringHead                              int
	// impact holds, per hour of today and tomorrow, the fraction of
	// requests failing because of open incidents.
	impact   [48]float64
	monthReq int64
	costDay  [4]float64
}

func (s *service) push(n, fin int64) {
	s.ring[s.ringHead] = depRef{n, fin}
	s.ringHead = (s.ringHead + 1) % len(s.ring)
	if s.ringN < len(s.ring) {
		s.ringN++
	}
}

// latestBefore finds the newest production release finished in
// (t-maxAge, t); the ring is nearly, not strictly, time-ordered because
// rollbacks are appended when they are decided.
func (s *service) latestBefore(t, maxAge int64) (int64, bool) {
	best, ok := depRef{fin: math.MinInt64}, false
	for i := 0; i < s.ringN; i++ {
		r := s.ring[i]
		if r.fin < t && r.fin > t-maxAge && r.fin > best.fin {
			best, ok = r, true
		}
	}
	return best.n, ok
}

type gen struct {
	r    *rand.Rand
	sr   *rand.Rand // leads' and opportunities' stream (salesStream)
	seed int64
	opt  Options
	e    enc

	// planning marks the dry run of the sales stream that collects wins
	// (plannedWins); its records are discarded.
	planning bool
	wins     []win

	scale, custScale  float64
	end               int64 // first second not generated
	endFloor          int64 // End in whole seconds, rounded down
	first, last       int64 // start of the first and of the last day
	svcs              []*service
	tktCum            []float64
	customers         []customer
	active            []int32
	reps              []rep
	times             []int64
	tktPerDay         float64
	npsPerDay         float64
	vulnPerDay        float64
	leadPerDay        float64
	oppPerDay         float64
	newPerYear        float64 // wins a year the sales stream is set for
	qualifyP          float64 // the chance an opportunity is qualified
	ctrlRecheck       []int64
	nDep, nInc, nTkt  int64
	nSvy, nVuln, nChk int64
	nOpp, nLead, nSub int64
	nCR               int64

	// Accumulated actuals from which quotas and targets are set at the end,
	// the way a planning team sets next period's numbers from last period's.
	q0, m0     int64 // index of the first quarter and month
	wonQ       [][]int64
	cycleQ     [][2]float64
	mqlM       []int64
	worstM     []float64  // heaviest post-release ticket wave per month
	velocity   [4]float64 // open qualified deals at End; won count, amount, cycle days in the last 30 days
	closedW    float64    // qualified deals closed in the last 30 days
	funnel     [2]float64 // leads created 90 days or more before End; those won by End
	costQ      []float64
	reqQ       []float64
	activeQ    [][2]float64 // Σ organisation active customers × days, Σ days
	costDaysQ  []float64
	snaps      []int64 // month starts within the window, then End
	mrrAt      []int64
	spendMonth float64
	// bridge sums the MRR bridge's movements that happened inside the
	// window (new, reactivation, expansion, contraction, churn, in
	// dollars) and churns counts lost logos, for the bridge's, LTV's and
	// revenue at risk's plans.
	bridge [5]float64
	churns int
}

func newGen(opt Options, w *bufio.Writer) *gen {
	end := opt.End.Unix()
	if opt.End.Nanosecond() > 0 {
		end++
	}
	g := &gen{
		r:     rand.New(rand.NewPCG(uint64(opt.Seed), 0x5ca1ab1e_c0ffee)),
		sr:    rand.New(rand.NewPCG(uint64(opt.Seed), salesStream)),
		seed:  opt.Seed,
		opt:   opt,
		e:     enc{w: w, b: make([]byte, 0, 1024)},
		scale: opt.Scale,
		end:   end,
		last:  floorDiv(end-1, day) * day,
	}
	g.first = floorDiv(end-int64(opt.Days)*day, day) * day
	perDay := opt.Scale / 365
	g.tktPerDay = ticketsPerYear * perDay * 0.86 // the rest come in spikes after bad releases
	g.npsPerDay = npsPerYear * perDay
	g.vulnPerDay = vulnerabilitiesPerYear * perDay
	g.leadPerDay = leadsPerYear * perDay
	g.oppPerDay = (opportunitiesPerYear - leadsPerYear*leadOppShare) * perDay
	// Below scale 1 the customer base shrinks more slowly than the rest:
	// with a handful of customers, churn and acquisition cost would have
	// nothing to count in most 30-day windows.
	g.custScale = opt.Scale
	if opt.Scale < 1 {
		g.custScale = math.Sqrt(opt.Scale)
	}
	// Every won deal is a new customer, so the opportunities (whose volume
	// the benchmarks count on) are qualified only as often as the customer
	// base can take the wins: at scale 1 about 1 in 15 (the demo's 0.1: 1
	// in 5), while the win rate of the qualified ones stays a sales team's.
	opps := opportunitiesPerYear * opt.Scale
	g.qualifyP = min(0.8, newLogosPerYear*g.custScale/(opps*winP))
	g.newPerYear = opps * g.qualifyP * winP
	g.spendMonth = math.Max(g.newPerYear/12, 0.5) * targetCAC

	qi := func(sec int64) int64 {
		y, m, _ := civil(floorDiv(sec, day))
		return y*4 + (m-1)/3
	}
	mi := func(sec int64) int64 {
		y, m, _ := civil(floorDiv(sec, day))
		return y*12 + m - 1
	}
	// Plans (quotas, targets) run through the period that contains End
	// itself, even when End is its very first instant.
	g.endFloor = opt.End.Unix()
	g.q0, g.m0 = qi(g.first), mi(g.first)
	nq, nm := qi(g.endFloor)-g.q0+1, mi(g.endFloor)-g.m0+1
	g.costQ, g.reqQ, g.costDaysQ = make([]float64, nq), make([]float64, nq), make([]float64, nq)
	g.activeQ, g.cycleQ = make([][2]float64, nq), make([][2]float64, nq)
	g.mqlM, g.worstM = make([]int64, nm), make([]float64, nm)
	for t := monthStart(g.first, 1); t < end; t = monthStart(t, 1) {
		g.snaps = append(g.snaps, t)
	}
	g.snaps = append(g.snaps, end)
	g.mrrAt = make([]int64, len(g.snaps))
	return g
}

func (g *gen) quarterIdx(sec int64) int {
	y, m, _ := civil(floorDiv(sec, day))
	return int(y*4 + (m-1)/3 - g.q0)
}

func (g *gen) monthIdx(sec int64) int {
	y, m, _ := civil(floorDiv(sec, day))
	return int(y*12 + m - 1 - g.m0)
}

// Day-of-week factors (Sunday first), normalised to a mean of 1 in init.
var (
	deployWD  = [7]float64{0.2, 1.3, 1.3, 1.3, 1.3, 1.0, 0.2}
	incWD     = [7]float64{0.8, 1.1, 1.05, 1.05, 1.05, 1.1, 0.8}
	ticketWD  = [7]float64{0.55, 1.25, 1.15, 1.1, 1.1, 1.05, 0.55}
	salesWD   = [7]float64{0.15, 1.3, 1.3, 1.3, 1.25, 1.0, 0.15}
	trafficWD = [7]float64{0.85, 1.05, 1.05, 1.05, 1.05, 1.0, 0.85}
	// workHours weights the hour of day (UTC) at which people act.
	workHours = [24]float64{0.2, 0.15, 0.1, 0.1, 0.1, 0.15, 0.3, 0.6, 1.2, 1.8, 2, 2, 1.6, 1.9, 2, 1.9, 1.6, 1.2, 0.8, 0.6, 0.5, 0.4, 0.3, 0.25}
	workCum   [24]float64
	// hourShare is the share of a day's traffic in each hour.
	hourShare [24]float64
)

func init() {
	for _, a := range []*[7]float64{&deployWD, &incWD, &ticketWD, &salesWD, &trafficWD} {
		sum := 0.0
		for _, v := range a {
			sum += v
		}
		for i := range a {
			a[i] *= 7 / sum
		}
	}
	sum, tsum := 0.0, 0.0
	for h, v := range workHours {
		sum += v
		workCum[h] = sum
		hourShare[h] = 0.6 + v
		tsum += hourShare[h]
	}
	for h := range hourShare {
		hourShare[h] /= tsum
	}
}

func weekday(d int64) int { return int((floorDiv(d, day)%7 + 11) % 7) }

// ---------------------------------------------------------------- randomness

func (g *gen) f() float64               { return g.r.Float64() }
func (g *gen) chance(p float64) bool    { return g.r.Float64() < p }
func (g *gen) intn(n int) int           { return g.r.IntN(n) }
func (g *gen) uni(a, b float64) float64 { return a + (b-a)*g.r.Float64() }
func (g *gen) pick(l []string) string   { return l[g.r.IntN(len(l))] }

func (g *gen) logn(median, sigma float64) float64 {
	return median * math.Exp(sigma*g.r.NormFloat64())
}

// dur draws a log-normal duration in seconds, clamped to [lo, hi].
func (g *gen) dur(median int64, sigma float64, lo, hi int64) int64 {
	v := int64(g.logn(float64(median), sigma))
	return min(max(v, lo), hi)
}

func (g *gen) poisson(mean float64) int {
	if mean <= 0 {
		return 0
	}
	if mean > 30 {
		return max(0, int(math.Round(mean+math.Sqrt(mean)*g.r.NormFloat64())))
	}
	l, k, p := math.Exp(-mean), 0, 1.0
	for {
		p *= g.r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func (g *gen) workOffset() int64 {
	u := g.f() * workCum[23]
	h := 0
	for h < 23 && workCum[h] < u {
		h++
	}
	return int64(h)*hour + g.r.Int64N(hour)
}

func (g *gen) appendHex(b []byte, n int) []byte {
	const digits = "0123456789abcdef"
	for n > 0 {
		v := g.r.Uint64()
		for i := 0; i < 16 && n > 0; i++ {
			b = append(b, digits[v&15])
			v >>= 4
			n--
		}
	}
	return b
}

// weighted picks an index with probability proportional to w.
func (g *gen) weighted(w []float64) int {
	sum := 0.0
	for _, v := range w {
		sum += v
	}
	u := g.f() * sum
	for i, v := range w {
		if u < v {
			return i
		}
		u -= v
	}
	return len(w) - 1
}

// ---------------------------------------------------------------- driver

func (g *gen) run() {
	g.services()
	g.withSales(g.setupReps)
	g.subscriptions()
	g.withSales(g.warmUp)
	g.ctrlRecheck = make([]int64, len(controls))
	monthBegin := g.first
	for d := g.first; d <= g.last; d += day {
		if d != g.first && d == monthStart(d, 0) {
			g.flushMonth(monthBegin, d)
			monthBegin = d
		}
		wd := weekday(d)
		g.buildActive(d)
		for _, s := range g.svcs {
			copy(s.impact[:24], s.impact[24:])
			clear(s.impact[24:])
		}
		for _, s := range g.svcs {
			g.serviceDay(s, d, wd)
		}
		g.ticketsDay(d, wd)
		g.npsDay(d)
		g.vulnsDay(d)
		g.controlsDay(d, wd)
		g.withSales(func() { g.salesDay(d, wd) })
		g.sliDay(d, wd)
		if g.e.err != nil {
			return
		}
	}
	if g.last > monthBegin {
		g.flushMonth(monthBegin, g.last)
	}
	g.quotas()
	g.targets()
	g.measurements()
}

func (g *gen) services() {
	cells := max(1, int(math.Ceil(g.scale-1e-9)))
	sumW, sumI := 0.0, 0.0
	for _, b := range baseServices {
		sumW += b.depW
		sumI += b.incW
	}
	depTotal := deploymentsPerYear * g.scale / 365 / 1.02 // 2 % more come as rollbacks
	incTotal := incidentsPerYear * g.scale / 365 * 0.47   // the rest follow deployments
	// A smaller organisation (scale below 1) runs the same services with
	// less traffic and smaller bills, in step with its customer base.
	size := min(g.custScale, 1)
	for c := 0; c < cells; c++ {
		suffix := ""
		if c < len(cellSuffixes) {
			suffix = cellSuffixes[c]
		} else {
			suffix = fmt.Sprintf("-cell%d", c)
		}
		for i, b := range baseServices {
			s := &service{baseService: b}
			s.name = b.name + suffix
			s.team = b.team + suffix
			s.owner = b.owner
			if c > 0 {
				s.owner = firstNames[(c*5+i)%len(firstNames)] + "." + lastNames[(c*3+i*7)%len(lastNames)]
			}
			if b.reposhare {
				s.repo, s.path = "platform"+suffix, "services/"+b.name
			} else {
				s.repo = s.name
			}
			s.env = "production"
			switch b.name {
			case "accounts":
				s.env = "prod"
			case "auth":
				s.env = "live"
			}
			s.provider = "aws"
			if i%4 == 2 {
				s.provider = "gcp"
			}
			s.slo = [...]float64{0.999, 0.995, 0.99}[b.tier-1]
			s.depRate = depTotal * b.depW / sumW / float64(cells)
			s.incRate = incTotal * b.incW / sumI / float64(cells)
			s.reqPerDay = b.reqM * 1e6 * g.uni(0.85, 1.15) * size
			s.share = g.uni(0.75, 1)
			for k := 0; k < 6; k++ {
				j := (i*5 + k*7 + c*3) % len(engineers)
				s.engineers = append(s.engineers, engineers[j])
			}
			for k := 0; k < 3; k++ {
				s.recurring = append(s.recurring, fingerprintPatterns[(i+k*5+c)%len(fingerprintPatterns)])
			}
			s.ver = [3]int64{int64(1 + g.intn(4)), int64(g.intn(40)), 0}
			s.prNext = int64(500 + g.intn(4000))
			compute := 3000 + 450*b.reqM*g.uni(0.8, 1.2)
			if b.tier == 1 {
				compute += 4000
			}
			for k := range s.costDay {
				s.costDay[k] = compute * costShare[k] * g.uni(0.85, 1.15) * 12 / 365 * size
			}
			g.svcs = append(g.svcs, s)
			g.writeService(s)
		}
	}
	sum := 0.0
	for _, s := range g.svcs {
		sum += s.tktW
		g.tktCum = append(g.tktCum, sum)
	}
}

func (g *gen) writeService(s *service) {
	e := &g.e
	e.begin(kService)
	e.str("id", s.name)
	e.str("name", s.name)
	e.str("team", s.team)
	e.str("owner", s.owner)
	e.int("tier", int64(s.tier))
	e.boolean("customer_facing", s.cf)
	bu := "commerce"
	if s.baseService.team == "identity" || s.baseService.team == "platform" {
		bu = "platform"
	}
	e.str("business_unit", bu)
	e.num("slo_target", s.slo, 4)
	e.open("repo")
	e.b = append(e.b, "github.com/acme/"...)
	e.b = append(e.b, s.repo...)
	e.close()
	if s.path != "" {
		e.key("paths")
		e.b = append(e.b, '[', '"')
		e.b = append(e.b, s.path...)
		e.b = append(e.b, '"', ']')
	}
	e.end()
}

// withSales runs fn drawing from the sales stream: the same draws in the
// dry run (plannedWins) as in the real one, whatever else the day holds.
func (g *gen) withSales(fn func()) {
	g.r, g.sr = g.sr, g.r
	fn()
	g.r, g.sr = g.sr, g.r
}

// plannedWins runs the sales stream of the whole window once, writing
// nothing, for the deals won before End: customers are laid out before the
// day loop (tickets and surveys pick among them), and each win is one.
func (g *gen) plannedWins() []win {
	d := newGen(g.opt, bufio.NewWriterSize(io.Discard, 64<<10))
	d.planning = true
	d.withSales(d.setupReps)
	d.withSales(d.warmUp)
	for t := d.first; t <= d.last; t += day {
		d.withSales(func() { d.salesDay(t, weekday(t)) })
	}
	return d.wins
}

func (g *gen) setupReps() {
	n := max(2, int(math.Round(repsAtScale1*g.scale)))
	per := len(firstNames) * len(lastNames)
	for i := 0; i < n; i++ {
		a, b := i%len(firstNames), (i/len(firstNames))%len(lastNames)
		name := firstNames[a] + "." + lastNames[(a+b)%len(lastNames)]
		if i >= per {
			name += fmt.Sprint(i/per + 1)
		}
		g.reps = append(g.reps, rep{name: name, skill: g.uni(0.7, 1.3)})
	}
	nq := len(g.costQ)
	g.wonQ = make([][]int64, nq)
	for q := range g.wonQ {
		g.wonQ[q] = make([]int64, n)
	}
}

func (g *gen) buildActive(d int64) {
	t := d + 12*hour
	g.active = g.active[:0]
	for i := range g.customers {
		for _, sp := range g.customers[i].spans {
			if sp.start <= t && t < sp.end {
				g.active = append(g.active, int32(i))
				break
			}
		}
	}
}

func (g *gen) activeAt(t int64) int {
	n := 0
	for i := range g.customers {
		for _, sp := range g.customers[i].spans {
			if sp.start <= t && t < sp.end {
				n++
				break
			}
		}
	}
	return n
}

// sortedTimes draws n instants of day d in increasing order, reusing one
// buffer; a service's deployments must be made in time order so that
// rollbacks and releases only refer backwards.
func (g *gen) sortedTimes(d int64, n int, offset func() int64) []int64 {
	ts := g.times[:0]
	for i := 0; i < n; i++ {
		ts = append(ts, d+offset())
	}
	slices.Sort(ts)
	g.times = ts
	return ts
}

// Records generates the organisation and hands each record to fn, parsed
// as an import would parse it: how tests and benchmarks fill a dataset
// without an import. It streams, so memory stays flat at any scale.
func Records(opt Options, fn func(domain.Record)) (Stats, error) {
	pr, pw := io.Pipe()
	var st Stats
	done := make(chan error, 1)
	go func() {
		var err error
		st, err = Write(pw, opt)
		pw.CloseWithError(err)
		done <- err
	}()
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		r, err := domain.ParseJSON(sc.Bytes(), "", domain.ParseOptions{})
		if err != nil {
			pr.CloseWithError(err)
			<-done
			return st, fmt.Errorf("generated line %d: %w", line, err)
		}
		fn(r)
	}
	if err := sc.Err(); err != nil {
		pr.CloseWithError(err)
		<-done
		return st, err
	}
	return st, <-done
}
