package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An import of many rows writes the dataset image and the dataset's state
// into the data directory; `candor serve` then starts from the state, and
// /healthz says so (image sequence, used at start, the state used). With
// the image off nothing is written.
func TestImportWritesImageServeStartsFromIt(t *testing.T) {
	old := imageAfterRows
	imageAfterRows = 2
	t.Cleanup(func() { imageAfterRows = old })
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	file := filepath.Join(dir, "d.ndjson")
	second := strings.Replace(goodDep, `"id":"d1"`, `"id":"d2"`, 1)
	if second == goodDep {
		t.Fatalf("test data: %s has no id d1", goodDep)
	}
	os.WriteFile(file, []byte(goodDep+"\n"+second+"\n"), 0o644)

	off := t.TempDir()
	env, _, errb := testEnv(map[string]string{"CANDOR_IMAGE": "off"})
	if code := Run(t.Context(), env, []string{"import", "--data", off, file}); code != 0 {
		t.Fatalf("import with the image off: exit %d\n%s", code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(off, "candor.image")); !os.IsNotExist(err) {
		t.Fatalf("image off, yet an image: %v", err)
	}

	mustRun(t, "import", "--data", data, file)
	for _, f := range []string{"candor.image", "candor.dataset"} {
		if _, err := os.Stat(filepath.Join(data, f)); err != nil {
			t.Fatalf("no %s after the import: %v", f, err)
		}
	}
	// The image's state is /healthz's detail, for sources:read.
	monitor := cliToken(t, data, "monitor", "engineering")
	p := start(t, "serve", "--data", data, "--addr", "127.0.0.1:0")
	url := p.waitFor(t, "the listening log line", p.listeningURL)
	p.waitFor(t, "/readyz to answer 200", func() (string, bool) {
		code, _ := get(t, url+"/readyz", "")
		return "", code == 200
	})
	code, body := get(t, url+"/healthz", monitor)
	var h struct {
		Engine struct {
			Published int64 `json:"published_seq"`
			Image     *struct {
				Seq         int64 `json:"seq"`
				Used        bool  `json:"used_at_start"`
				DatasetUsed bool  `json:"dataset_used_at_start"`
			} `json:"image"`
		} `json:"engine"`
	}
	if err := json.Unmarshal(body, &h); code != 200 || err != nil {
		t.Fatalf("GET /healthz = %d %s (%v)", code, body, err)
	}
	if im := h.Engine.Image; im == nil || !im.Used || !im.DatasetUsed || im.Seq == 0 || im.Seq > h.Engine.Published {
		t.Fatalf("/healthz does not show a start from the image: %s", body)
	}
}
