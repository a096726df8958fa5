package sqlite

import (
	"bytes"
	"compress/flate"
	"context"
	"testing"
	"time"

	"github.com/candor/candor/internal/store"
)

// A kept payload is stored Snappy-compressed behind its mark, whether
// the committer encoded it (EncodePayload) or LogDelivery did, and read
// back as sent; payloads kept deflated by earlier versions still read
// back.
func TestKeptPayloadEncoding(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	payload := bytes.Repeat([]byte(`{"repository":{"full_name":"acme/api","url":"https://api.github.com/repos/acme/api"}},`), 300)
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	encoded := store.Delivery{Source: "github", DeliveryID: "d-1", ReceivedAt: at, Outcome: store.DeliveryAccepted, PayloadSHA256: "x", Payload: payload}
	s.EncodePayload(&encoded)
	if !encoded.Encoded || len(encoded.Payload) == 0 || encoded.Payload[0] != snappyMark || len(encoded.Payload) > len(payload)/4 {
		t.Fatalf("EncodePayload: %d bytes starting %x (encoded %v), want Snappy behind its mark and smaller", len(encoded.Payload), encoded.Payload[:1], encoded.Encoded)
	}
	for _, d := range []store.Delivery{encoded,
		{Source: "github", DeliveryID: "d-2", ReceivedAt: at, Outcome: store.DeliveryAccepted, PayloadSHA256: "x", Payload: payload},
		{Source: "github", DeliveryID: "d-3", ReceivedAt: at, Outcome: store.DeliveryAccepted, PayloadSHA256: "x", Payload: payload}} {
		if _, _, err := s.LogDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	var first []byte
	if err := s.db.QueryRowContext(ctx, `SELECT payload FROM deliveries WHERE delivery_id = 'd-2'`).Scan(&first); err != nil {
		t.Fatal(err)
	}
	if len(first) == 0 || first[0] != snappyMark {
		t.Fatalf("LogDelivery stored %d bytes starting %x, want Snappy behind its mark", len(first), first[:1])
	}
	// d-3 as an earlier version kept it: deflated.
	var old bytes.Buffer
	w, _ := flate.NewWriter(&old, flate.BestSpeed)
	w.Write(payload)
	w.Close()
	if _, err := s.db.ExecContext(ctx, `UPDATE deliveries SET payload = ? WHERE delivery_id = 'd-3'`, old.Bytes()); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := s.KeptPayloads(ctx, "github", time.Time{}, func(d store.Delivery) error {
		n++
		if !bytes.Equal(d.Payload, payload) {
			t.Errorf("delivery %s: payload read back as %d bytes, want the %d sent", d.DeliveryID, len(d.Payload), len(payload))
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("KeptPayloads: %d payloads, %v; want 3", n, err)
	}
}

// openTemp opens a store in a temporary directory, closed at the end of
// the test.
func openTemp(t *testing.T) *DB {
	t.Helper()
	s, err := Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Encoding a payload allocates only what is kept: the room Snappy needs
// for its bound (~1.17 times the payload) is reused, not allocated again
// for every delivery.
func TestEncodePayloadAllocatesOnlyTheEncoding(t *testing.T) {
	payload := bytes.Repeat([]byte(`{"repository":{"full_name":"acme/api","url":"https://api.github.com/repos/acme/api"}},`), 300)
	encodePayload(payload) // the first call makes the scratch buffer
	if n := testing.AllocsPerRun(50, func() { encodePayload(payload) }); n > 1 {
		t.Fatalf("encodePayload made %.0f allocations a payload, want 1 (the encoding)", n)
	}
	back, err := decodePayload(encodePayload(payload))
	if err != nil || !bytes.Equal(back, payload) {
		t.Fatalf("decodePayload(encodePayload(p)) = %d bytes, %v; want p back", len(back), err)
	}
}
