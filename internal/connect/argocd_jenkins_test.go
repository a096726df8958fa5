package connect

import (
	"bytes"
	"net/http"
	"os"
	"strings"
	"testing"
	"text/template"

	"github.com/goccy/go-yaml"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

// argoBody renders the shipped template, as Argo CD's notification
// controller does (Go templates), for an Application.
func renderArgo(t *testing.T, app map[string]any) []byte {
	t.Helper()
	var cm map[string]string
	if err := yaml.Unmarshal([]byte(ArgoCDNotifications), &cm); err != nil {
		t.Fatalf("the shipped ConfigMap entries are not YAML: %v", err)
	}
	var tpl struct {
		Webhook map[string]struct {
			Method string `yaml:"method"`
			Body   string `yaml:"body"`
		} `yaml:"webhook"`
	}
	if err := yaml.Unmarshal([]byte(cm["template.candor-deployment"]), &tpl); err != nil {
		t.Fatalf("the shipped template is not YAML: %v", err)
	}
	hook := tpl.Webhook["candor"]
	if hook.Method != "POST" || !strings.Contains(cm["service.webhook.candor"], "/webhooks/argocd") || !strings.Contains(cm["trigger.on-candor-deployment"], "candor-deployment") {
		t.Fatalf("the shipped ConfigMap does not wire service, template and trigger: %v", cm)
	}
	tmpl, err := template.New("body").Parse(hook.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, map[string]any{"app": app, "context": map[string]any{"argocdUrl": "https://argocd.example.com"}}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestArgoCDToken(t *testing.T) {
	runBearerChecks(t, "argocd", renderArgo(t, mustDecode(t, fixture(t, "argocd/derived.application.json"))))
}

func TestArgoCDTemplateBodies(t *testing.T) {
	app := mustDecode(t, fixture(t, "argocd/derived.application.json"))
	e := newEnv(t, Config{})
	e.post("argocd", renderArgo(t, app), e.bearer()...).want(t, http.StatusOK, store.DeliveryAccepted)
	sameRecord(t, e.record(domain.KindDeployment, "argocd", "payments-prod@2024-03-01T10:15:02Z"), &domain.Deployment{
		Meta: domain.Meta{ID: "payments-prod@2024-03-01T10:15:02Z", Source: "argocd"}, Service: "payments", Environment: "production",
		Status: "success", StartedAt: ts("2024-03-01T10:15:02Z"), FinishedAt: ts("2024-03-01T10:16:40Z"),
		Commit: "8a4a2b4e0c4d5d1f4b3c0d9e5f6a7b8c9d0e1f2a", PipelineURL: "https://argocd.example.com/applications/payments-prod",
	})
	// Without Candor's labels (Go templates render a missing label as
	// "<no value>"): the application's name and the destination cluster.
	delete(obj(app, "metadata"), "labels")
	op := obj(app, "status", "operationState")
	op["phase"], op["startedAt"], op["finishedAt"] = "Failed", "2024-03-02T09:00:00Z", "2024-03-02T09:03:00Z"
	e = newEnv(t, Config{ArgoCD: ArgoCD{Deploys: Deploys{Services: map[string]string{"payments-prod": "pay"}}}})
	e.post("argocd", renderArgo(t, app), e.bearer()...).want(t, http.StatusOK, store.DeliveryAccepted)
	d := e.record(domain.KindDeployment, "argocd", "payments-prod@2024-03-02T09:00:00Z").(*domain.Deployment)
	if d.Service != "pay" || d.Environment != "prod-eu-1" || d.Status != domain.StatusFailure {
		t.Fatalf("deployment %+v", d)
	}
	labels := obj(mustDecode(t, fixture(t, "argocd/derived.application.json")), "metadata")
	labels["labels"] = map[string]any{"team": "x"}
	body := renderArgo(t, map[string]any{"metadata": labels, "spec": app["spec"], "status": app["status"]})
	if !bytes.Contains(body, []byte(`"service": "<no value>"`)) {
		t.Fatalf("a missing label rendered as %s", body)
	}
	e = newEnv(t, Config{})
	e.post("argocd", body, e.bearer()...).want(t, http.StatusOK, store.DeliveryAccepted)
	if d := e.record(domain.KindDeployment, "argocd", "payments-prod@2024-03-02T09:00:00Z").(*domain.Deployment); d.Service != "payments-prod" {
		t.Fatalf("deployment %+v, want the application's name as its service", d)
	}

	// The docs show the ConfigMap entries as shipped.
	doc, err := os.ReadFile("../../docs/connectors/argocd.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), ArgoCDNotifications) {
		t.Fatal("docs/connectors/argocd.md does not show connect.ArgoCDNotifications as it is")
	}
}

func TestArgoCDRedeliveryUnmappedMalformed(t *testing.T) {
	app := mustDecode(t, fixture(t, "argocd/derived.application.json"))
	e := newEnv(t, Config{})
	e.redelivery("argocd", renderArgo(t, app), e.bearer()...)
	obj(app, "status", "operationState")["phase"] = "Running"
	e.post("argocd", renderArgo(t, app), e.bearer()...).want(t, http.StatusOK, store.DeliveryIgnored)
	e = newEnv(t, Config{})
	e.malformed("argocd", []byte(`{"app": "x"}`), "startedAt", e.bearer()...)
	// Argo CD's own catalog is templates, not a body.
	e.malformed("argocd", fixture(t, "argocd/notifications_catalog.install.yaml"), "not valid JSON", e.bearer()...)
}

func TestJenkinsToken(t *testing.T) {
	runBearerChecks(t, "jenkins", fixture(t, "jenkins/derived.notification.finalized.json"))
}

func TestJenkinsBuilds(t *testing.T) {
	e := newEnv(t, Config{})
	fin := fixture(t, "jenkins/derived.notification.finalized.json")
	e.post("jenkins", fin, e.bearer()...).want(t, http.StatusOK, store.DeliveryAccepted)
	want := &domain.Deployment{
		Meta: domain.Meta{ID: "deploy-payments#42", Source: "jenkins"}, Service: "payments", Environment: "production",
		Status: "success", StartedAt: ts("2024-03-01T10:00:00.25Z"), FinishedAt: ts("2024-03-01T10:01:35.25Z"),
		Commit: "9fceb02d0ae598e95dc970b74767f19372d61af8", PipelineURL: "https://jenkins.example.com/job/deploy-payments/42/",
	}
	sameRecord(t, e.record(domain.KindDeployment, "jenkins", want.ID), want)
	// The COMPLETED notification before it is the same record.
	completed := edit(t, fin, func(m map[string]any) { obj(m, "build")["phase"] = "COMPLETED" })
	e.post("jenkins", completed, e.bearer()...).want(t, http.StatusOK, store.DeliveryAccepted)
	if n := e.recordCount(); n != 1 {
		t.Fatalf("%d records for one build", n)
	}
	unstable := edit(t, fin, func(m map[string]any) { obj(m, "build")["status"] = "UNSTABLE"; obj(m, "build")["number"] = 43 })
	e.post("jenkins", unstable, e.bearer()...).want(t, http.StatusOK, store.DeliveryAccepted)
	if d := e.record(domain.KindDeployment, "jenkins", "deploy-payments#43").(*domain.Deployment); d.Status != domain.StatusFailure {
		t.Fatalf("unstable build %+v, want a failure", d)
	}
	// A configured deploy job needs no parameters; an older plugin sends
	// the time as milliseconds.
	e = newEnv(t, Config{Jenkins: Jenkins{DeployJobs: map[string]Target{"nightly-tests": {Service: "qa", Environment: "staging"}}}})
	legacy := edit(t, fixture(t, "jenkins/derived.notification.started-legacy.json"), func(m map[string]any) {
		b := obj(m, "build")
		b["phase"], b["status"], b["duration"] = "FINALIZED", "SUCCESS", 60000
	})
	e.post("jenkins", legacy, e.bearer()...).want(t, http.StatusOK, store.DeliveryAccepted)
	d := e.record(domain.KindDeployment, "jenkins", "nightly-tests#7").(*domain.Deployment)
	if d.Service != "qa" || d.Environment != "staging" || !d.FinishedAt.Equal(ts("2024-03-01T08:01:00Z")) {
		t.Fatalf("deployment %+v", d)
	}
}

func TestJenkinsRedeliveryUnmappedMalformed(t *testing.T) {
	e := newEnv(t, Config{})
	e.redelivery("jenkins", fixture(t, "jenkins/derived.notification.finalized.json"), e.bearer()...)
	e.post("jenkins", fixture(t, "jenkins/derived.notification.started-legacy.json"), e.bearer()...).want(t, http.StatusOK, store.DeliveryIgnored)
	aborted := edit(t, fixture(t, "jenkins/derived.notification.finalized.json"), func(m map[string]any) { obj(m, "build")["status"] = "ABORTED" })
	e.post("jenkins", aborted, e.bearer()...).want(t, http.StatusOK, store.DeliveryIgnored)
	noParam := edit(t, fixture(t, "jenkins/derived.notification.finalized.json"), func(m map[string]any) { obj(m, "build")["parameters"] = map[string]any{} })
	e.post("jenkins", noParam, e.bearer()...).want(t, http.StatusOK, store.DeliveryIgnored)
	e = newEnv(t, Config{})
	e.malformed("jenkins", []byte(`{"build": {"phase": "FINALIZED"}}`), "build.number", e.bearer()...)
}
