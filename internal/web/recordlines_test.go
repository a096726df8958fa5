package web

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// postChunked posts body to POST /api/v1/records without a Content-Length
// (chunked), as a client streaming a file does, so that only reading the
// body can find its size.
func (e *env) postChunked(t *testing.T, url, body string, headers map[string]string) (int, string) {
	t.Helper()
	// A reader that is not a strings.Reader leaves the length unknown.
	req, err := http.NewRequest("POST", e.url+url, io.MultiReader(strings.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if req.ContentLength != 0 {
		t.Fatalf("the request has a length: %d", req.ContentLength)
	}
	status, b, _ := send(t, http.DefaultClient, req)
	return status, string(b)
}

// A line longer than the import reads (16 MiB) is refused as any record
// over 1 MiB is: an errors[] entry naming its line, the rest of the body
// checked as ever; and a body over max_body_bytes is a 413 however few its
// lines. A 17 MiB line had been a 400 of another shape ("body:1: line
// longer than 16777216 bytes", no errors[]), and a 34 MB body of one line
// a 400 where a 35 MB body of short lines was a 413.
func TestPostRecordsLongLine(t *testing.T) {
	e := newEnv(t, 20<<20)
	before := e.counts(t)
	seq := e.lastSeq(t)
	ok := strings.ReplaceAll(d5, "d5", "d9")
	long := `{"kind":"deployment","id":"big","version":"` + strings.Repeat("x", 17<<20) + `"}`
	bad := `{"kind":"deployment","id":"d10","service":"api"}`
	body := ok + "\n" + long + "\n" + bad + "\n"
	reason := fmt.Sprintf("the line is %d bytes; a record is at most 1 MiB (1048576 bytes)", len(long))
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: body, status: 400, fields: map[string]string{
		"code":            "invalid",
		"error":           "2 invalid records; nothing was stored: line 2: " + reason,
		"errors.0.line":   "2",
		"errors.0.field":  "<nil>",
		"errors.0.reason": reason,
		"errors.1.line":   "3",
		"errors.1.field":  "environment",
	}})
	if got := e.lastSeq(t); got != seq || fmt.Sprint(e.counts(t)) != fmt.Sprint(before) {
		t.Errorf("a body with a long line changed the store")
	}
	// Skipping, the valid line lands and the long one is listed.
	e.run(t, scenario{method: "POST", url: "/api/v1/records?skip_invalid=true", body: body, status: 200, fields: map[string]string{
		"inserted": "1", "invalid": "2", "skipped.0.line": "2", "skipped.0.reason": reason,
	}})
	seq = e.lastSeq(t)

	// One line longer than the body may be: 413, with or without a length.
	huge := `{"kind":"deployment","id":"huge","version":"` + strings.Repeat("x", 21<<20) + `"}` + "\n"
	e.run(t, scenario{method: "POST", url: "/api/v1/records", body: huge, status: 413,
		fields: map[string]string{"code": "too_large"}, contains: []string{"20971520 bytes"}})
	if status, b := e.postChunked(t, "/api/v1/records", huge, nil); status != 413 || !strings.Contains(b, "too_large") {
		t.Errorf("a one-line body over the bound, chunked = %d %s, want 413", status, clip([]byte(b)))
	}
	if got := e.lastSeq(t); got != seq {
		t.Errorf("an oversized body changed the store")
	}
}

// A CSV body over the bound whose header is refused is a 413 too: the
// import stops at the header, and the body is read on to tell its size.
func TestPostRecordsCSVOverBoundRefusedHeader(t *testing.T) {
	e := newEnv(t, 300)
	csv := "id,service,environment,status\n" + strings.Repeat("c1,api,production,success\n", 20)
	hdr := map[string]string{"Content-Type": "text/csv"}
	if status, b := e.postChunked(t, "/api/v1/records?kind=deployment", csv, hdr); status != 413 || !strings.Contains(b, "300 bytes") {
		t.Errorf("chunked = %d %s, want 413", status, b)
	}
	e.run(t, scenario{method: "POST", url: "/api/v1/records?kind=deployment", body: csv, headers: hdr, status: 413,
		fields: map[string]string{"code": "too_large"}})
	// Under the bound, the header's problem is the answer.
	e.run(t, scenario{method: "POST", url: "/api/v1/records?kind=deployment", body: "id,service,environment,status\nc1,api,production,success\n", headers: hdr, status: 400,
		fields: map[string]string{"errors.0.line": "1", "errors.0.field": "finished_at"}})
}

// A body whose Content-Length is over the bound is refused before any of
// it is read: the client sending 34 MB learns at once, not after the
// server has read and parsed 32 MiB of it.
func TestPostRecordsLengthOverBoundNotRead(t *testing.T) {
	e := newEnv(t, 300)
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	// A length of a million bytes, of which only the first line is sent.
	fmt.Fprintf(conn, "POST /api/v1/records HTTP/1.1\r\nHost: candor\r\nAuthorization: Bearer %s\r\nContent-Length: 1000000\r\n\r\n%s\n", e.token, d5)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer before the body was sent: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 413 || !strings.Contains(string(b), "larger than 300 bytes") {
		t.Errorf("= %d %s, want 413", resp.StatusCode, b)
	}
}

// A CSV body whose kind column names a kind the header lacks a column for
// is refused once, of the header, through the API as through import.
func TestPostRecordsCSVKindColumnHeader(t *testing.T) {
	e := newEnv(t, 0)
	seq := e.lastSeq(t)
	csv := "kind,id,service,environment,status\n" + strings.Repeat("deployment,c1,api,production,success\n", 50)
	e.run(t, scenario{method: "POST", url: "/api/v1/records?skip_invalid=true", body: csv, headers: map[string]string{"Content-Type": "text/csv"}, status: 400,
		fields: map[string]string{
			"error":          "the CSV header is refused; nothing was stored: line 1 field finished_at: the header lacks this column: every deployment record needs it; line 2 is the first deployment",
			"errors.0.line":  "1",
			"errors.0.field": "finished_at",
			"errors.1.line":  "<nil>",
		}})
	if got := e.lastSeq(t); got != seq {
		t.Errorf("a refused header changed the store")
	}
}
