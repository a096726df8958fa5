package web

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/report"
)

// Every link a digest holds opens a page of this server, and a link to a
// part of a page names an element the page has: the escalations link had
// been "/escalations", a 404 in every digest.
func TestDigestLinksOpen(t *testing.T) {
	e := newEnv(t, 0)
	var d *report.Digest
	if err := e.srv.Engine.Read(context.Background(), func(ds *metrics.Dataset) error {
		d = report.BuildDigest(e.srv.Catalog, ds, nil, report.DigestOptions{AsOf: time.Now().UTC().Truncate(time.Second), BaseURL: e.url + "/"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	links := regexp.MustCompile(`"(`+regexp.QuoteMeta(e.url)+`[^"]*)"`).FindAllStringSubmatch(string(b), -1)
	if len(links) < 3 || d.EscalationsURL == "" {
		t.Fatalf("the digest holds %d links (escalations %q)", len(links), d.EscalationsURL)
	}
	for _, l := range links {
		var u string
		if err := json.Unmarshal([]byte(`"`+l[1]+`"`), &u); err != nil {
			t.Fatal(err)
		}
		path, frag, _ := strings.Cut(strings.TrimPrefix(u, e.url), "#")
		page := e.get200(t, path)
		if frag != "" && !strings.Contains(page, `id="`+frag+`"`) {
			t.Errorf("%s: the page has no element %q", u, frag)
		}
	}
}
