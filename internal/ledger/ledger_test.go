package ledger

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/store"
)

// TestCanonicalEncoding pins the format docs/ledger.md states, so an
// independent verifier written from the docs computes the same hashes, and
// a change to the encoding cannot slip in unnoticed (it would break every
// ledger already written).
func TestCanonicalEncoding(t *testing.T) {
	r := store.LedgerRow{Seq: 2, At: time.Unix(0, 1772323200123456789).UTC(), Type: "records", Data: []byte(`{"n":1}`),
		PersonalDigest: strings.Repeat("ab", 32), Prev: strings.Repeat("01", 32)}
	c, err := Canonical(r)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	want.WriteString("candor-ledger-v1\x00")
	want.Write([]byte{0, 0, 0, 0, 0, 0, 0, 2})
	want.Write([]byte{0x18, 0x98, 0x8e, 0x8f, 0x72, 0x8a, 0xcd, 0x15}) // 1772323200123456789
	want.Write([]byte{0, 0, 0, 7})
	want.WriteString("records")
	want.Write([]byte{0, 0, 0, 7})
	want.WriteString(`{"n":1}`)
	want.Write([]byte{0, 0, 0, 64})
	want.WriteString(strings.Repeat("ab", 32))
	want.Write(bytes.Repeat([]byte{1}, 32))
	if !bytes.Equal(c, want.Bytes()) {
		t.Fatalf("canonical encoding\n%x\nwant\n%x", c, want.Bytes())
	}
	h, _ := Hash(r)
	sum := sha256.Sum256(want.Bytes())
	if h != hex.EncodeToString(sum[:]) {
		t.Errorf("hash %s is not the SHA-256 of the encoding", h)
	}
	r.Prev = "not hex"
	if _, err := Hash(r); err == nil {
		t.Error("a row whose prev is not a hash was hashed")
	}
}

func TestSealChainsAndSigns(t *testing.T) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	s := NewSealer(key)
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	a, _ := Entry(TypeRecords, map[string]int{"n": 1}, nil)
	b, _ := Entry(TypeAccess, struct {
		Type string `json:"type"`
	}{"sign_in"}, map[string]string{"subject": "user:a@example.com"})
	rows, err := s.Seal(store.LedgerHead{}, at, []store.LedgerEntry{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if rows[0].Seq != 1 || rows[0].Prev != zeroHash || rows[1].Seq != 2 || rows[1].Prev != rows[0].Hash {
		t.Fatalf("rows do not chain: %+v", rows)
	}
	if rows[0].Personal != nil || rows[0].PersonalDigest != "" || rows[1].Salt == "" {
		t.Errorf("personal data: first %q %q, second salt %q", rows[0].Personal, rows[0].PersonalDigest, rows[1].Salt)
	}
	if d, _ := PersonalDigest(rows[1].Salt, rows[1].Personal); d != rows[1].PersonalDigest {
		t.Error("personal digest is not the salted SHA-256")
	}
	if string(rows[1].Data) != `{"type":"sign_in"}` || rows[0].KeyID != KeyID(key.Public().(ed25519.PublicKey)) {
		t.Errorf("data %s key %s", rows[1].Data, rows[0].KeyID)
	}
	// Ed25519 is deterministic: the same entries sealed again sign alike.
	again, _ := s.Seal(store.LedgerHead{}, at, []store.LedgerEntry{a})
	if again[0].Sig != rows[0].Sig {
		t.Error("sealing the same entry twice gave two signatures")
	}
	next, _ := s.Seal(store.LedgerHead{Seq: 2, Hash: rows[1].Hash}, at, []store.LedgerEntry{a})
	if next[0].Seq != 3 || next[0].Prev != rows[1].Hash {
		t.Errorf("after the head: %+v", next[0])
	}
}

func TestEntryRefuses(t *testing.T) {
	if _, err := Entry("recrods", map[string]int{}, nil); err == nil || !strings.Contains(err.Error(), `unknown entry type "recrods"`) {
		t.Errorf("unknown type: %v", err)
	}
	if _, err := Entry(TypeRecords, []int{1}, nil); err == nil || !strings.Contains(err.Error(), "JSON object") {
		t.Errorf("array data: %v", err)
	}
	if _, err := Entry(TypeRecords, map[string]int{}, "x"); err == nil {
		t.Error("string personal data accepted")
	}
}

func TestKeys(t *testing.T) {
	key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseKey(" " + FormatKey(key) + "\n")
	if err != nil || !back.Equal(key) {
		t.Fatalf("ParseKey(FormatKey) = %v, %v", back, err)
	}
	pub := key.Public().(ed25519.PublicKey)
	if p, err := ParsePublicKey(FormatPublicKey(pub)); err != nil || !p.Equal(pub) {
		t.Fatalf("ParsePublicKey = %v, %v", p, err)
	}
	for _, bad := range []string{"", "not base64!", FormatPublicKey(pub)[:20]} {
		if _, err := ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) accepted", bad)
		}
		if _, err := ParsePublicKey(bad); err == nil {
			t.Errorf("ParsePublicKey(%q) accepted", bad)
		}
	}
	path := filepath.Join(t.TempDir(), "ledger.key")
	if err := WriteKeyFile(path, key); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	if err := WriteKeyFile(path, key); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("overwriting a key file: %v", err)
	}
	if k, err := ReadKeyFile(path); err != nil || !k.Equal(key) {
		t.Errorf("ReadKeyFile = %v", err)
	}
	os.WriteFile(path+".bad", []byte("hello"), 0o600)
	if _, err := ReadKeyFile(path + ".bad"); err == nil || !strings.Contains(err.Error(), path+".bad") {
		t.Errorf("bad key file: %v", err)
	}
}

func TestParseHead(t *testing.T) {
	h := strings.Repeat("ab", 32)
	if got, err := ParseHead("12:" + strings.ToUpper(h)); err != nil || got != (store.LedgerHead{Seq: 12, Hash: h}) {
		t.Errorf("ParseHead(SEQ:HASH) = %+v, %v", got, err)
	}
	if got, err := ParseHead(h); err != nil || got != (store.LedgerHead{Hash: h}) {
		t.Errorf("ParseHead(HASH) = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "x:" + h, "0:" + h, "12:abc", "12"} {
		if _, err := ParseHead(bad); err == nil {
			t.Errorf("ParseHead(%q) accepted", bad)
		}
	}
	if FormatHead(store.LedgerHead{Seq: 3, Hash: h}) != "3:"+h {
		t.Error("FormatHead")
	}
}
