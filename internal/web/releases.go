package web

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/insight"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
)

// The release impact routes (issue 16, SPEC §7): each production
// deployment's customer tickets in its observation window and its spike
// test, as a list sorted by impact, one release, and a panel of the
// deployment's record page. Reading them needs release_impact_score's
// visibility; the tickets' ids need the ticket records' too.

// releasesPageParams are the release page's query parameters: the carried
// ones, month (as the other reads take it) and its table's page (the
// JSON API lists every release).
var releasesPageParams = append(slices.Clone(monthPageParams), "limit", "offset")

// impactSettings are the configured impact settings, or the defaults.
func (s *Server) impactSettings() insight.Settings {
	if s.Impact != nil {
		return *s.Impact
	}
	st, _ := insight.Config{}.Resolve() // the defaults always resolve
	return st
}

// canSeeImpact refuses a reader who may not see release_impact_score.
func (s *Server) canSeeImpact(r *http.Request) error {
	m, ok := s.Catalog.Metric("release_impact_score")
	if !ok || !s.access(r).CanSeeMetric(m) {
		return domain.Errorf(domain.EForbidden, "release impact is release_impact_score's detail: reading it needs that metric's visibility")
	}
	return nil
}

type releasesData struct {
	AsOf   time.Time
	Window time.Duration
	// WindowText is the window in words (30 days, 36 hours).
	WindowText string
	// Observation is a release's observation window in words (2 days).
	Observation string
	// Rule is the spike test's: level, previous weeks, fewest tickets.
	Rule     metrics.SpikeOptions
	Releases []metrics.ReleaseImpact
	Spikes   int
	// Worst is the release with the highest score: the release impact
	// score's value over the same window (nil without a scored release).
	Worst *metrics.ReleaseImpact
	// Rows are the releases of the page shown; Page its place in the list.
	Rows    []metrics.ReleaseImpact
	Page    pager
	choices Choices
}

// releaseList computes the release list of the request's query.
func (s *Server) releaseList(r *http.Request) (Query, releasesData, error) {
	q, opt, err := s.pageQuery(r)
	if err != nil {
		return q, releasesData{}, err
	}
	if err := s.canSeeImpact(r); err != nil {
		return q, releasesData{}, err
	}
	// Without a window asked for, the release impact score's in force at
	// as_of, so that the list's worst is the metric's value as the page
	// says: it had been 30 days whatever the metric's window.
	data := releasesData{AsOf: opt.AsOf, Window: s.releaseImpactWindow(opt.AsOf, opt.Window), Rule: s.impactSettings().Spike.Resolved()}
	data.WindowText = catalog.WindowWords(data.Window)
	err = s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		// The controls' choices are the current dataset's (cached for
		// it); the list, its scope and its observation window are
		// as of opt.AsOf, under the production names, impact window and
		// weights in force then, as release_impact_score computes: today's
		// had listed releases that were not production then.
		data.choices = s.choices.choices(ds, ds.Seq())
		ds = ds.At(opt.AsOf)
		if err := checkScope(ds, opt.Scope); err != nil {
			return err
		}
		data.Observation = catalog.WindowWords(ds.Config().ImpactWindow())
		data.Releases = ds.ReleaseImpacts(metrics.Query{AsOf: opt.AsOf, Window: data.Window, Scope: opt.Scope}, data.Rule)
		return nil
	})
	for _, rel := range data.Releases {
		if rel.Spike.Flagged {
			data.Spikes++
		}
	}
	data.Worst = metrics.WorstScored(data.Releases)
	if data.Releases == nil {
		data.Releases = []metrics.ReleaseImpact{}
	}
	return q, data, err
}

// getReleases lists the production deployments finishing in the window,
// most impact first.
func (s *Server) getReleases(w http.ResponseWriter, r *http.Request) {
	_, data, err := s.releaseList(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"as_of": data.AsOf, "window": catalog.FormatWindow(data.Window), "releases": data.Releases})
}

// releaseOf analyses one deployment as of the request's as_of and, when
// it finished in the window before it (releaseImpactWindow when 0),
// scores and ranks it there as the release impact score does.
func (s *Server) releaseOf(r *http.Request, source, id string, asOf time.Time, window time.Duration) (*metrics.ReleaseImpact, *metrics.ReleaseRank, error) {
	if err := s.canSeeImpact(r); err != nil {
		return nil, nil, err
	}
	var out *metrics.ReleaseImpact
	var rank *metrics.ReleaseRank
	err := s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		// Under the settings in force at asOf, as releaseList.
		ds = ds.At(asOf)
		ri, ok := ds.ReleaseImpactOf(source, id, asOf, s.impactSettings().Spike)
		if !ok {
			return nil
		}
		out = &ri
		if rk, ok := ds.ReleaseRankOf(source, id, metrics.Query{AsOf: asOf, Window: s.releaseImpactWindow(asOf, window)}); ok {
			rank = &rk
			out.Score, out.Baseline = &rk.Score, &rk.Baseline
		}
		return nil
	})
	if out != nil && !s.access(r).CanReadKind(string(domain.KindTicket)) {
		out.TicketList = nil
	}
	return out, rank, err
}

// getRelease is one release's impact, its tickets listed.
func (s *Server) getRelease(w http.ResponseWriter, r *http.Request) {
	opt, err := s.options(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	source, id := r.PathValue("source"), r.PathValue("id")
	ri, _, err := s.releaseOf(r, source, id, opt.AsOf, opt.Window)
	if err == nil && ri == nil {
		err = notFoundf("no production deployment %s/%s by %s", source, id, opt.AsOf.Format(time.RFC3339))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ri)
}

// releasesPage lists the releases by impact, a page at a time.
func (s *Server) releasesPage(w http.ResponseWriter, r *http.Request) {
	limit, offset, err := pageParams(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	q, data, err := s.releaseList(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	data.page(q, limit, offset)
	pg := s.newPage(r, "Release impact", q, data)
	pg.Controls, pg.Choices, pg.AsOf = true, data.choices, data.AsOf
	// The list's own window, as the customer pages name theirs: it had
	// offered "each metric's own" for the 30 days it uses.
	pg.WindowDefault = catalog.WindowWords(s.releaseImpactWindow(data.AsOf, 0))
	s.render(w, r, http.StatusOK, "releases", pg)
}

// page keeps the list's page from offset, limit long. Its links hold the
// as_of the list was computed at, as a metric's records table's do, so
// that its pages are one list, and the page's date and filters.
func (d *releasesData) page(q Query, limit, offset int) {
	if q.AsOf == "" {
		q.AsOf = d.AsOf.Format(time.RFC3339)
	}
	lim := ""
	if limit != defaultPageRows {
		lim = strconv.Itoa(limit)
	}
	d.Rows = pageRows(d.Releases, offset, limit)
	d.Page = newPager(len(d.Releases), offset, limit, len(d.Rows), func(offset string) string {
		return q.URL("/releases", "limit", lim, "offset", offset) + "#sec-releases"
	})
}

// releaseImpactWindow is the window release_impact_score's value is
// computed over at asOf (scorecard.WindowAt): the list's and a release's rank.
func (s *Server) releaseImpactWindow(asOf time.Time, window time.Duration) time.Duration {
	return scorecard.WindowAt(s.Catalog, "release_impact_score", asOf, window)
}

// deploymentImpact fills a deployment page's customer impact panel; none
// for a reader who may not see it or a deployment that is not production.
// It ranks the release in the release impact score's window
// (releaseImpactWindow), as the page says: ranked over a fixed 30 days it
// had been called the worst, "its score is the release impact score",
// while the metric, over its 7 days, showed another release.
func (s *Server) deploymentImpact(r *http.Request, rec *StoredRecord, asOf time.Time, window time.Duration, data *recordPageData) error {
	win := s.releaseImpactWindow(asOf, window)
	ri, rank, err := s.releaseOf(r, rec.Source, rec.ID, asOf, win)
	if domain.CodeOf(err) == domain.EForbidden {
		return nil
	}
	data.Impact, data.ImpactRank = ri, rank
	data.ImpactWindow, data.ImpactAsOf, data.ImpactWindowAsked = catalog.WindowWords(win), asOf, window > 0
	data.TicketsReadable = s.access(r).CanReadKind(string(domain.KindTicket))
	return err
}
