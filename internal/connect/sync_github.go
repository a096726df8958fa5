package connect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/candor/candor/internal/domain"
)

// GitHub's REST API v3 lists pull requests and deployments newest first,
// a page at a time (the next page's URL in the Link header), with no
// "updated since" filter. So each run walks a repository's lists from the
// newest down to where the last run stopped (the cursor's Since), and the
// newest time it saw becomes the next run's Since. A run that stops
// part-way resumes at the next page's URL: an object updated meanwhile
// moves to the front, where the next run finds it, and the objects behind
// shift back, so a page read again holds only objects read before.

// githubSettle is how long before the last run's newest deployment a run
// reads deployments again: a deployment is listed when it is created and
// finishes (gets its success or failure status) later.
const githubSettle = 24 * time.Hour

func (s *Service) githubStreams(ctx context.Context, api *apiClient) ([]stream, error) {
	cfg := s.cfg.GitHub
	var out []stream
	for _, full := range cfg.Sync.Repos {
		var repo ghRepo
		if _, err := getJSON(ctx, api, "/repos/"+escapeRepo(full), &repo); err != nil {
			return nil, err
		}
		if repo.FullName == "" {
			return nil, fmt.Errorf("repository %s: the API's answer has no full_name", full)
		}
		n := cfg.Sync.pageSize()
		out = append(out, &ghPulls{cfg: cfg, api: api, repo: repo, size: n}, &ghDeployments{cfg: cfg, api: api, repo: repo, size: n})
	}
	return out, nil
}

// escapeRepo escapes OWNER/REPO for a path, keeping the slash.
func escapeRepo(full string) string {
	owner, name, _ := strings.Cut(full, "/")
	return url.PathEscape(owner) + "/" + url.PathEscape(name)
}

// ghPulls walks a repository's closed pull requests, the most recently
// updated first: the merged ones are changes (githubChange).
type ghPulls struct {
	cfg  GitHub
	api  *apiClient
	repo ghRepo
	size int
}

func (p *ghPulls) name() string { return p.repo.FullName + " pull requests" }

func (p *ghPulls) page(ctx context.Context, cur cursor) (page, error) {
	first := fmt.Sprintf("/repos/%s/pulls?state=closed&sort=updated&direction=desc&per_page=%d", escapeRepo(p.repo.FullName), p.size)
	return descend(ctx, p.api, first, cur, func(raw json.RawMessage) (time.Time, time.Time, object, error) {
		var pr ghPull
		if err := decode(raw, &pr); err != nil {
			return time.Time{}, time.Time{}, newObject(p.repo.FullName+" pull request", raw, nil, err), nil
		}
		if pr.UpdatedAt.Before(cur.Since) && !pr.UpdatedAt.IsZero() {
			// The walk ends here: no reviews asked for a pull request
			// it does not map.
			return pr.UpdatedAt.Time, pr.UpdatedAt.Time, object{}, nil
		}
		key := p.repo.FullName + "#" + string(pr.Number)
		rec, why, err := githubChange(p.cfg, p.repo, &pr, pr.Merged || !pr.MergedAt.IsZero())
		both := []byte(raw)
		if c, ok := rec.(*domain.Change); ok && err == nil && on(p.cfg.Sync.Reviews) {
			at, rvRaw, err := p.firstReview(ctx, string(pr.Number), pr.User.Login)
			var re *rejection
			switch {
			case errors.As(err, &re):
				return pr.UpdatedAt.Time, pr.UpdatedAt.Time, newObject(key, raw, nil, rejectf("its reviews: %s", re.reason)), nil
			case err != nil:
				return time.Time{}, time.Time{}, object{}, err
			case rvRaw != nil:
				// The record's raw hash is of the pull request and the
				// review its first_review_at came from, one line each.
				c.FirstReviewAt = at
				both = append(append(append([]byte{}, raw...), '\n'), rvRaw...)
			}
		}
		// Written as the webhook writes a merge: with the first review the
		// webhook kept or stored, when it is earlier.
		parsed, err := changeOutcome(key, "pull_request")(rec, why, err)
		return pr.UpdatedAt.Time, pr.UpdatedAt.Time, newObject(key, both, parsed, err), nil
	})
}

// ghReview is a pull request review as the REST API lists it.
type ghReview struct {
	User        ghUser `json:"user"`
	State       string `json:"state"`
	SubmittedAt when   `json:"submitted_at"`
}

// firstReview reads a pull request's reviews for its first one (SPEC §1):
// the earliest submitted (not PENDING) by someone other than the author,
// with the review as the API gave it; none when there is none. The API
// lists reviews oldest first, so the walk ends at the first page holding
// one.
func (p *ghPulls) firstReview(ctx context.Context, number, author string) (time.Time, json.RawMessage, error) {
	next := fmt.Sprintf("/repos/%s/pulls/%s/reviews?per_page=%d", escapeRepo(p.repo.FullName), url.PathEscape(number), p.size)
	for range maxSyncPages {
		var items []json.RawMessage
		resp, err := getJSON(ctx, p.api, next, &items)
		if err != nil {
			return time.Time{}, nil, err
		}
		at, atRaw, err := earliestReview(items, func(r json.RawMessage) (time.Time, error) {
			var rv ghReview
			if err := decode(r, &rv); err != nil {
				return time.Time{}, err
			}
			if strings.EqualFold(rv.State, "PENDING") || (author != "" && rv.User.Login == author) {
				return time.Time{}, nil
			}
			return rv.SubmittedAt.Time, nil
		})
		if err != nil {
			return time.Time{}, nil, err
		}
		if next = nextLink(resp.header); atRaw != nil || next == "" {
			return at, atRaw, nil
		}
	}
	return time.Time{}, nil, fmt.Errorf("pull request %s's reviews: stopped after %d pages", number, maxSyncPages)
}

// descend reads the page of a list sorted newest first that cur points
// at (first, when the walk starts) and maps each object with each, which
// gives the object's time and the time it is compared with Since by. The
// walk is done when it reaches an object older than Since, or the list's
// end: the newest time seen becomes Since. Otherwise the next cursor is
// the next page of this walk (the Link header's).
func descend(ctx context.Context, api *apiClient, first string, cur cursor, each func(raw json.RawMessage) (at, by time.Time, o object, err error)) (page, error) {
	var items []json.RawMessage
	resp, err := getJSON(ctx, api, firstOf(cur.Next, first), &items)
	if err != nil {
		return page{}, err
	}
	var pg page
	high, older := cur.High, false
	for _, raw := range items {
		at, by, o, err := each(raw)
		if err != nil {
			return page{}, err
		}
		if !by.IsZero() && by.Before(cur.Since) {
			older = true // and so is every one after it
			break
		}
		high = latest(high, at)
		pg.objects = append(pg.objects, o)
	}
	next := nextLink(resp.header)
	if older || next == "" {
		pg.next, pg.done = cursor{Since: latest(high, cur.Since)}, true
		return pg, nil
	}
	pg.next = cursor{Since: cur.Since, High: high, Next: next}
	return pg, nil
}

// ghDeployments walks a repository's deployments, newest first, each
// with its newest finished status (githubDeployment).
type ghDeployments struct {
	cfg  GitHub
	api  *apiClient
	repo ghRepo
	size int
}

func (d *ghDeployments) name() string { return d.repo.FullName + " deployments" }

func (d *ghDeployments) page(ctx context.Context, cur cursor) (page, error) {
	first := fmt.Sprintf("/repos/%s/deployments?per_page=%d", escapeRepo(d.repo.FullName), d.size)
	return descend(ctx, d.api, first, cur, func(raw json.RawMessage) (time.Time, time.Time, object, error) {
		var dep ghDeployment
		if err := decode(raw, &dep); err != nil {
			return time.Time{}, time.Time{}, newObject(d.repo.FullName+" deployment", raw, nil, err), nil
		}
		// Compared a settling time early: it finished after it was listed.
		by := dep.CreatedAt.Add(githubSettle)
		if dep.CreatedAt.IsZero() {
			by = time.Time{}
		}
		if by.Before(cur.Since) && !by.IsZero() {
			return dep.CreatedAt.Time, by, object{}, nil
		}
		o, err := d.deployment(ctx, d.repo.FullName+" deployment "+string(dep.ID), raw, &dep)
		return dep.CreatedAt.Time, by, o, err
	})
}

// deployment maps a deployment with its newest finished status (the API
// lists statuses newest first); its raw hash is of the deployment and that
// status, one line each.
func (d *ghDeployments) deployment(ctx context.Context, key string, raw json.RawMessage, dep *ghDeployment) (object, error) {
	if dep.ID == "" {
		return newObject(key, raw, nil, rejectField("deployment.id", "missing")), nil
	}
	var statuses []json.RawMessage
	if _, err := getJSON(ctx, d.api, fmt.Sprintf("/repos/%s/deployments/%s/statuses?per_page=100", escapeRepo(d.repo.FullName), url.PathEscape(string(dep.ID))), &statuses); err != nil {
		return object{}, err
	}
	var st ghDeploymentStatus
	var stRaw json.RawMessage
	for _, r := range statuses {
		var s ghDeploymentStatus
		if err := decode(r, &s); err != nil {
			return newObject(key, raw, nil, err), nil
		}
		if s.State == "success" || s.State == "failure" || s.State == "error" {
			st, stRaw = s, r
			break
		}
	}
	if stRaw == nil {
		return newObject(key, raw, ignored(key, "deployment", "no finished status yet"), nil), nil
	}
	both := append(append(append([]byte{}, raw...), '\n'), stRaw...)
	p, err := outcome(key, "deployment_status")(githubDeployment(d.cfg, d.repo, dep, &st))
	return newObject(key, both, p, err), nil
}
