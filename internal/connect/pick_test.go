package connect

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// pickTest has what pick must decode as encoding/json does: an embedded
// head, members matched case-insensitively, nested structs, pointers,
// slices, maps, raw messages and the connectors' own text and when.
type pickTest struct {
	ghHead
	N     int                `json:"n"`
	F     float64            `json:"f"`
	B     *bool              `json:"b"`
	T     text               `json:"t"`
	W     when               `json:"w"`
	Sub   struct{ X, Y int } `json:"sub"`
	Ptr   *pdRef             `json:"ptr"`
	List  []ghCommit         `json:"list"`
	M     map[string]string  `json:"m"`
	Raw   json.RawMessage    `json:"raw"`
	Any   any                `json:"any"`
	Skip  string             `json:"-"`
	Plain string
}

// pickTypes are the structs decode reads payloads into.
var pickTypes = []func() any{
	func() any { return &pickTest{} },
	func() any { return &ghPullRequestEvent{} }, func() any { return &ghDeploymentEvent{} }, func() any { return &ghPushEvent{} },
	func() any { return &ghWorkflowRunEvent{} }, func() any { return &ghReleaseEvent{} }, func() any { return &ghHead{} },
	func() any { return &glDeploymentEvent{} }, func() any { return &glMergeRequestEvent{} }, func() any { return &glPipelineEvent{} },
	func() any { return &glPushEvent{} }, func() any { return &pdEvent{} }, func() any { return &jiraEvent{} },
	func() any { return &amNotification{} }, func() any { return &argoBody{} }, func() any { return &cloudEvent{} },
	func() any { return &cdEvent{} }, func() any { return &jenkinsJob{} }, func() any { return &ogEvent{} },
	func() any { return &stripeEvent{} }, func() any { return &stripeSubscription{} }, func() any { return &zdBody{} },
	func() any { return &ghPull{} }, func() any { return &glDeploymentObject{} }, func() any { return &pdIncident{} }, func() any { return &jiraIssue{} },
}

// checkPick decodes body into each type both ways: when pick takes it, the
// value is encoding/json's, and encoding/json takes it too.
func checkPick(t *testing.T, body []byte, which int) {
	mk := pickTypes[which%len(pickTypes)]
	fast := mk()
	if !pick(body, fast) {
		return
	}
	slow := mk()
	if err := json.Unmarshal(body, slow); err != nil {
		t.Fatalf("pick took %q into %T, encoding/json refused it: %v", clip(string(body)), fast, err)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("%T from %q:\npick         %+v\nencoding/json %+v", fast, clip(string(body)), fast, slow)
	}
}

func FuzzPick(f *testing.F) {
	// Each payload with the type of its source's main event (a few
	// dozen seeds: the baseline must be quick for .ci/run's two seconds).
	main := map[string]int{"github": 1, "gitlab": 8, "pagerduty": 11, "jira": 12, "alertmanager": 13, "argocd": 14,
		"cdevents": 15, "jenkins": 17, "opsgenie": 18, "stripe": 19, "zendesk": 21}
	paths, _ := filepath.Glob("testdata/*/*.json")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, main[filepath.Base(filepath.Dir(p))])
	}
	for _, s := range []string{
		`{"action":"closed","ACTION":"opened","Repository":{"name":"x","NAME":"y"},"n":1,"n":2}`,
		`{"sub":{"X":1},"sub":{"Y":2},"sub":null,"ptr":{"id":"a"},"ptr":null,"b":true,"t":12.5,"w":"2026-03-01 10:00:00 UTC"}`,
		`{"list":[{"id":"a","distinct":false}],"list":[{"message":"m"}],"m":{"a":"b"},"m":{"c":"d"},"raw":[1,{"x":2}],"any":{"k":[null]}}`,
		`{"plain":"lower","Plain":"upper","Skip":"no","-":"dash"}`,
		`{"n":1.5}`, `{"sub":"str"}`, `{"t":{}}`, `{"w":"soon"}`, `[]`, `null`, `{"n":1} x`, `{"a":"\u00e9","é":1}`, " {\"n\" : 3 } \n",
		`{"flag":true,"flag":null}`, `{"flag":"yes"}`, `{"plain":"a\"b"}`, "{\"plain\":\"\xff\"}", `{"plain":"é","t":"x\u0041"}`, `{"plain":12}`,
		`{"action":"caf\u00e9","repository":{"full_name":"é/x","name":null}}`, `{"w":null,"t":null,"plain":null}`,
		`{"n":1,}`, `{"x":[1,2,]}`, `{"x":"\ud800"}`, `{"x":"` + "\x01" + `"}`, `{"action":"\u0063losed"}`,
	} {
		for i := range pickTypes[:3] {
			f.Add([]byte(s), i)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, which int) {
		if which < 0 {
			which = -which
		}
		checkPick(t, body, which)
	})
}

// pick takes the payloads it is there for (the fast path is the path).
func TestPickTakesPayloads(t *testing.T) {
	if planOf(reflect.TypeFor[pickTest]()) == nil {
		t.Fatal("pick cannot decode its own test type")
	}
	for _, c := range []struct {
		file string
		v    any
	}{
		{"github/derived.pull_request.closed.merged.payload.json", &ghPullRequestEvent{}},
		{"github/deployment_status.payload.json", &ghDeploymentEvent{}},
		{"gitlab/go-scm.pull_request_merge.json", &glMergeRequestEvent{}},
		{"pagerduty/zulip.triggered_v3.json", &pdEvent{}},
		{"jira/webhook-issue-updated-resolved.json", &jiraEvent{}},
	} {
		if !pick(fixture(t, c.file), c.v) {
			t.Errorf("pick gave up on %s", c.file)
		}
	}
	var pr ghPullRequestEvent
	pick(fixture(t, "github/derived.pull_request.closed.merged.payload.json"), &pr)
	if pr.Action != "closed" || pr.Repository.FullName != "Codertocat/Hello-World" || !pr.PullRequest.Merged || !pr.PullRequest.MergedAt.Equal(time.Date(2019, 5, 15, 15, 21, 18, 0, time.UTC)) {
		t.Errorf("picked %+v", pr)
	}
}
