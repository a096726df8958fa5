package connect

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Jira's search takes a JQL query; Candor asks for the issues of the
// configured filter updated since the cursor, oldest first (ORDER BY
// updated ASC), and walks them as a keyset on the update time (ascend).
// The time bound is relative ("updated >= -90m"): JQL reads an absolute
// time in the Jira user's own time zone, a relative one means the same
// everywhere; a minute more than the cursor needs reads the boundary
// again, which changes nothing. Jira Cloud's search (/rest/api/3/search/jql)
// pages with nextPageToken and isLast; Data Center's
// (/rest/api/2/search, connectors.jira.sync.search: legacy) with startAt,
// maxResults and total.

// jiraFields are the fields the mapping reads (jiraRecord).
const jiraFields = "summary,issuetype,priority,project,components,created,updated,resolutiondate"

func (s *Service) jiraStreams(ctx context.Context, api *apiClient) ([]stream, error) {
	return []stream{&jiraIssues{cfg: s.cfg.Jira, api: api, size: s.cfg.Jira.Sync.pageSize(), now: s.now}}, nil
}

type jiraIssues struct {
	cfg  Jira
	api  *apiClient
	size int
	now  func() time.Time
}

func (j *jiraIssues) name() string { return "issues" }

// jiraPage is a page of either search.
type jiraPage struct {
	Issues        []json.RawMessage `json:"issues"`
	NextPageToken string            `json:"nextPageToken"`
	IsLast        *bool             `json:"isLast"`
	StartAt       int               `json:"startAt"`
	Total         int               `json:"total"`
}

// jql is the query for issues updated since since.
func (j *jiraIssues) jql(since time.Time) string {
	minutes := int(math.Ceil(j.now().Sub(since).Minutes())) + 1
	bound := fmt.Sprintf(`updated >= "-%dm"`, max(minutes, 1))
	if f := strings.TrimSpace(j.cfg.Sync.JQL); f != "" {
		bound = "(" + f + ") AND " + bound
	}
	return bound + " ORDER BY updated ASC, key ASC"
}

func (j *jiraIssues) page(ctx context.Context, cur cursor) (page, error) {
	query := cur.Query
	if cur.Next == "" || query == "" {
		query = j.jql(cur.Since)
	}
	legacy := j.cfg.Sync.Search == "legacy"
	q := url.Values{"jql": {query}, "maxResults": {strconv.Itoa(j.size)}, "fields": {jiraFields}}
	path := "/rest/api/3/search/jql"
	if legacy {
		path = "/rest/api/2/search"
		q.Set("startAt", firstOf(cur.Next, "0"))
	} else if cur.Next != "" {
		q.Set("nextPageToken", cur.Next)
	}
	var res jiraPage
	if _, err := getList(ctx, j.api, path+"?"+q.Encode(), &res, "issues"); err != nil {
		return page{}, err
	}
	var pg page
	var high time.Time
	for _, raw := range res.Issues {
		var is jiraIssue
		if err := decode(raw, &is); err != nil {
			pg.objects = append(pg.objects, newObject("issue", raw, nil, err))
			continue
		}
		high = latest(high, is.Fields.Updated.Time)
		p, err := jiraNewest(is.Key, "issue", is.Fields.Updated.Time)(jiraRecord(j.cfg, &is))
		pg.objects = append(pg.objects, newObject(firstOf(is.Key, "issue "+string(is.ID)), raw, p, err))
	}
	// The last page: Cloud says isLast (or, on some sites, leaves out the
	// token); Data Center's startAt and total say.
	last, follow := res.NextPageToken == "" || (res.IsLast != nil && *res.IsLast), res.NextPageToken
	if legacy {
		last = res.StartAt+len(res.Issues) >= res.Total || len(res.Issues) == 0
		follow = strconv.Itoa(res.StartAt + len(res.Issues))
	}
	pg.next, pg.done = ascend(cur, high, last, follow, query)
	return pg, nil
}
