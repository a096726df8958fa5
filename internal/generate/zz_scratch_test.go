package generate

import (
	"bufio"
	"os"
	"strconv"
	"testing"
	"time"
)

func TestScratchDump(t *testing.T) {
	sc := os.Getenv("GEN_SCALE")
	if sc == "" {
		t.Skip()
	}
	scale, _ := strconv.ParseFloat(sc, 64)
	f, _ := os.Create("/tmp/gen/out.ndjson")
	defer f.Close()
	w := bufio.NewWriter(f)
	start := time.Now()
	st, err := Write(w, Options{Seed: 1, Scale: scale, End: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)})
	w.Flush()
	el := time.Since(start)
	t.Logf("err=%v records=%d in %v (%.0f rec/s)", err, st.Records, el, float64(st.Records)/el.Seconds())
	for _, k := range kindNames {
		t.Logf("%-14s %d", k, st.ByKind[k])
	}
}
