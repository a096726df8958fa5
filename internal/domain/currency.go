package domain

import "strings"

// currencyCodes lists the ISO 4217 alphabetic codes, current and historic
// (a 2015 bill in DEM or a 2022 one in HRK is still a valid record), plus
// CNH, the offshore yuan that banks and cloud bills use. It is the CLDR
// list completed with the codes introduced since (MRU, SLE, UYW, VED, VES,
// XCG, ZWG).
const currencyCodes = "" +
	"ADP AED AFA AFN ALK ALL AMD ANG AOA AOK AON AOR ARA ARL ARM ARP ARS ATS AUD AWG AZM AZN " +
	"BAD BAM BAN BBD BDT BEC BEF BEL BGL BGM BGN BGO BHD BIF BMD BND BOB BOL BOP BOV BRB BRC " +
	"BRE BRL BRN BRR BRZ BSD BTN BUK BWP BYB BYN BYR BZD CAD CDF CHE CHF CHW CLE CLF CLP CNH " +
	"CNX CNY COP COU CRC CSD CSK CUC CUP CVE CYP CZK DDM DEM DJF DKK DOP DZD ECS ECV EEK EGP " +
	"ERN ESA ESB ESP ETB EUR FIM FJD FKP FRF GBP GEK GEL GHC GHS GIP GMD GNF GNS GQE GRD GTQ " +
	"GWE GWP GYD HKD HNL HRD HRK HTG HUF IDR IEP ILP ILR ILS INR IQD IRR ISJ ISK ITL JMD JOD " +
	"JPY KES KGS KHR KMF KPW KRH KRO KRW KWD KYD KZT LAK LBP LKR LRD LSL LTL LTT LUC LUF LUL " +
	"LVL LVR LYD MAD MAF MCF MDC MDL MGA MGF MKD MKN MLF MMK MNT MOP MRO MRU MTL MTP MUR MVP " +
	"MVR MWK MXN MXP MXV MYR MZE MZM MZN NAD NGN NIC NIO NLG NOK NPR NZD OMR PAB PEI PEN PES " +
	"PGK PHP PKR PLN PLZ PTE PYG QAR RHD ROL RON RSD RUB RUR RWF SAR SBD SCR SDD SDG SDP SEK " +
	"SGD SHP SIT SKK SLE SLL SOS SRD SRG SSP STD STN SUR SVC SYP SZL THB TJR TJS TMM TMT TND " +
	"TOP TPE TRL TRY TTD TWD TZS UAH UAK UGS UGX USD USN USS UYI UYP UYU UYW UZS VEB VED VEF " +
	"VES VND VNN VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XEU XFO XFU XOF XPD XPF XPT " +
	"XRE XSU XTS XUA XXX YDD YER YUD YUM YUN YUR ZAL ZAR ZMK ZMW ZRN ZRZ ZWD ZWG ZWL ZWR"

var currencySet = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range strings.Fields(currencyCodes) {
		m[c] = true
	}
	return m
}()

// IsCurrency reports whether code is an ISO 4217 alphabetic code (upper
// case, as stored).
func IsCurrency(code string) bool { return currencySet[code] }

// CurrencyOf is the currency of a record that carries money (cost,
// budget, subscription, opportunity, quota, spend), "" for the other
// kinds: what an import checks against the exchange rates configured.
func CurrencyOf(r Record) string {
	switch r := r.(type) {
	case *Cost:
		return r.Currency
	case *Budget:
		return r.Currency
	case *Subscription:
		return r.Currency
	case *Opportunity:
		return r.Currency
	case *Quota:
		return r.Currency
	case *Spend:
		return r.Currency
	}
	return ""
}
