package escalation

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/candor/candor/internal/sqlite/sqlitetest"
)

// BenchmarkAcknowledgements reads 1,000 and 5,000 acknowledgements as a
// page or an API answer does: every one decoded (List), or through the
// cache with nothing new (one row read).
func BenchmarkAcknowledgements(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{1000, 5000} {
		st := sqlitetest.Open(b)
		at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		for i := range n {
			a := Acknowledgement{Metric: "change_failure_rate", Scope: fmt.Sprintf("team:t%d", i%20), Status: "red", Owner: "Head of SRE",
				Note: "canaries on the deploy pipeline, see the ticket", Due: "2026-12-20", By: "user:someone@example.com", At: at.Add(time.Duration(i) * time.Second)}
			if _, err := Record(ctx, st, a); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(fmt.Sprintf("list/%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := List(ctx, st, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
		c := &Cache{}
		b.Run(fmt.Sprintf("cache/%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := c.List(ctx, st, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
