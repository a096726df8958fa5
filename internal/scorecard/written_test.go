package scorecard

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/candor/candor/internal/jsonenc"
	"github.com/candor/candor/internal/metrics"
)

// The role views' amounts — the MRR bridge, quota pace's won and quota,
// the pipeline by stage — are written at the six decimals money holds, by
// json.Marshal and jsonenc alike, and the values kept are left as computed.
func TestViewAmountsWrittenAsMoney(t *testing.T) {
	noisy := 2721.7200000000003 // 12 × 226.81 in float64
	p := func() *float64 { v := noisy; return &v }
	bridge := &MRRBridge{Currency: "USD", Start: p(), End: p(), Moves: []BridgeMove{{Figure: Figure{ID: "mrr_new", Value: p()}, Move: "new"}}}
	pace := &QuotaPace{Won: p(), Quota: p(), Attainment: p()}
	pipeline := &metrics.Pipeline{Currency: "USD", Amount: p(), Stages: []metrics.StageLine{{Amount: p()}}}
	for name, v := range map[string]any{"bridge": bridge, "quota pace": pace, "pipeline": pipeline} {
		for how, marshal := range map[string]func(any) ([]byte, error){"json.Marshal": json.Marshal, "jsonenc": jsonenc.Marshal} {
			b, err := marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			money := strings.Count(string(b), ":2721.72,") + strings.Count(string(b), ":2721.72}")
			want := 3
			if name == "pipeline" {
				want = 2
			}
			if name == "quota pace" {
				want = 2 // attainment is a percentage, written as computed
			}
			if money != want {
				t.Errorf("%s by %s writes %d amounts as 2721.72, want %d: %s", name, how, money, want, b)
			}
		}
	}
	if *bridge.Moves[0].Value != noisy || *pipeline.Stages[0].Amount != noisy || *pace.Won != noisy {
		t.Error("writing rounded the values kept")
	}
}

// A card's detail writes its amounts of money at six decimals (ARPA, mean
// won amount, a money metric's target) and its other figures (a win rate)
// as computed.
func TestCardDetailAmountsWrittenAsMoney(t *testing.T) {
	noisy, rate := 2721.7200000000003, 33.333333333333336
	p := func(v float64) *float64 { return &v }
	c := Card{ID: "arr", Unit: "currency", Value: p(noisy),
		Detail: metrics.Detail{ARPA: p(noisy), MeanWonAmount: p(noisy), Target: p(noisy), WinRate: p(rate)}}
	for how, marshal := range map[string]func(any) ([]byte, error){"json.Marshal": json.Marshal, "jsonenc": jsonenc.Marshal} {
		b, err := marshal(&c)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "2721.7200000000003") || strings.Count(string(b), "2721.72") != 4 || !strings.Contains(string(b), `"win_rate":33.333333333333336`) {
			t.Errorf("%s: %s", how, b)
		}
	}
	if *c.Detail.ARPA != noisy || *c.Detail.Target != noisy {
		t.Error("writing rounded the values kept")
	}
}
