package connect

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// PagerDuty's REST API lists incidents created in a date range (since,
// until: at most six months apart), oldest first (sort_by=created_at:asc),
// with offset pagination (offset, limit; "more" says whether another page
// follows). A run walks the range from the cursor's Since as a keyset on
// the creation time (ascend), window after window up to now. An incident
// changes after it is created — it resolves, or reopens — so the ones seen
// unresolved are kept in the cursor (Open) and asked for again at the
// start of each run until they resolve.

// pdWindow is the widest date range one query may ask for.
const pdWindow = 179 * 24 * time.Hour

// pdMaxOpen bounds the unresolved incidents a cursor follows; past it the
// oldest are dropped (an incident open for months resolves in a later
// webhook, or a backfill with --since).
const pdMaxOpen = 500

func (s *Service) pagerdutyStreams(ctx context.Context, api *apiClient) ([]stream, error) {
	return []stream{&pdIncidents{cfg: s.cfg.PagerDuty, api: api, size: s.cfg.PagerDuty.Sync.pageSize(), now: s.now}}, nil
}

type pdIncidents struct {
	cfg  PagerDuty
	api  *apiClient
	size int
	now  func() time.Time
	// rechecked: this run has asked for the open incidents again.
	rechecked bool
}

func (p *pdIncidents) name() string { return "incidents" }

// pdList is a page of GET /incidents.
type pdList struct {
	Incidents []json.RawMessage `json:"incidents"`
	More      bool              `json:"more"`
}

func (p *pdIncidents) page(ctx context.Context, cur cursor) (page, error) {
	if !p.rechecked && cur.Next == "" && len(cur.Open) > 0 {
		return p.recheck(ctx, cur)
	}
	p.rechecked = true
	now := p.now().UTC()
	until := cur.Since.Add(pdWindow)
	if cur.Query != "" {
		if t, err := time.Parse(time.RFC3339Nano, cur.Query); err == nil {
			until = t
		}
	} else if until.After(now) {
		until = now
	}
	offset, _ := strconv.Atoi(firstOf(cur.Next, "0"))
	q := url.Values{"since": {cur.Since.Format(time.RFC3339Nano)}, "until": {until.Format(time.RFC3339Nano)},
		"sort_by": {"created_at:asc"}, "limit": {strconv.Itoa(p.size)}, "offset": {strconv.Itoa(offset)},
		"total": {"false"}, "time_zone": {"UTC"}}
	for _, id := range p.cfg.Sync.ServiceIDs {
		q.Add("service_ids[]", id)
	}
	var list pdList
	if _, err := getList(ctx, p.api, "/incidents?"+q.Encode(), &list, "incidents"); err != nil {
		return page{}, err
	}
	var pg page
	var high time.Time
	open := slices.Clone(cur.Open)
	for _, raw := range list.Incidents {
		o, inc := p.object(raw)
		pg.objects = append(pg.objects, o)
		high = latest(high, inc.CreatedAt.Time)
		open = track(open, inc)
	}
	cur.Open = open
	pg.next, pg.done = ascend(cur, high, !list.More, strconv.Itoa(offset+len(list.Incidents)), until.Format(time.RFC3339Nano))
	if pg.done && until.Before(now) {
		// This window is read; the next one starts where it ended.
		pg.next, pg.done = cursor{Since: latest(until, pg.next.Since), Open: open}, false
	}
	return pg, nil
}

// object maps one incident as it is now (pagerdutyCurrent).
func (p *pdIncidents) object(raw json.RawMessage) (object, pdIncident) {
	var inc pdIncident
	if err := decode(raw, &inc); err != nil {
		return newObject("incident", raw, nil, err), inc
	}
	u, err := pagerdutyCurrent(p.cfg, &inc)
	if err != nil {
		return newObject("incident "+inc.ID, raw, nil, err), inc
	}
	return newObject("incident "+inc.ID, raw, incidents(inc.ID, "incident", u), nil), inc
}

// track keeps the unresolved incidents in open and drops the resolved.
func track(open []string, inc pdIncident) []string {
	if inc.ID == "" {
		return open
	}
	open = slices.DeleteFunc(open, func(id string) bool { return id == inc.ID })
	if inc.Status != "resolved" {
		open = append(open, inc.ID)
	}
	if len(open) > pdMaxOpen {
		open = open[len(open)-pdMaxOpen:]
	}
	return open
}

// recheck asks for every incident the cursor holds as open (at most
// pdMaxOpen): those that resolved since are updated and leave the list.
func (p *pdIncidents) recheck(ctx context.Context, cur cursor) (page, error) {
	p.rechecked = true
	var pg page
	var still []string
	for _, id := range cur.Open {
		var one struct {
			Incident json.RawMessage `json:"incident"`
		}
		if _, err := getJSON(ctx, p.api, "/incidents/"+url.PathEscape(id), &one); err != nil {
			var ae *apiError
			if errors.As(err, &ae) && ae.status == http.StatusNotFound {
				continue // deleted, or out of the token's reach: nothing more to follow
			}
			return page{}, err
		}
		o, inc := p.object(one.Incident)
		pg.objects = append(pg.objects, o)
		still = track(still, inc)
	}
	pg.next = cursor{Since: cur.Since, Open: still}
	return pg, nil
}
