package connect

import (
	"bytes"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/candor/candor/internal/domain"
)

// GitHub: deployment_status (finished deployments), pull_request (merged
// pull requests are changes), pull_request_review (a change's first
// review), push (commits to the default branch, for
// trunk-based teams), workflow_run (configured deploy workflows) and
// release (when configured). Verified with X-Hub-Signature-256; the
// delivery id is X-GitHub-Delivery, the same on a redelivery.
func githubConnector(cfg GitHub) connector {
	return connector{
		name:        "github",
		headers:     []string{"X-GitHub-Event", "X-GitHub-Delivery"},
		verify:      verifyHubSignature("X-Hub-Signature-256"),
		headerID:    func(h http.Header) string { return h.Get("X-GitHub-Delivery") },
		headerEvent: func(h http.Header) string { return h.Get("X-GitHub-Event") },
		parse:       func(in *input) (*parsed, error) { return parseGitHub(cfg, in) },
		stateful:    true, keyed: true, // a merge is written with the first review kept before it
	}
}

type ghRepo struct {
	Name          string `json:"name"`
	FullName      string `json:"full_name"`
	DefaultBranch string `json:"default_branch"`
	PushedAt      when   `json:"pushed_at"`
}

type ghUser struct {
	Login string `json:"login"`
}

// ghHead is what every event has. Each event's own struct embeds it, so a
// delivery is decoded once, and an event Candor ignores cannot be
// malformed in a field it would not read.
type ghHead struct {
	Action     string `json:"action"`
	Repository ghRepo `json:"repository"`
}

type ghDeploymentEvent struct {
	ghHead
	Deployment       ghDeployment       `json:"deployment"`
	DeploymentStatus ghDeploymentStatus `json:"deployment_status"`
}

// ghDeployment and ghDeploymentStatus are as the webhooks and the REST API
// both give them.
type ghDeployment struct {
	ID                    text   `json:"id"`
	SHA                   string `json:"sha"`
	Ref                   string `json:"ref"`
	Environment           string `json:"environment"`
	ProductionEnvironment *bool  `json:"production_environment"`
	CreatedAt             when   `json:"created_at"`
}

type ghDeploymentStatus struct {
	State       string `json:"state"`
	Environment string `json:"environment"`
	TargetURL   string `json:"target_url"`
	LogURL      string `json:"log_url"`
	CreatedAt   when   `json:"created_at"`
}

type ghPullRequestEvent struct {
	ghHead
	PullRequest ghPull `json:"pull_request"`
}

// ghPull is a pull request as GitHub's webhooks and its REST API both give
// it (the API's list has no "merged"; merged_at says it).
type ghPull struct {
	Number         whole  `json:"number"`
	Title          string `json:"title"`
	HTMLURL        string `json:"html_url"`
	User           ghUser `json:"user"`
	CreatedAt      when   `json:"created_at"`
	UpdatedAt      when   `json:"updated_at"`
	MergedAt       when   `json:"merged_at"`
	Merged         bool   `json:"merged"`
	MergeCommitSHA string `json:"merge_commit_sha"`
	Base           struct {
		Ref string `json:"ref"`
	} `json:"base"`
}

// ghPullRequestReviewEvent is a review submitted on a pull request: its
// time is the change's first_review_at when it is the earliest seen.
type ghPullRequestReviewEvent struct {
	ghHead
	Review struct {
		User        ghUser `json:"user"`
		SubmittedAt when   `json:"submitted_at"`
	} `json:"review"`
	PullRequest struct {
		Number whole  `json:"number"`
		User   ghUser `json:"user"`
		Base   struct {
			Ref string `json:"ref"`
		} `json:"base"`
	} `json:"pull_request"`
}

type ghPushEvent struct {
	ghHead
	Ref     string     `json:"ref"`
	Deleted bool       `json:"deleted"`
	Commits []ghCommit `json:"commits"`
}

type ghWorkflowRunEvent struct {
	ghHead
	Workflow struct {
		Name string `json:"name"`
	} `json:"workflow"`
	WorkflowRun struct {
		ID           text   `json:"id"`
		Name         string `json:"name"`
		Status       string `json:"status"`
		Conclusion   string `json:"conclusion"`
		HeadSHA      string `json:"head_sha"`
		HTMLURL      string `json:"html_url"`
		RunStartedAt when   `json:"run_started_at"`
		UpdatedAt    when   `json:"updated_at"`
	} `json:"workflow_run"`
}

type ghReleaseEvent struct {
	ghHead
	Release struct {
		ID          text   `json:"id"`
		TagName     string `json:"tag_name"`
		Draft       bool   `json:"draft"`
		Prerelease  bool   `json:"prerelease"`
		PublishedAt when   `json:"published_at"`
	} `json:"release"`
}

type ghCommit struct {
	ID        string `json:"id"`
	Distinct  *bool  `json:"distinct"`
	Message   string `json:"message"`
	Timestamp when   `json:"timestamp"`
	URL       string `json:"url"`
	Author    struct {
		Name     string `json:"name"`
		Username string `json:"username"`
	} `json:"author"`
	Added    []string `json:"added"`
	Removed  []string `json:"removed"`
	Modified []string `json:"modified"`
}

func parseGitHub(cfg GitHub, in *input) (*parsed, error) {
	kind := in.header.Get("X-GitHub-Event")
	id := in.header.Get("X-GitHub-Delivery")
	if kind == "" {
		return nil, rejectf("no X-GitHub-Event header")
	}
	var p interface{ head() *ghHead }
	switch kind {
	case "deployment_status":
		p = &ghDeploymentEvent{}
	case "pull_request":
		p = &ghPullRequestEvent{}
	case "pull_request_review":
		p = &ghPullRequestReviewEvent{}
	case "push":
		p = &ghPushEvent{}
	case "workflow_run":
		p = &ghWorkflowRunEvent{}
	case "release":
		p = &ghReleaseEvent{}
	default:
		p = &ghHead{}
	}
	if err := decode(formPayload(in.body), p); err != nil {
		return nil, err
	}
	h := p.head()
	event := kind
	if h.Action != "" {
		event += "." + h.Action
	}
	repo := h.Repository
	service := cfg.service(repo)
	switch p := p.(type) {
	case *ghDeploymentEvent:
		return outcome(id, event)(githubDeployment(cfg, repo, &p.Deployment, &p.DeploymentStatus))
	case *ghPullRequestEvent:
		return changeOutcome(id, event)(githubChange(cfg, repo, &p.PullRequest, h.Action == "closed" && p.PullRequest.Merged))
	case *ghPullRequestReviewEvent:
		return githubReview(cfg, id, event, repo, p)
	case *ghPushEvent:
		return githubPush(cfg, id, event, service, repo, p)
	case *ghWorkflowRunEvent:
		run := p.WorkflowRun
		name := firstOf(p.Workflow.Name, run.Name)
		env, ok := cfg.DeployWorkflows[name]
		switch {
		case !ok:
			return ignored(id, event, "workflow %q is not a deploy workflow (connectors.github.deploy_workflows)", name), nil
		case h.Action != "completed":
			return ignored(id, event, "only a completed run is a finished deployment"), nil
		}
		status, ok := map[string]string{"success": domain.StatusSuccess, "failure": domain.StatusFailure, "timed_out": domain.StatusFailure}[run.Conclusion]
		if !ok {
			return ignored(id, event, "a run that concluded %q deployed nothing", run.Conclusion), nil
		}
		return mapped(id, event, &domain.Deployment{
			Meta: domain.Meta{ID: "run/" + string(run.ID)}, Service: service, Environment: env, EnvType: cfg.envType(env),
			Status: status, StartedAt: run.RunStartedAt.Time, FinishedAt: run.UpdatedAt.Time,
			Commit: run.HeadSHA, PipelineURL: run.HTMLURL,
		}), nil
	case *ghReleaseEvent:
		rel := p.Release
		switch {
		case cfg.ReleaseEnvironment == "":
			return ignored(id, event, "releases are not deployments here (connectors.github.release_environment)"), nil
		case h.Action != "published" || rel.Draft || rel.Prerelease:
			return ignored(id, event, "only a published, final release is a deployment"), nil
		}
		return mapped(id, event, &domain.Deployment{
			Meta: domain.Meta{ID: "release/" + string(rel.ID)}, Service: service,
			Environment: cfg.ReleaseEnvironment, EnvType: cfg.envType(cfg.ReleaseEnvironment),
			Status: domain.StatusSuccess, FinishedAt: rel.PublishedAt.Time, Version: rel.TagName,
		}), nil
	}
	return ignored(id, event, "GitHub %s events are not mapped", kind), nil
}

func (h *ghHead) head() *ghHead { return h }

// service is the service of a repository.
func (cfg GitHub) service(repo ghRepo) string {
	return serviceOf(cfg.Services, repo.Name, repo.FullName, repo.Name)
}

// githubChange maps a pull request (merged: it was merged) of repo: a
// merged one into the default branch is a change, other ones are ignored
// with the reason. The webhook and the collector both map through it, so
// a pull request is the same record however it came.
func githubChange(cfg GitHub, repo ghRepo, pr *ghPull, merged bool) (domain.Record, string, error) {
	switch {
	case cfg.ChangesFrom == "push":
		return nil, "changes come from pushes (connectors.github.changes_from: push)", nil
	case !merged:
		return nil, "only a merged pull request is a change", nil
	case repo.DefaultBranch != "" && pr.Base.Ref != repo.DefaultBranch:
		return nil, fmt.Sprintf("merged into %s, not the default branch %s", pr.Base.Ref, repo.DefaultBranch), nil
	}
	if pr.MergedAt.IsZero() {
		return nil, "", rejectField("pull_request.merged_at", "missing on a merged pull request")
	}
	return &domain.Change{
		Meta:     domain.Meta{ID: repo.FullName + "#" + string(pr.Number)},
		Service:  cfg.service(repo),
		MergedAt: pr.MergedAt.Time, OpenedAt: pr.CreatedAt.Time,
		Title: pr.Title, Author: pr.User.Login, Commit: pr.MergeCommitSHA, URL: pr.HTMLURL,
	}, "", nil
}

// githubDeployment maps a deployment of repo with its status: success
// and failure (or error) finish a deployment; the other states are steps
// on the way. The webhook (deployment_status) and the collector (a
// deployment and its newest status) both map through it.
func githubDeployment(cfg GitHub, repo ghRepo, dep *ghDeployment, st *ghDeploymentStatus) (domain.Record, string, error) {
	status, ok := map[string]string{"success": domain.StatusSuccess, "failure": domain.StatusFailure, "error": domain.StatusFailure}[st.State]
	if !ok {
		return nil, fmt.Sprintf("deployment state %q is not finished", st.State), nil
	}
	if dep.ID == "" {
		return nil, "", rejectField("deployment.id", "missing")
	}
	env := firstOf(st.Environment, dep.Environment)
	envType := cfg.envType(env)
	if dep.ProductionEnvironment != nil && *dep.ProductionEnvironment {
		envType = domain.EnvProduction
	}
	d := &domain.Deployment{
		Meta: domain.Meta{ID: "deployment/" + string(dep.ID)}, Service: cfg.service(repo), Environment: env, EnvType: envType,
		Status: status, StartedAt: dep.CreatedAt.Time, FinishedAt: st.CreatedAt.Time, Commit: dep.SHA,
		PipelineURL: firstOf(st.LogURL, st.TargetURL),
	}
	if dep.Ref != "" && dep.Ref != dep.SHA && dep.Ref != repo.DefaultBranch {
		d.Version = dep.Ref // a tag or release branch names the version; the default branch does not
	}
	return d, "", nil
}

// githubPush maps the commits pushed to the default branch, when changes
// come from pushes: each is a change of the repository's service, or of
// every service whose paths (connectors.github.paths) it touched.
func githubPush(cfg GitHub, id, event, service string, repo ghRepo, p *ghPushEvent) (*parsed, error) {
	switch {
	case cfg.ChangesFrom != "push":
		return ignored(id, event, "changes come from merged pull requests (connectors.github.changes_from)"), nil
	case p.Deleted:
		return ignored(id, event, "a deleted branch or tag"), nil
	case p.Ref != "refs/heads/"+repo.DefaultBranch:
		return ignored(id, event, "a push to %s, not the default branch %s", p.Ref, repo.DefaultBranch), nil
	}
	var recs []domain.Record
	for _, c := range p.Commits {
		if c.Distinct != nil && !*c.Distinct {
			continue // already counted when first pushed to a branch of this repository
		}
		merged := firstTime(repo.PushedAt, c.Timestamp)
		recs = append(recs, commitChanges(c.ID, c.Message, firstOf(c.Author.Username, c.Author.Name), c.URL, c.Timestamp, merged,
			service, cfg.Paths[repo.FullName], c.Added, c.Removed, c.Modified)...)
	}
	if len(recs) == 0 {
		return ignored(id, event, "no new commits"), nil
	}
	return mapped(id, event, recs...), nil
}

// commitChanges is a pushed commit as changes: one of service, or one per
// service whose path prefix a touched file starts with (id SHA/service).
func commitChanges(sha, message, author, url string, authored, merged when, service string, paths map[string]string, files ...[]string) []domain.Record {
	title, _, _ := strings.Cut(message, "\n")
	base := domain.Change{Meta: domain.Meta{ID: sha}, Service: service, MergedAt: merged.Time, AuthoredAt: authored.Time,
		Title: title, Author: author, Commit: sha, URL: url}
	touched := servicesTouched(paths, files...)
	if len(touched) == 0 {
		c := base
		return []domain.Record{&c}
	}
	var out []domain.Record
	for _, svc := range touched {
		c := base
		c.ID, c.Service = sha+"/"+svc, svc
		out = append(out, &c)
	}
	return out
}

// servicesTouched lists, sorted, the services whose path prefix one of the
// files starts with.
func servicesTouched(paths map[string]string, files ...[]string) []string {
	seen := map[string]bool{}
	for _, list := range files {
		for _, f := range list {
			for prefix, svc := range paths {
				if strings.HasPrefix(f, prefix) {
					seen[svc] = true
				}
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

func firstTime(ts ...when) when {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return when{}
}

// githubReview maps a submitted review by someone other than the pull
// request's author (SPEC §1: the author's own comments are no review).
func githubReview(cfg GitHub, id, event string, repo ghRepo, p *ghPullRequestReviewEvent) (*parsed, error) {
	pr, rv := p.PullRequest, p.Review
	switch {
	case cfg.ChangesFrom == "push":
		return ignored(id, event, "changes come from pushes (connectors.github.changes_from: push)"), nil
	case p.Action != "submitted":
		return ignored(id, event, "only a submitted review is a review"), nil
	case rv.User.Login != "" && rv.User.Login == pr.User.Login:
		return ignored(id, event, "a review by the pull request's author"), nil
	case repo.DefaultBranch != "" && pr.Base.Ref != repo.DefaultBranch:
		return ignored(id, event, "a pull request into %s, not the default branch %s", pr.Base.Ref, repo.DefaultBranch), nil
	}
	if pr.Number == "" {
		return nil, known(id, event, rejectField("pull_request.number", "missing"))
	}
	if rv.SubmittedAt.IsZero() {
		return nil, known(id, event, rejectField("review.submitted_at", "missing on a submitted review"))
	}
	return firstReview(id, event, repo.FullName+"#"+string(pr.Number), rv.SubmittedAt.Time), nil
}

// formPayload is the JSON of a delivery GitHub sent form-encoded — a
// webhook whose content type is application/x-www-form-urlencoded, the
// default in GitHub's form, posts "payload=" and the JSON escaped — or
// body as it is. Such deliveries had been refused as "not valid JSON
// (at byte 1)", which sent the SRE to the payload rather than the
// setting. The signature covers the body as sent, and the delivery log
// and kept payload hold it so; only the mapping reads the JSON inside.
func formPayload(body []byte) []byte {
	if !bytes.HasPrefix(body, []byte("payload=")) {
		return body
	}
	v, err := url.ParseQuery(string(body))
	if err != nil || v.Get("payload") == "" {
		return body
	}
	return []byte(v.Get("payload"))
}
