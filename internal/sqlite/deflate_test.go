package sqlite

import (
	"bytes"
	"runtime"
	"testing"
)

// A compressor is kept across garbage collections: deflating a payload
// allocates its output, not a new megabyte of compressor state.
func TestDeflateKeepsCompressors(t *testing.T) {
	payload := bytes.Repeat([]byte(`{"repository":{"full_name":"acme/api","url":"https://api.github.com/repos/acme/api"}},`), 300)
	deflate(payload)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range 5 {
		runtime.GC()
		deflate(payload)
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / 5; per > 64<<10 {
		t.Errorf("deflating a payload after a collection allocated %d bytes: the compressor was made again", per)
	}
	got, err := inflate(deflate(payload))
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("inflate(deflate(p)) = %d bytes, %v", len(got), err)
	}
}
