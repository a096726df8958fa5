package sqlite_test

import (
	"context"
	"crypto/ed25519"
	"syscall"
	"testing"
	"time"

	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/sqlite/sqlitetest"
)

// BenchmarkLedgerAppend is one ledger entry appended alone (an access
// event's or an acknowledgement's path: the head read, the insert, the
// SHA-256 and the Ed25519 signature, and the commit), with its personal
// data. cpu-µs/op is the process's CPU time an entry, which a shared
// machine's load distorts less than ns/op.
func BenchmarkLedgerAppend(b *testing.B) {
	st := sqlitetest.Open(b)
	st.SetSealer(ledger.NewSealer(ed25519.NewKeyFromSeed(make([]byte, 32))))
	ctx := context.Background()
	data := map[string]any{"type": "sign_in", "roles": []string{"executive"}}
	personal := map[string]string{"subject": "user:ann@example.com", "client": "10.0.0.1"}
	c0 := cpu()
	for b.Loop() {
		if _, err := ledger.Append(ctx, st, ledger.TypeAccess, data, personal); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpu()-c0).Microseconds())/float64(b.N), "cpu-µs/op")
}

func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRetentionIndexFirstUse is a server's first record page after
// it starts: the retention runs found by reading the whole ledger (here
// 20,000 access entries), once; later pages read only what was appended.
func BenchmarkRetentionIndexFirstUse(b *testing.B) {
	st := sqlitetest.Open(b)
	st.SetSealer(ledger.NewSealer(ed25519.NewKeyFromSeed(make([]byte, 32))))
	ctx := context.Background()
	data := map[string]any{"type": "sign_in", "roles": []string{"executive"}}
	personal := map[string]string{"subject": "user:ann@example.com", "client": "10.0.0.1"}
	for range 20_000 {
		if _, err := ledger.Append(ctx, st, ledger.TypeAccess, data, personal); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		var x ledger.RetentionIndex
		if _, err := x.RunOf(ctx, st, 1); err != nil {
			b.Fatal(err)
		}
	}
}
