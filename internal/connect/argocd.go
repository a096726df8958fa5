package connect

import (
	"github.com/candor/candor/internal/domain"
)

// ArgoCDNotifications is what users paste into the argocd-notifications-cm
// ConfigMap (docs/connectors/argocd.md shows it): the webhook service with
// its API token, the template whose body Candor reads, and the trigger
// that sends it once per finished sync operation. Argo CD has no payload
// of its own: the body is what this template renders, so the template
// and the parser below are one contract.
const ArgoCDNotifications = `  service.webhook.candor: |
    url: https://candor.example.com/webhooks/argocd
    headers:
      - name: Content-Type
        value: application/json
      - name: Authorization
        value: Bearer $candor-token
  template.candor-deployment: |
    webhook:
      candor:
        method: POST
        body: |
          {
            "app": "{{.app.metadata.name}}",
            "project": "{{.app.spec.project}}",
            "service": "{{with .app.metadata.labels}}{{index . "candor.io/service"}}{{end}}",
            "environment": "{{with .app.metadata.labels}}{{index . "candor.io/environment"}}{{end}}",
            "destination": {
              "name": "{{.app.spec.destination.name}}",
              "namespace": "{{.app.spec.destination.namespace}}"
            },
            "phase": "{{.app.status.operationState.phase}}",
            "startedAt": "{{.app.status.operationState.startedAt}}",
            "finishedAt": "{{.app.status.operationState.finishedAt}}",
            "revision": "{{.app.status.operationState.syncResult.revision}}",
            "url": "{{.context.argocdUrl}}/applications/{{.app.metadata.name}}"
          }
  trigger.on-candor-deployment: |
    - description: A sync operation finished
      oncePer: app.status.operationState?.startedAt
      send:
        - candor-deployment
      when: app.status.operationState != nil and app.status.operationState.phase in ['Succeeded', 'Failed', 'Error']
`

// Argo CD: the body of the candor-deployment template. A sync operation
// that Succeeded is a successful deployment, one that Failed or Errored a
// failed one, keyed by the application and the operation's start. The
// service is the candor.io/service label, else the application's name;
// the environment the candor.io/environment label, else the destination
// cluster's name, else its namespace. Verified with an API token.
func argocdConnector(cfg ArgoCD) connector {
	return connector{
		name:   "argocd",
		scheme: schemeBearer,
		parse:  func(in *input) (*parsed, error) { return parseArgoCD(cfg, in) },
	}
}

type argoBody struct {
	App         string `json:"app"`
	Service     string `json:"service"`
	Environment string `json:"environment"`
	Destination struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"destination"`
	Phase      string `json:"phase"`
	StartedAt  when   `json:"startedAt"`
	FinishedAt when   `json:"finishedAt"`
	Revision   string `json:"revision"`
	URL        string `json:"url"`
}

func parseArgoCD(cfg ArgoCD, in *input) (_ *parsed, err error) {
	var b argoBody
	// A refusal keeps the phase where it was read.
	defer func() { err = known("", prefixed("sync.", b.Phase), err) }()
	if err := decode(in.body, &b); err != nil {
		return nil, err
	}
	app := firstOf(b.App)
	if app == "" || b.StartedAt.IsZero() {
		startedAt := ""
		if !b.StartedAt.IsZero() {
			startedAt = "set"
		}
		return nil, rejectMissing("app and startedAt: missing (not the body of Candor's Argo CD template)", "app", app, "startedAt", startedAt)
	}
	// The operation is the record; each of its phases is a delivery.
	rec := app + "@" + b.StartedAt.Format("2006-01-02T15:04:05Z07:00")
	id := rec + "/" + b.Phase
	event := "sync." + b.Phase
	status, ok := map[string]string{"Succeeded": domain.StatusSuccess, "Failed": domain.StatusFailure, "Error": domain.StatusFailure}[b.Phase]
	if !ok {
		return ignored(id, event, "a sync operation %q has not finished", b.Phase), nil
	}
	env := firstOf(b.Environment, b.Destination.Name, b.Destination.Namespace)
	if env == "" {
		return nil, known(id, event, rejectField("environment", "none (set the candor.io/environment label, or a destination name or namespace)"))
	}
	service := firstOf(b.Service)
	return mapped(id, event, &domain.Deployment{
		Meta:    domain.Meta{ID: rec},
		Service: serviceOf(cfg.Services, firstOf(service, app), service, app), Environment: env, EnvType: cfg.envType(env),
		Status: status, StartedAt: b.StartedAt.Time, FinishedAt: firstTime(b.FinishedAt, b.StartedAt).Time,
		Commit: firstOf(b.Revision), PipelineURL: firstOf(b.URL),
	}), nil
}
