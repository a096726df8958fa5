package connect

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/candor/candor/internal/domain"
)

// GitLab: deployment events, merged merge requests, pipelines (each job
// that starts an environment is a deployment) and pushes to the default
// branch (when changes come from pushes). Verified with X-Gitlab-Token.
// A deployment and the pipeline job behind it are one record, keyed by
// the job's id, so a project that sends both events counts it once.
func gitlabConnector(cfg GitLab) connector {
	return connector{
		name:     "gitlab",
		headers:  []string{"Idempotency-Key", "X-Gitlab-Event-UUID", "X-Gitlab-Event"},
		verify:   verifyGitLabToken,
		headerID: gitlabDeliveryID,
		// "Deployment Hook" is the object_kind deployment: the event as
		// the log names a mapped one, without the status the body says.
		headerEvent: func(h http.Header) string {
			return strings.ReplaceAll(strings.ToLower(strings.TrimSuffix(strings.TrimSpace(h.Get("X-Gitlab-Event")), " Hook")), " ", "_")
		},
		parse:    func(in *input) (*parsed, error) { return parseGitLab(cfg, in) },
		stateful: true, keyed: true, // a merge is written with the first approval kept before it
	}
}

// gitlabDeliveryID is Idempotency-Key (GitLab 17.4+, the same on every
// retry), else X-Gitlab-Event-UUID.
func gitlabDeliveryID(h http.Header) string {
	return firstOf(h.Get("Idempotency-Key"), h.Get("X-Gitlab-Event-UUID"))
}

type glProject struct {
	Name              string `json:"name"`
	PathWithNamespace string `json:"path_with_namespace"`
	DefaultBranch     string `json:"default_branch"`
	WebURL            string `json:"web_url"`
}

type glEnvironment struct {
	Name           string `json:"name"`
	Action         string `json:"action"`
	DeploymentTier string `json:"deployment_tier"`
}

// glHead is what every event has. Each event's own struct embeds it, so a
// delivery is decoded once, and only with the fields its event has.
type glHead struct {
	ObjectKind string    `json:"object_kind"`
	Project    glProject `json:"project"`
}

type glDeploymentEvent struct {
	glHead
	Status          string `json:"status"`
	StatusChangedAt when   `json:"status_changed_at"`
	DeploymentID    text   `json:"deployment_id"`
	DeployableID    text   `json:"deployable_id"`
	DeployableURL   string `json:"deployable_url"`
	Environment     string `json:"environment"`
	EnvironmentTier string `json:"environment_tier"`
	CommitURL       string `json:"commit_url"`
	Ref             string `json:"ref"`
}

type glMergeRequestEvent struct {
	glHead
	// User is who acted: on an approval, the approver.
	User struct {
		ID text `json:"id"`
	} `json:"user"`
	ObjectAttributes glMergeRequest `json:"object_attributes"`
}

// glMergeRequest is a merge request as the webhook's object_attributes
// and the REST API both give it: the webhook's has url and action, the
// API's web_url and merged_at.
type glMergeRequest struct {
	IID      whole `json:"iid"`
	AuthorID text  `json:"author_id"`
	// Author is the REST API's (the webhook has author_id).
	Author struct {
		ID text `json:"id"`
	} `json:"author"`
	Action         string `json:"action"`
	State          string `json:"state"`
	Title          string `json:"title"`
	URL            string `json:"url"`
	WebURL         string `json:"web_url"`
	TargetBranch   string `json:"target_branch"`
	MergeCommitSHA string `json:"merge_commit_sha"`
	CreatedAt      when   `json:"created_at"`
	UpdatedAt      when   `json:"updated_at"`
	MergedAt       when   `json:"merged_at"`
}

// glDeployment is a deployment as the mapping reads it, filled from a
// deployment event or from the REST API's deployment.
type glDeployment struct {
	DeploymentID, DeployableID text
	DeployableURL              string
	Environment, Tier          string
	Status                     string
	// FinishedAt is when the status changed to the one it has.
	FinishedAt  when
	Commit, Ref string
}

// glNoteEvent is a comment (note) on a merge request, an issue, a commit
// or a snippet: on a merge request, by someone other than its author, it
// is a review.
type glNoteEvent struct {
	glHead
	ObjectAttributes struct {
		NoteableType string `json:"noteable_type"`
		AuthorID     text   `json:"author_id"`
		System       bool   `json:"system"`
		CreatedAt    when   `json:"created_at"`
	} `json:"object_attributes"`
	MergeRequest *glMergeRequest `json:"merge_request"`
}

type glPipelineEvent struct {
	glHead
	ObjectAttributes struct {
		SHA string `json:"sha"`
	} `json:"object_attributes"`
	Builds []struct {
		ID          text           `json:"id"`
		Status      string         `json:"status"`
		StartedAt   when           `json:"started_at"`
		FinishedAt  when           `json:"finished_at"`
		Environment *glEnvironment `json:"environment"`
	} `json:"builds"`
}

type glPushEvent struct {
	glHead
	Ref     string `json:"ref"`
	Commits []struct {
		ID        string `json:"id"`
		Message   string `json:"message"`
		Timestamp when   `json:"timestamp"`
		URL       string `json:"url"`
		Author    struct {
			Name string `json:"name"`
		} `json:"author"`
		Added    []string `json:"added"`
		Modified []string `json:"modified"`
		Removed  []string `json:"removed"`
	} `json:"commits"`
}

// gitlabTiers maps GitLab's deployment tiers to env_type.
var gitlabTiers = map[string]string{"production": domain.EnvProduction, "staging": domain.EnvStaging, "testing": domain.EnvTest, "development": domain.EnvDev}

func parseGitLab(cfg GitLab, in *input) (*parsed, error) {
	id := gitlabDeliveryID(in.header)
	// object_kind says which event it is: read it alone first (cheap next
	// to the event), then the event's own fields.
	var kind struct {
		ObjectKind string `json:"object_kind"`
	}
	if err := decode(in.body, &kind); err != nil {
		return nil, err
	}
	var p interface{ head() *glHead }
	switch kind.ObjectKind {
	case "deployment":
		p = &glDeploymentEvent{}
	case "merge_request":
		p = &glMergeRequestEvent{}
	case "note":
		p = &glNoteEvent{}
	case "pipeline":
		p = &glPipelineEvent{}
	case "push":
		p = &glPushEvent{}
	default:
		p = &glHead{}
	}
	if err := decode(in.body, p); err != nil {
		return nil, known(id, kind.ObjectKind, err)
	}
	h := p.head()
	event := h.ObjectKind
	if event == "" {
		return nil, rejectField("object_kind", "missing (not a GitLab webhook payload)")
	}
	proj := h.Project
	service := cfg.service(proj)
	switch p := p.(type) {
	case *glDeploymentEvent:
		event += "." + p.Status
		d := glDeployment{DeploymentID: p.DeploymentID, DeployableID: p.DeployableID, DeployableURL: p.DeployableURL,
			Environment: p.Environment, Tier: p.EnvironmentTier, Status: p.Status, FinishedAt: p.StatusChangedAt, Ref: p.Ref}
		if i := strings.LastIndex(p.CommitURL, "/commit/"); i >= 0 {
			d.Commit = p.CommitURL[i+len("/commit/"):]
		}
		return outcome(id, event)(gitlabDeployment(cfg, proj, &d))
	case *glMergeRequestEvent:
		mr := &p.ObjectAttributes
		event += "." + mr.Action
		if mr.Action == "approved" || mr.Action == "approval" {
			if cfg.ChangesFrom == "push" {
				return ignored(id, event, "changes come from pushes (connectors.gitlab.changes_from: push)"), nil
			}
			return gitlabApproval(id, event, proj.PathWithNamespace+"!"+string(mr.IID), proj, p)
		}
		return changeOutcome(id, event)(gitlabChange(cfg, proj, mr))
	case *glNoteEvent:
		return gitlabNote(cfg, id, event, proj, p)
	case *glPipelineEvent:
		var recs []domain.Record
		for _, b := range p.Builds {
			status, ok := map[string]string{"success": domain.StatusSuccess, "failed": domain.StatusFailure}[b.Status]
			if b.Environment == nil || b.Environment.Action != "start" || !ok {
				continue // not a deployment, or not a finished one
			}
			env := b.Environment.Name
			recs = append(recs, &domain.Deployment{
				Meta: domain.Meta{ID: "job/" + string(b.ID)}, Service: service, Environment: env, EnvType: cfg.envTypeOf(env, b.Environment.DeploymentTier),
				Status: status, StartedAt: b.StartedAt.Time, FinishedAt: b.FinishedAt.Time, Commit: p.ObjectAttributes.SHA,
				PipelineURL: strings.TrimSuffix(proj.WebURL, "/") + "/-/jobs/" + string(b.ID),
			})
		}
		if len(recs) == 0 {
			return ignored(id, event, "no finished job of the pipeline deploys to an environment"), nil
		}
		return mapped(id, event, recs...), nil
	case *glPushEvent:
		switch {
		case cfg.ChangesFrom != "push":
			return ignored(id, event, "changes come from merged merge requests (connectors.gitlab.changes_from)"), nil
		case p.Ref != "refs/heads/"+proj.DefaultBranch:
			return ignored(id, event, "a push to %s, not the default branch %s", p.Ref, proj.DefaultBranch), nil
		}
		// GitLab does not say when the push happened: it was at or after
		// its newest commit.
		var pushed when
		for _, c := range p.Commits {
			if c.Timestamp.After(pushed.Time) {
				pushed = c.Timestamp
			}
		}
		var recs []domain.Record
		for _, c := range p.Commits {
			recs = append(recs, commitChanges(c.ID, c.Message, c.Author.Name, c.URL, c.Timestamp, pushed, service,
				cfg.Paths[proj.PathWithNamespace], c.Added, c.Removed, c.Modified)...)
		}
		if len(recs) == 0 {
			return ignored(id, event, "no commits"), nil
		}
		return mapped(id, event, recs...), nil
	}
	return ignored(id, event, "GitLab %s events are not mapped", h.ObjectKind), nil
}

func (h *glHead) head() *glHead { return h }

// service is the service of a project.
func (cfg GitLab) service(proj glProject) string {
	return serviceOf(cfg.Services, lastSegment(proj.PathWithNamespace), proj.PathWithNamespace, lastSegment(proj.PathWithNamespace))
}

// envTypeOf is the env_type of an environment: its GitLab deployment tier
// when it has one, else by its name.
func (cfg GitLab) envTypeOf(env, tier string) string {
	if t := gitlabTiers[tier]; t != "" {
		return t
	}
	return cfg.envType(env)
}

// gitlabDeployment maps a deployment of proj: success and failed finish
// one; the other statuses are steps on the way. A deployment and the
// pipeline job behind it are one record, keyed by the job. The webhook and
// the collector both map through it.
func gitlabDeployment(cfg GitLab, proj glProject, d *glDeployment) (domain.Record, string, error) {
	status, ok := map[string]string{"success": domain.StatusSuccess, "failed": domain.StatusFailure}[d.Status]
	if !ok {
		return nil, fmt.Sprintf("deployment status %q is not finished", d.Status), nil
	}
	recID := "job/" + string(d.DeployableID)
	if d.DeployableID == "" {
		if d.DeploymentID == "" {
			return nil, "", rejectField("deployment_id", "missing")
		}
		recID = "deployment/" + string(d.DeploymentID)
	}
	rec := &domain.Deployment{
		Meta: domain.Meta{ID: recID}, Service: cfg.service(proj), Environment: d.Environment, EnvType: cfg.envTypeOf(d.Environment, d.Tier),
		Status: status, FinishedAt: d.FinishedAt.Time, PipelineURL: d.DeployableURL, Commit: d.Commit,
	}
	if d.Ref != "" && d.Ref != proj.DefaultBranch {
		rec.Version = d.Ref
	}
	return rec, "", nil
}

// gitlabChange maps a merge request of proj: a merged one into the
// default branch is a change. The webhook and the collector both map
// through it.
func gitlabChange(cfg GitLab, proj glProject, mr *glMergeRequest) (domain.Record, string, error) {
	switch {
	case cfg.ChangesFrom == "push":
		return nil, "changes come from pushes (connectors.gitlab.changes_from: push)", nil
	case mr.Action != "merge" && mr.State != "merged":
		return nil, "only a merged merge request is a change", nil
	case proj.DefaultBranch != "" && mr.TargetBranch != proj.DefaultBranch:
		return nil, fmt.Sprintf("merged into %s, not the default branch %s", mr.TargetBranch, proj.DefaultBranch), nil
	}
	// GitLab's webhook payload has no merge time; the merge is its last
	// update.
	merged := firstTime(mr.MergedAt, mr.UpdatedAt)
	if merged.IsZero() {
		return nil, "", rejectField("object_attributes.updated_at", "missing on a merged merge request")
	}
	return &domain.Change{
		Meta: domain.Meta{ID: proj.PathWithNamespace + "!" + string(mr.IID)}, Service: cfg.service(proj),
		MergedAt: merged.Time, OpenedAt: mr.CreatedAt.Time, Title: mr.Title, Commit: mr.MergeCommitSHA, URL: firstOf(mr.URL, mr.WebURL),
	}, "", nil
}

// gitlabApproval maps an approval of a merge request by someone other than
// its author: its time (the merge request's last update, which the
// approval is) is the change's first review when it is the earliest.
func gitlabApproval(id, event, changeID string, proj glProject, p *glMergeRequestEvent) (*parsed, error) {
	mr := p.ObjectAttributes
	return gitlabReview(id, event, changeID, proj, &mr, p.User.ID, mr.UpdatedAt, "an approval", "object_attributes.updated_at")
}

// gitlabReview maps a review (what) of merge request mr by the user by at
// at (the field atField): the change's first review when it is the
// earliest, unless by the merge request's author or of a merge request
// into another branch than the default.
func gitlabReview(id, event, changeID string, proj glProject, mr *glMergeRequest, by text, at when, what, atField string) (*parsed, error) {
	switch {
	case by != "" && by == mr.AuthorID:
		return ignored(id, event, "%s by the merge request's author", what), nil
	case proj.DefaultBranch != "" && mr.TargetBranch != proj.DefaultBranch:
		return ignored(id, event, "a merge request into %s, not the default branch %s", mr.TargetBranch, proj.DefaultBranch), nil
	case at.IsZero():
		return nil, known(id, event, rejectField(atField, "missing on %s", what))
	}
	return firstReview(id, event, changeID, at.Time), nil
}

// gitlabNote maps a comment on a merge request (Note Hook) by someone
// other than its author: its time is the change's first review when it is
// the earliest. System notes are not delivered as comments; an approval
// comes as a merge request event (gitlabApproval).
func gitlabNote(cfg GitLab, id, event string, proj glProject, p *glNoteEvent) (*parsed, error) {
	note, mr := p.ObjectAttributes, p.MergeRequest
	switch {
	case note.NoteableType != "MergeRequest":
		return ignored(id, event, "a comment with noteable_type %q, not MergeRequest", note.NoteableType), nil
	case cfg.ChangesFrom == "push":
		return ignored(id, event, "changes come from pushes (connectors.gitlab.changes_from: push)"), nil
	case note.System:
		return ignored(id, event, "a system note is no review"), nil
	case mr == nil:
		return nil, known(id, event, rejectField("merge_request", "missing on a comment on a merge request"))
	case mr.IID == "":
		return nil, known(id, event, rejectField("merge_request.iid", "missing"))
	}
	return gitlabReview(id, event, proj.PathWithNamespace+"!"+string(mr.IID), proj, mr, note.AuthorID, note.CreatedAt, "a comment", "object_attributes.created_at")
}
