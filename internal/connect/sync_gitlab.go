package connect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/domain"
)

// GitLab's REST API v4 filters merge requests and deployments by update
// time (updated_after) and sorts them oldest first (order_by=updated_at,
// sort=asc), a page at a time (page=N; X-Next-Page names the next one,
// empty on the last). A collector walks each list as a keyset on that
// time (ascend): every page asks again from the newest time reached, so
// an object updated during the walk moves to the end and is read there.

func (s *Service) gitlabStreams(ctx context.Context, api *apiClient) ([]stream, error) {
	cfg := s.cfg.GitLab
	var out []stream
	for _, path := range cfg.Sync.Projects {
		path = strings.Trim(path, "/")
		var proj glProject
		if _, err := getJSON(ctx, api, "/api/v4/projects/"+url.PathEscape(path), &proj); err != nil {
			return nil, err
		}
		if proj.PathWithNamespace == "" {
			return nil, fmt.Errorf("project %s: the API's answer has no path_with_namespace", path)
		}
		base := glList{api: api, proj: proj, size: cfg.Sync.pageSize()}
		out = append(out, &glMergeRequests{glList: base, cfg: cfg}, &glDeployments{glList: base, cfg: cfg})
	}
	return out, nil
}

// glList is a project's list sorted by update time, oldest first.
type glList struct {
	api  *apiClient
	proj glProject
	size int
}

// fetch reads the page of the list at path the cursor points at, and
// calls each with every object and its update time; it returns the next
// cursor.
func (l *glList) fetch(ctx context.Context, path string, cur cursor, extra url.Values, each func(raw json.RawMessage) (time.Time, object, error)) (page, error) {
	q := url.Values{"order_by": {"updated_at"}, "sort": {"asc"}, "per_page": {strconv.Itoa(l.size)}, "page": {firstOf(cur.Next, "1")},
		// "after" may be strict: a second earlier reads the objects at
		// the very time again rather than risk missing one.
		"updated_after": {cur.Since.Add(-time.Second).UTC().Format(time.RFC3339)}}
	for k, v := range extra {
		q[k] = v
	}
	var items []json.RawMessage
	resp, err := getJSON(ctx, l.api, "/api/v4/projects/"+url.PathEscape(l.proj.PathWithNamespace)+"/"+path+"?"+q.Encode(), &items)
	if err != nil {
		return page{}, err
	}
	var pg page
	var high time.Time
	for _, raw := range items {
		t, o, err := each(raw)
		if err != nil {
			return page{}, err
		}
		high = latest(high, t)
		pg.objects = append(pg.objects, o)
	}
	last := l.lastPage(resp, len(items))
	page, _ := strconv.Atoi(firstOf(cur.Next, "1"))
	pg.next, pg.done = ascend(cur, high, last, strconv.Itoa(page+1), "")
	return pg, nil
}

// lastPage says an answer of n objects is its list's last page: fewer
// than a page, or X-Next-Page empty.
func (l *glList) lastPage(resp *apiResponse, n int) bool {
	if v, ok := resp.header["X-Next-Page"]; ok && len(v) > 0 && v[0] == "" {
		return true
	}
	return n < l.size
}

// glMergeRequests walks a project's merged merge requests: changes
// (gitlabChange).
type glMergeRequests struct {
	glList
	cfg GitLab
}

func (m *glMergeRequests) name() string { return m.proj.PathWithNamespace + " merge requests" }

func (m *glMergeRequests) page(ctx context.Context, cur cursor) (page, error) {
	return m.fetch(ctx, "merge_requests", cur, url.Values{"state": {"merged"}}, func(raw json.RawMessage) (time.Time, object, error) {
		var mr glMergeRequest
		if err := decode(raw, &mr); err != nil {
			return time.Time{}, newObject(m.proj.PathWithNamespace+" merge request", raw, nil, err), nil
		}
		key := m.proj.PathWithNamespace + "!" + string(mr.IID)
		rec, why, err := gitlabChange(m.cfg, m.proj, &mr)
		both := []byte(raw)
		if c, ok := rec.(*domain.Change); ok && err == nil && on(m.cfg.Sync.Reviews) {
			at, noteRaw, err := m.firstReview(ctx, string(mr.IID), firstOf(string(mr.AuthorID), string(mr.Author.ID)))
			var re *rejection
			switch {
			case errors.As(err, &re):
				return mr.UpdatedAt.Time, newObject(key, raw, nil, rejectf("its notes: %s", re.reason)), nil
			case err != nil:
				return time.Time{}, object{}, err
			case noteRaw != nil:
				// The record's raw hash is of the merge request and the
				// note its first_review_at came from, one line each.
				c.FirstReviewAt = at
				both = append(append(append([]byte{}, raw...), '\n'), noteRaw...)
			}
		}
		p, err := changeOutcome(key, "merge_request")(rec, why, err)
		return mr.UpdatedAt.Time, newObject(key, both, p, err), nil
	})
}

// glNote is a note (comment) on a merge request as the REST API lists it.
type glNote struct {
	Body   string `json:"body"`
	System bool   `json:"system"`
	Author struct {
		ID text `json:"id"`
	} `json:"author"`
	CreatedAt when `json:"created_at"`
}

// approvalNote is the body of the system note GitLab adds when someone
// approves a merge request. The approvals endpoint names the approvers
// without times (in GitLab Free), so the note is where an approval's time
// is.
const approvalNote = "approved this merge request"

// isReview says a note is a review of a merge request by someone other
// than its author (SPEC §1): a comment, or an approval; the other system
// notes (a commit added, a label changed) are no review.
func (n *glNote) isReview(author string) bool {
	if n.CreatedAt.IsZero() || (author != "" && string(n.Author.ID) == author) {
		return false
	}
	return !n.System || strings.HasPrefix(strings.TrimSpace(n.Body), approvalNote)
}

// firstReview reads a merge request's notes, oldest first, for its first
// review (isReview), with the note as the API gave it; none when there is
// none. The walk ends at the first page holding one.
func (m *glMergeRequests) firstReview(ctx context.Context, iid, author string) (time.Time, json.RawMessage, error) {
	for n := 1; n <= maxSyncPages; n++ {
		q := url.Values{"order_by": {"created_at"}, "sort": {"asc"}, "per_page": {strconv.Itoa(m.size)}, "page": {strconv.Itoa(n)}}
		var items []json.RawMessage
		resp, err := getJSON(ctx, m.api, "/api/v4/projects/"+url.PathEscape(m.proj.PathWithNamespace)+"/merge_requests/"+url.PathEscape(iid)+"/notes?"+q.Encode(), &items)
		if err != nil {
			return time.Time{}, nil, err
		}
		at, atRaw, err := earliestReview(items, func(r json.RawMessage) (time.Time, error) {
			var note glNote
			if err := decode(r, &note); err != nil || !note.isReview(author) {
				return time.Time{}, err
			}
			return note.CreatedAt.Time, nil
		})
		if err != nil {
			return time.Time{}, nil, err
		}
		if atRaw != nil || m.lastPage(resp, len(items)) {
			return at, atRaw, nil
		}
	}
	return time.Time{}, nil, fmt.Errorf("merge request !%s's notes: stopped after %d pages", iid, maxSyncPages)
}

// glDeploymentObject is a deployment as the REST API gives it.
type glDeploymentObject struct {
	ID          text   `json:"id"`
	Ref         string `json:"ref"`
	SHA         string `json:"sha"`
	Status      string `json:"status"`
	UpdatedAt   when   `json:"updated_at"`
	Environment struct {
		Name string `json:"name"`
		Tier string `json:"tier"`
	} `json:"environment"`
	Deployable *struct {
		ID     text   `json:"id"`
		WebURL string `json:"web_url"`
	} `json:"deployable"`
}

// glDeployments walks a project's deployments (gitlabDeployment). The
// deployment's last update is its status change: the webhook's
// status_changed_at.
type glDeployments struct {
	glList
	cfg GitLab
}

func (d *glDeployments) name() string { return d.proj.PathWithNamespace + " deployments" }

func (d *glDeployments) page(ctx context.Context, cur cursor) (page, error) {
	return d.fetch(ctx, "deployments", cur, nil, func(raw json.RawMessage) (time.Time, object, error) {
		var o glDeploymentObject
		if err := decode(raw, &o); err != nil {
			return time.Time{}, newObject(d.proj.PathWithNamespace+" deployment", raw, nil, err), nil
		}
		key := d.proj.PathWithNamespace + " deployment " + string(o.ID)
		dep := glDeployment{DeploymentID: o.ID, Environment: o.Environment.Name, Tier: o.Environment.Tier,
			Status: o.Status, FinishedAt: o.UpdatedAt, Commit: o.SHA, Ref: o.Ref}
		if o.Deployable != nil {
			dep.DeployableID, dep.DeployableURL = o.Deployable.ID, o.Deployable.WebURL
		}
		p, err := outcome(key, "deployment")(gitlabDeployment(d.cfg, d.proj, &dep))
		return o.UpdatedAt.Time, newObject(key, raw, p, err), nil
	})
}
