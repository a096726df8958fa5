package connect

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/candor/candor/internal/generate"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/sqlite"
)

// BenchmarkGitHubDeliveries posts signed GitHub pull_request deliveries
// (the real payload, each with its own number and delivery id) from 8
// concurrent clients over loopback to the handler, which verifies, maps
// and commits each into a SQLite store, and reports deliveries/s and the
// 99th percentile latency. With CANDOR_BENCH_SCALE set, the store first
// holds a generated organisation of that scale:
//
//	go test -run '^$' -bench GitHubDeliveries -benchtime 5000x ./internal/connect/
func BenchmarkGitHubDeliveries(b *testing.B) {
	st, err := sqlite.Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if os.Getenv(generate.BenchScaleEnv) != "" {
		scale, err := generate.BenchScale(0)
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := generate.Write(&buf, generate.Options{Seed: 1, Scale: scale, End: testNow}); err != nil {
			b.Fatal(err)
		}
		if _, err := ingest.Import(context.Background(), st, []ingest.Source{{Name: "org.ndjson", Reader: &buf}}, ingest.Options{}); err != nil {
			b.Fatal(err)
		}
		// Settle, as internal/bench does before a timed phase: collect
		// the organisation's generation and import and return their
		// memory to the system now. Otherwise the runtime's scavenger
		// returns it during the deliveries, a few hundred MB at ~6 % of
		// their CPU, which is building the store's cost, not theirs.
		buf = bytes.Buffer{}
		debug.FreeOSMemory()
	}
	svc, err := New(Options{Store: st, Config: Config{GitHub: GitHub{Secret: ghSecret}}})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler(writeTestError))
	defer srv.Close()
	const clients = 8
	// Compact, so that "number":2 (the event's and the pull request's)
	// can be replaced.
	base := mustJSON(mustDecode(b, fixture(b, "github/derived.pull_request.closed.merged.payload.json")))
	parts := bytes.Split(base, []byte(`"number":2`))
	if len(parts) != 3 {
		b.Fatalf(`the payload has %d "number":2, want 2`, len(parts)-1)
	}

	// The clients are a load generator, as wrk is: each keeps one HTTP/1.1
	// connection open and writes requests made before the clock starts
	// (request line, headers, signature and payload in one buffer), then
	// reads the response. Signing a 28 KB payload is the sender's work,
	// on the sender's machine; here, with net/http's client (which also
	// allocates a 32 KB copy buffer a request), the senders took a fifth
	// of the two cores the server has. Each delivery keeps its own number,
	// id and signature, and the server verifies each.
	requests := make([][]byte, b.N)
	host := srv.Listener.Addr().String()
	for i := range requests {
		num := fmt.Appendf(nil, `"number":%d`, i+100)
		body := make([]byte, 0, len(base)+len(parts)*len(num))
		for j, p := range parts {
			if j > 0 {
				body = append(body, num...)
			}
			body = append(body, p...)
		}
		req := fmt.Appendf(nil, "POST /webhooks/github HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"+
			"Content-Length: %d\r\nX-GitHub-Event: pull_request\r\nX-GitHub-Delivery: bench-%d\r\nX-Hub-Signature-256: sha256=%s\r\n\r\n",
			host, len(body), i, hexHMAC(ghSecret, body))
		requests[i] = append(req, body...)
	}

	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var firstErr atomic.Value
	// CANDOR_BENCH_CPUPROFILE=FILE profiles the deliveries alone
	// (-cpuprofile also profiles building the store).
	if path := os.Getenv("CANDOR_BENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		conn, err := net.Dial("tcp", host)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		wg.Go(func() {
			r := bufio.NewReader(conn)
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				t0 := time.Now()
				_, err := conn.Write(requests[i])
				var resp *http.Response
				if err == nil {
					resp, err = http.ReadResponse(r, nil)
				}
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("delivery %d: %s", i, resp.Status)
					}
				}
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	b.StopTimer()
	if os.Getenv("CANDOR_BENCH_CPUPROFILE") != "" {
		pprof.StopCPUProfile()
	}
	if err, _ := firstErr.Load().(error); err != nil {
		b.Fatal(err)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(lat[max(0, (b.N*99+99)/100-1)].Microseconds())/1000, "p99-ms")
	// CPU per delivery (server and clients both) does not depend on what
	// else the machine runs, which the two figures above do.
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/delivery")
	counts, _ := st.Counts(context.Background())
	if counts["change"] < int64(b.N) {
		b.Fatalf("%d changes stored after %d deliveries", counts["change"], b.N)
	}
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
