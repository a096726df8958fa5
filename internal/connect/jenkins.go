package connect

import (
	"time"

	"github.com/candor/candor/internal/domain"
)

// Jenkins: the Notification plugin's JSON of a finished build (phase
// COMPLETED or FINALIZED; both give the same record). A build is a
// deployment when its job is a configured deploy job, or when it has the
// environment parameter (ENVIRONMENT by default). The plugin cannot set
// headers, but sends the URL's user information as HTTP Basic: the
// endpoint https://candor:TOKEN@host/webhooks/jenkins carries an API
// token. It sends no delivery id: the payload's hash stands in.
func jenkinsConnector(cfg Jenkins) connector {
	return connector{
		name:   "jenkins",
		scheme: schemeBearer,
		parse:  func(in *input) (*parsed, error) { return parseJenkins(cfg, in) },
	}
}

type jenkinsJob struct {
	Name  string `json:"name"`
	Build struct {
		FullURL    string            `json:"full_url"`
		Number     whole             `json:"number"`
		Phase      string            `json:"phase"`
		Status     string            `json:"status"`
		Timestamp  when              `json:"timestamp"`
		Duration   int64             `json:"duration"`
		Parameters map[string]string `json:"parameters"`
		SCM        struct {
			Commit string `json:"commit"`
		} `json:"scm"`
	} `json:"build"`
}

func parseJenkins(cfg Jenkins, in *input) (_ *parsed, err error) {
	var j jenkinsJob
	// A refusal keeps the phase where it was read.
	defer func() { err = known("", prefixed("build.", j.Build.Phase), err) }()
	if err := decode(in.body, &j); err != nil {
		return nil, err
	}
	b := j.Build
	event := "build." + b.Phase
	switch {
	case j.Name == "" || b.Number == "":
		return nil, rejectMissing("name and build.number: missing (not a Jenkins notification)", "name", j.Name, "build.number", string(b.Number))
	case b.Phase != "COMPLETED" && b.Phase != "FINALIZED":
		return ignored("", event, "a build that has not finished (phase %s)", b.Phase), nil
	}
	target, listed := cfg.DeployJobs[j.Name]
	envParam := firstOf(cfg.EnvironmentParameter, "ENVIRONMENT")
	env := firstOf(target.Environment, b.Parameters[envParam])
	if !listed && env == "" {
		return ignored("", event, "job %s is not a deploy job (connectors.jenkins.deploy_jobs) and has no %s parameter", j.Name, envParam), nil
	}
	status, ok := map[string]string{"SUCCESS": domain.StatusSuccess, "FAILURE": domain.StatusFailure, "UNSTABLE": domain.StatusFailure}[b.Status]
	if !ok {
		return ignored("", event, "a build that ended %s deployed nothing", b.Status), nil
	}
	if b.Timestamp.IsZero() {
		return nil, rejectField("build.timestamp", "missing")
	}
	service := firstOf(target.Service, b.Parameters[firstOf(cfg.ServiceParameter, "SERVICE")])
	return mapped("", event, &domain.Deployment{
		Meta:    domain.Meta{ID: j.Name + "#" + string(b.Number)},
		Service: serviceOf(cfg.Services, firstOf(service, j.Name), service, j.Name), Environment: env, EnvType: cfg.envType(env),
		Status: status, StartedAt: b.Timestamp.Time, FinishedAt: b.Timestamp.Add(time.Duration(b.Duration) * time.Millisecond),
		Commit: b.SCM.Commit, PipelineURL: b.FullURL,
	}), nil
}
