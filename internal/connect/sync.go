package connect

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/store"
)

// Pull collectors read the same tools' REST APIs, for backfill and for
// teams that cannot point a webhook at Candor: GitHub (pull requests,
// deployments), GitLab (merge requests, deployments), PagerDuty
// (incidents) and Jira (a JQL search). Each object is mapped by the very
// function its webhook maps through, so an object pulled and the same
// object delivered are the same record, and committed through the same
// ingest path: a page at a time, all of its records or none, each with the
// sha256 of the object it came from as its raw hash.
//
// A collector walks streams (a repository's pull requests, a project's
// deployments, the incidents, the issues). A stream's cursor is saved in
// the store once the page before it committed, so a run that stops — the
// store refused a page, the process died, the context ended — resumes at
// the page it did not commit; the page read again writes records that are
// idempotent by key, so nothing is lost and nothing counted twice.

// SyncOptions control a run.
type SyncOptions struct {
	// Since reads from this time on instead of resuming from the streams'
	// cursors (a backfill). Zero resumes; a stream's first run reads
	// sync.backfill back (default 90 days).
	Since time.Time
	// DryRun reads and maps without writing anything: no record, no
	// cursor, no run in the log.
	DryRun bool
}

// SyncSummary is what a run did.
type SyncSummary struct {
	Source     string          `json:"source"`
	DryRun     bool            `json:"dry_run,omitempty"`
	StartedAt  time.Time       `json:"started_at"`
	FinishedAt time.Time       `json:"finished_at"`
	Streams    []StreamSummary `json:"streams"`
	// Pages counts the pages committed (read, in a dry run); Objects the
	// objects on them, each accepted, ignored or rejected.
	Pages    int `json:"pages"`
	Objects  int `json:"objects"`
	Accepted int `json:"accepted"`
	Ignored  int `json:"ignored"`
	Rejected int `json:"rejected"`
	// Kinds counts the records mapped, by kind (in a dry run, those that
	// would be written).
	Kinds map[domain.Kind]int `json:"kinds"`
	store.WriteResult
	// Truncated counts the free-text fields cut to SPEC §1's bound.
	Truncated int `json:"truncated,omitempty"`
	// Problems lists the first rejected objects as "OBJECT: reason".
	Problems []string `json:"problems,omitempty"`
}

// StreamSummary is one stream of a run.
type StreamSummary struct {
	Name string `json:"name"`
	// From is where the run started reading it.
	From    time.Time `json:"from"`
	Pages   int       `json:"pages"`
	Objects int       `json:"objects"`
}

// cursor is where a stream resumes, saved as JSON.
type cursor struct {
	// Since: every object the stream lists as updated (created, for
	// deployments and incidents) before it has been committed.
	Since time.Time `json:"since"`
	// A walk in progress: the newest time it has reached, and where its
	// next page is (a URL, a page number, an offset or a token), for the
	// query Query when the query depends on more than Since.
	High  time.Time `json:"high,omitzero"`
	Next  string    `json:"next,omitempty"`
	Query string    `json:"query,omitempty"`
	// Open are PagerDuty incidents seen unresolved, asked for again at
	// each run until they resolve.
	Open []string `json:"open,omitempty"`
}

// stream is one list a collector walks.
type stream interface {
	name() string
	// page reads the page cur points at and maps its objects. next is
	// the cursor once they are committed; done ends the stream's run.
	page(ctx context.Context, cur cursor) (pg page, err error)
}

type page struct {
	objects []object
	next    cursor
	done    bool
}

// object is one object of a page, mapped.
type object struct {
	// key names it in problems ("acme/api#12").
	key string
	// raw is the sha256 of the object as the API gave it, its records'
	// raw hash.
	raw [32]byte
	p   *parsed
	err error // a rejection: the object cannot be mapped
}

// newObject is one object of a page with what its mapping gave.
func newObject(key string, raw []byte, p *parsed, err error) object {
	return object{key: key, raw: sha256.Sum256(raw), p: p, err: err}
}

// maxSyncPages bounds one stream's run: a walk that makes no progress
// (an API repeating its pages) ends with an error instead of never.
const maxSyncPages = 100000

// collector builds a source's streams for a run.
type collector func(ctx context.Context, api *apiClient) ([]stream, error)

// Sync runs the collector of source once: every stream from its cursor
// (or opt.Since) to the end, a page at a time. The run is logged with its
// outcome, unless it is a dry run. An error ends the run; the pages
// committed before it stay committed and the next run resumes after
// them.
func (s *Service) Sync(ctx context.Context, source string, opt SyncOptions) (*SyncSummary, error) {
	if !slices.Contains(syncSources, source) {
		return nil, domain.Errorf(domain.EInvalid, "no collector for %q (collectors: %s)", source, strings.Join(syncSources, ", "))
	}
	if why := s.cfg.ready(source); why != "" {
		return nil, domain.Errorf(domain.EInvalid, "%s", why)
	}
	sum := &SyncSummary{Source: source, DryRun: opt.DryRun, StartedAt: s.now().UTC(), Kinds: map[domain.Kind]int{}}
	err := s.sync(ctx, source, opt, sum)
	sum.FinishedAt = s.now().UTC()
	if opt.DryRun {
		return sum, err
	}
	run := store.SyncRun{Source: source, StartedAt: sum.StartedAt, FinishedAt: sum.FinishedAt, Outcome: store.SyncOK,
		Pages: sum.Pages, Accepted: sum.Accepted, Ignored: sum.Ignored, Rejected: sum.Rejected, WriteResult: sum.WriteResult, Problems: sum.Problems}
	if err != nil {
		run.Outcome, run.Error = store.SyncFailed, bound(err.Error())
	}
	// The run is logged even when ctx ended (a shutdown): its health is
	// what the data sources report shows.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, lerr := s.st.LogSyncRun(lctx, run); lerr != nil {
		return sum, errors.Join(err, fmt.Errorf("logging the %s sync run: %w", source, lerr))
	}
	return sum, err
}

func (s *Service) sync(ctx context.Context, source string, opt SyncOptions, sum *SyncSummary) error {
	api, err := s.apiClient(source)
	if err != nil {
		return err
	}
	streams, err := s.collectors()[source](ctx, api)
	if err != nil {
		return err
	}
	saved, err := s.st.SyncCursors(ctx, source)
	if err != nil {
		return err
	}
	byStream := map[string]string{}
	for _, c := range saved {
		byStream[c.Stream] = c.Cursor
	}
	for _, st := range streams {
		start := cursor{Since: opt.Since}
		if opt.Since.IsZero() {
			start.Since = s.now().UTC().Add(-s.cfg.syncOf(source).backfill())
			if raw, ok := byStream[st.name()]; ok {
				if err := json.Unmarshal([]byte(raw), &start); err != nil {
					return fmt.Errorf("the saved cursor of %s %s: %w", source, st.name(), err)
				}
			}
		}
		if err := s.syncStream(ctx, source, st, start, opt, sum); err != nil {
			return fmt.Errorf("%s %s: %w", source, st.name(), err)
		}
	}
	return nil
}

func (s *Service) syncStream(ctx context.Context, source string, st stream, cur cursor, opt SyncOptions, sum *SyncSummary) error {
	ss := StreamSummary{Name: st.name(), From: cur.Since}
	defer func() { sum.Streams = append(sum.Streams, ss) }()
	for range maxSyncPages {
		if err := ctx.Err(); err != nil {
			return err
		}
		pg, err := st.page(ctx, cur)
		if err != nil {
			return err
		}
		if err := s.commitPage(ctx, source, pg.objects, opt, sum); err != nil {
			return err
		}
		ss.Pages++
		ss.Objects += len(pg.objects)
		sum.Pages++
		if !opt.DryRun {
			raw, _ := json.Marshal(pg.next)
			if err := s.st.SaveSyncCursor(ctx, store.SyncCursor{Source: source, Stream: st.name(), Cursor: string(raw), SavedAt: s.now().UTC()}); err != nil {
				return fmt.Errorf("saving the cursor (the page is committed): %w", err)
			}
		}
		if pg.done {
			return nil
		}
		if reflect.DeepEqual(pg.next, cur) {
			return fmt.Errorf("the API gave a page that moves nothing on (cursor %+v); stopped", cur)
		}
		cur = pg.next
	}
	return fmt.Errorf("stopped after %d pages", maxSyncPages)
}

// commitPage maps a page's objects and commits their records in one
// import (grouped with concurrent deliveries): all or nothing. An object
// that cannot be mapped is rejected with its reason and left out, so one
// bad object does not hold up every later page.
func (s *Service) commitPage(ctx context.Context, source string, objs []object, opt SyncOptions, sum *SyncSummary) error {
	if l := s.stateful[source]; l != nil {
		// Building reads stored records: the page holds the whole source
		// from that read to its commit, as a delivery holds its key.
		l.all.Lock()
		defer l.all.Unlock()
	}
	var entries []ingest.Entry
	// The event clocks the page's mappings advance are committed with its
	// records, and read back by its later objects meanwhile.
	var docs []store.KeyedDoc
	earlier := map[string]clock{}
	reject := func(o object, err error) error {
		var re *rejection
		if !errors.As(err, &re) {
			return err
		}
		sum.Rejected++
		if len(sum.Problems) < maxProblems {
			sum.Problems = append(sum.Problems, o.key+": "+re.reason)
		}
		return nil
	}
	for _, o := range objs {
		sum.Objects++
		if o.err != nil {
			if err := reject(o, o.err); err != nil {
				return err
			}
			continue
		}
		st := &state{st: s.st, source: source, dryRun: opt.DryRun, earlier: earlier}
		out, err := o.p.build(ctx, st)
		if err != nil {
			if err := reject(o, err); err != nil {
				return err
			}
			continue
		}
		recs, truncated, err := finish(out, source, s.parse)
		if err != nil {
			if err := reject(o, err); err != nil {
				return err
			}
			continue
		}
		if len(recs) == 0 {
			sum.Ignored++
			continue
		}
		st.kept(earlier)
		docs = append(docs, st.docs...)
		sum.Accepted++
		sum.Truncated += truncated
		for _, r := range recs {
			entries = append(entries, ingest.Entry{Record: r, Raw: o.raw})
			sum.Kinds[r.Kind()]++
		}
	}
	if opt.DryRun || len(entries) == 0 {
		return nil
	}
	res, err := s.commit.ImportEntries(ctx, ingest.Options{Parse: s.parse, Docs: docs}, func(add func(ingest.Entry) error) error {
		for _, e := range entries {
			if err := add(e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("committing a page of %d records: %w", len(entries), err)
	}
	sum.WriteResult.Add(res.WriteResult)
	return nil
}

// collectors builds each source's streams.
func (s *Service) collectors() map[string]collector {
	return map[string]collector{
		"github":    s.githubStreams,
		"gitlab":    s.gitlabStreams,
		"pagerduty": s.pagerdutyStreams,
		"jira":      s.jiraStreams,
	}
}

// apiClient is the client of a source's API, with its credentials.
func (s *Service) apiClient(source string) (*apiClient, error) {
	sc := s.cfg.syncOf(source)
	base, err := url.Parse(s.cfg.baseURL(source))
	if err != nil {
		return nil, fmt.Errorf("connectors.%s.sync.base_url: %v", source, err)
	}
	token := strings.TrimSpace(sc.Token)
	c := &apiClient{source: source, base: base, http: onHost(s.httpClient, base), sleep: s.sleep, now: s.now,
		tokenKey: fmt.Sprintf("connectors.%s.sync.token or %s", source, SyncTokenEnv(source))}
	switch source {
	case "github":
		c.auth = func(h http.Header) {
			h.Set("Authorization", "Bearer "+token)
			h.Set("Accept", "application/vnd.github+json")
			h.Set("X-GitHub-Api-Version", "2022-11-28")
		}
	case "gitlab":
		c.auth = func(h http.Header) { h.Set("PRIVATE-TOKEN", token) }
	case "pagerduty":
		c.auth = func(h http.Header) {
			h.Set("Authorization", "Token token="+token)
			h.Set("Accept", "application/vnd.pagerduty+json;version=2")
		}
	case "jira":
		user := strings.TrimSpace(s.cfg.Jira.Sync.User)
		c.auth = func(h http.Header) {
			if user != "" {
				r := http.Request{Header: h}
				r.SetBasicAuth(user, token)
			} else {
				h.Set("Authorization", "Bearer "+token)
			}
			h.Set("Accept", "application/json")
		}
	}
	return c, nil
}

// getJSON asks for target and decodes the answer into v.
func getJSON(ctx context.Context, api *apiClient, target string, v any) (*apiResponse, error) {
	resp, err := api.get(ctx, target)
	if err != nil {
		return nil, err
	}
	// A null answer decodes into a list or an object without an error,
	// as nothing at all: a proxy's or a stub's "null" had read as an empty
	// page, a run logged as a success that read nothing.
	if string(bytes.TrimSpace(resp.body)) == "null" {
		return nil, fmt.Errorf("GET %s: the answer is not what the API documents: null (is the base_url the tool's API?)", resp.url)
	}
	if err := json.Unmarshal(resp.body, v); err != nil {
		return nil, fmt.Errorf("GET %s: the answer is not what the API documents: %v", resp.url, err)
	}
	return resp, nil
}

// getList is getJSON for a page that wraps its objects in an object
// (PagerDuty's "incidents", Jira's "issues"): the answer must hold that
// field as a list, empty or not (null is none). A JSON answer without it — a
// misrouted base_url, a proxy's own JSON — had been read as an empty page,
// and the run logged as a success that read nothing.
func getList(ctx context.Context, api *apiClient, target string, v any, field string) (*apiResponse, error) {
	resp, err := getJSON(ctx, api, target, v)
	if err != nil {
		return resp, err
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(resp.body, &top) != nil || !bytes.HasPrefix(bytes.TrimSpace(top[field]), []byte("[")) {
		return resp, fmt.Errorf("GET %s: the answer is not what the API documents: it has no %q list (is the base_url the tool's API?)", resp.url, field)
	}
	return resp, nil
}

// ascend is the next cursor of a walk over a list the API sorts oldest
// first by update time, from the cursor's Since: each page starts again at
// the newest time the last one reached (a keyset on time: an object
// updated meanwhile moves to the end and is read again, never skipped, and
// the objects at that very time are read twice, which changes nothing).
// When a page holds nothing newer than where it started (more objects
// share one time than a page holds), the walk follows the API's own
// pagination of that query (follow: the next page number, offset or
// token; query: what the query was, when Since alone does not say) to its
// end. high is the newest time on the page; last says it was the query's
// last page.
func ascend(cur cursor, high time.Time, last bool, follow, query string) (cursor, bool) {
	high = latest(high, cur.Since, cur.High)
	switch {
	case last:
		return cursor{Since: high, Open: cur.Open}, true
	case cur.Next == "" && high.After(cur.Since):
		return cursor{Since: high, Open: cur.Open}, false
	}
	return cursor{Since: cur.Since, High: high, Next: follow, Query: query, Open: cur.Open}, false
}

// latest is the latest of some times.
func latest(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if t.After(out) {
			out = t
		}
	}
	return out
}
