package config

import (
	"strings"
	"testing"
)

func TestReportsCheckedAtLoad(t *testing.T) {
	p := write(t, `reports:
  base_url: candor.example.com
  recipients:
    - address: ceo@example.com
      roles: [ceo]
    - address: cfo@example.com
      roles: [cfo_typo]
    - address: not an address
      roles: [ceo]
    - address: cro@example.com
      user: cro@example.com
      roles: [cro]
    - address: vp@example.com
  digest:
    schedule: "0 7 * * MONDAY"
  board:
    schedule: "@monthly"
    to: [ceo@example.com, board@example.com]
`)
	_, err := Load(p, env(nil))
	if err == nil {
		t.Fatal("bad reports section accepted")
	}
	for _, want := range []string{
		p + `:2: reports.base_url: "candor.example.com" is not Candor's address`,
		p + `:7: reports.recipients[1].roles: unknown role "cfo_typo"`,
		p + `:8: reports.recipients[2].address: "not an address" is not an e-mail address`,
		p + `:12: reports.recipients[3].roles: give user or roles, not both`,
		p + `:13: reports.recipients[4].address: vp@example.com needs user`,
		p + `:15: reports.digest.schedule: "0 7 * * MONDAY" is not a cron expression`,
		p + `:18: reports.board.to[1]: "board@example.com" is not one of the recipients`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "recipients[0]") {
		t.Errorf("the good recipient was reported: %v", err)
	}
	good := write(t, `reports:
  base_url: https://candor.example.com
  recipients:
    - address: ceo@example.com
      roles: [ceo]
    - address: eng@example.com
      user: eng@example.com
  digest:
    schedule: "CRON_TZ=Europe/London 0 7 * * MON"
  board:
    schedule: "0 6 1 * *"
    to: [ceo@example.com]
`)
	c, err := Load(good, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	cat, _ := c.Catalog()
	s, err := c.ReportSettings(cat)
	if err != nil || len(s.Recipients) != 2 || s.DigestAt == nil || s.BoardAt == nil || len(s.BoardTo) != 1 {
		t.Errorf("settings = %+v, %v", s, err)
	}
}
