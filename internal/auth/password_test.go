package auth

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

// fastParams keep tests quick; the format and checks are those of any cost.
var fastParams = Params{Memory: 64, Time: 1, Threads: 1}

func TestHashAndVerifyPassword(t *testing.T) {
	const pw = "correct horse battery staple"
	h, err := HashPassword(pw, Params{Memory: 1024, Time: 2, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^\$argon2id\$v=19\$m=1024,t=2,p=2\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`).MatchString(h) {
		t.Fatalf("hash %q is not a PHC argon2id string with the parameters", h)
	}
	if strings.Contains(h, pw) {
		t.Fatal("hash contains the password")
	}
	if ok, err := VerifyPassword(pw, h); !ok || err != nil {
		t.Errorf("right password: %v, %v", ok, err)
	}
	for _, wrong := range []string{"correct horse battery stapl", "Correct horse battery staple", "", pw + " "} {
		if ok, err := VerifyPassword(wrong, h); ok || err != nil {
			t.Errorf("wrong password %q: %v, %v", wrong, ok, err)
		}
	}
	// A fresh salt every time; each hash verifies with its own parameters,
	// whatever the current defaults.
	h2, _ := HashPassword(pw, fastParams)
	if h2 == h || strings.Split(h2, "$")[4] == strings.Split(h, "$")[4] {
		t.Error("two hashes share a salt")
	}
	if ok, _ := VerifyPassword(pw, h2); !ok {
		t.Error("hash with other parameters does not verify")
	}
}

func TestVerifyRefusesBadHashes(t *testing.T) {
	good, _ := HashPassword("a long enough password", fastParams)
	parts := strings.Split(good, "$")
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	for name, h := range map[string]string{
		"empty":         "",
		"bcrypt":        "$2a$10$abcdefghijklmnopqrstuu5Xo8O1aE0Q8i5o0GkEeLQ0sE7qK1p6i",
		"argon2i":       with(1, "argon2i"),
		"old version":   with(2, "v=16"),
		"huge memory":   with(3, "m=4194304,t=1,p=1"),
		"many passes":   with(3, "m=64,t=1000,p=1"),
		"zero threads":  with(3, "m=64,t=1,p=0"),
		"bad params":    with(3, "m=64;t=1;p=1"),
		"short salt":    with(4, "AAAA"),
		"bad salt":      with(4, "!!!!"),
		"short key":     with(5, "AAAA"),
		"missing field": strings.Join(parts[:5], "$"),
	} {
		ok, err := VerifyPassword("a long enough password", h)
		if ok || !errors.Is(err, ErrBadHash) {
			t.Errorf("%s: %v, %v; want no match and ErrBadHash", name, ok, err)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	for pw, want := range map[string]string{
		"short":                    "shorter than 12",
		"ééééééééééé":              "shorter than 12", // 11 characters, 22 bytes
		strings.Repeat("x", 1025):  "longer than 1024",
		"twelve chars":             "",
		"\xff\xfe invalid utf-8 x": "UTF-8",
	} {
		err := CheckPassword(pw)
		if (want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), want) {
			t.Errorf("CheckPassword(%.20q) = %v, want %q", pw, err, want)
		}
	}
}

func TestGeneratePassword(t *testing.T) {
	seen := map[string]bool{}
	shape := regexp.MustCompile(`^[a-hjkmnp-z2-9]{6}(-[a-hjkmnp-z2-9]{6}){3}$`)
	for i := 0; i < 200; i++ {
		pw, err := GeneratePassword()
		if err != nil {
			t.Fatal(err)
		}
		if !shape.MatchString(pw) || CheckPassword(pw) != nil {
			t.Fatalf("generated %q", pw)
		}
		if seen[pw] {
			t.Fatalf("generated %q twice", pw)
		}
		seen[pw] = true
	}
}
