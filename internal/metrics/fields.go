package metrics

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/jsonenc"
)

// Field is one named value of a drill-down row. Value is a time.Time, a
// string, a number (float64 or domain.Money), a bool, or nil when the
// record lacks it or it lies after as_of (SPEC §3: an event stamped after
// as_of has not happened yet).
type Field struct {
	Name  string
	Value any
}

// Fields are what a reader needs to recognise a record behind a value
// without opening it — when, which service, what status or severity, how
// much — in the order rowFields declares them. JSON writes them as one
// object in that order, every field present (null when absent), so every
// row of a kind has the same shape.
type Fields []Field

func (f Fields) MarshalJSON() ([]byte, error) {
	// Written by hand: a page of a thousand rows is several thousand
	// values, and a json.Marshal per value made the page cost twenty times
	// its ids alone.
	b, _, err := f.appendJSON(make([]byte, 0, 32*len(f)+2), -1, nil)
	return b, err
}

// appendJSON writes the fields as an object at depth, compact when depth
// is negative (jsonenc.AppendKey). A value written as an object or array
// (a type left to json.Marshal) is indented through scratch, which it
// returns for reuse.
func (f Fields) appendJSON(b []byte, depth int, scratch []byte) (_, _ []byte, err error) {
	if len(f) == 0 {
		return append(b, "{}"...), scratch, nil
	}
	b = append(b, '{')
	for i, x := range f {
		b = jsonenc.AppendKey(b, x.Name, i == 0, depth)
		at := len(b)
		if b, err = appendJSONValue(b, x.Value, false); err != nil {
			return nil, scratch, err
		}
		if c := b[at]; depth >= 0 && (c == '{' || c == '[') {
			scratch = append(scratch[:0], b[at:]...)
			b = jsonenc.AppendIndentAt(b[:at], scratch, depth+1)
		}
	}
	return jsonenc.AppendEnd(b, '}', depth), scratch, nil
}

// appendJSONValue writes v as json.Marshal does, a float tidied when tidy
// is set (jsonenc.AppendAnswer: a drill-down row's computed value, never a
// record's own field, which is written as the record has it).
func appendJSONValue(b []byte, v any, tidy bool) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return jsonenc.AppendString(b, x), nil
	case time.Time:
		if b, ok := jsonenc.AppendTime(b, x); ok {
			return b, nil
		}
	case bool:
		return strconv.AppendBool(b, x), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case float64:
		if tidy {
			if b, ok := jsonenc.AppendTidyFloat(b, x); ok {
				return b, nil
			}
		} else if b, ok := jsonenc.AppendFloat(b, x); ok {
			return b, nil
		}
		return nil, fmt.Errorf("field value %v is not a JSON number", x)
	case domain.Money:
		return append(b, x.String()...), nil
	}
	j, err := json.Marshal(v)
	return append(b, j...), err
}

// UnmarshalJSON reads the object MarshalJSON writes, keeping its order, so
// a Go client can decode a drill-down it fetched. Values come back as JSON
// decodes them (times as strings, numbers as float64).
func (f *Fields) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		*f = nil
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("fields: want an object, got %v", tok)
	}
	out := Fields{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return err
		}
		out = append(out, Field{Name: tok.(string), Value: v})
	}
	*f = out
	return nil
}

// Get returns a field's value, nil when the row has no such field.
func (f Fields) Get(name string) any {
	for _, x := range f {
		if x.Name == name {
			return x.Value
		}
	}
	return nil
}

// rowSpec is one kind's row: the field names, and the values of one
// record from the dataset's in-memory copy (nil when it holds no such
// record) as of a time in unix ns, appended to buf.
type rowSpec struct {
	names  []string
	values func(d *Dataset, k rowKey, at int64, buf []any) []any
}

// rowKey is a ref's record as Describe looks it up: the codes of its
// source and id when the string table holds both (ok; when it does not,
// no record has them), the row+1 of a deployment as the ref found it
// (refAt; 0: look it up), and its id as written, for the kinds kept by
// name (services).
type rowKey struct {
	src, id uint32
	ok      bool
	row     int32
	name    string
}

// rowKeyOf is r's rowKey, taken from where the metric that named r found
// it when r came from this dataset's string table, else looked up.
func (d *Dataset) rowKeyOf(r *Ref) rowKey {
	k := rowKey{name: r.ID}
	if r.at.tab != 0 && r.at.tab == d.strs.stamp {
		k.src, k.id, k.ok, k.row = r.at.src, r.at.id, true, r.at.row
		return k
	}
	k.src, k.id, k.ok = d.keyCodes(key(r.Source, r.ID))
	return k
}

// depOfKey returns the deployment of a rowKey, or nil: the row the ref
// found when it still holds the record (a released row is zeroed, a
// reused one holds other codes), else the one the codes lead to.
func (d *Dataset) depOfKey(k rowKey) *Dep {
	if !k.ok {
		return nil
	}
	if k.row > 0 && k.row <= d.deps.n {
		if x := d.deps.at(k.row - 1); x.id == k.id && x.src == k.src && x.id != 0 {
			return x
		}
	}
	return d.depByCodes(k.src, k.id)
}

// FieldNames returns the fields a drill-down row of the kind carries.
func FieldNames(kind domain.Kind) []string { return rowFields[kind].names }

// rowFields declares, once for every kind, the fields of its drill-down
// rows: the record's defining time first, then what tells one record from
// its neighbours. Metrics name records; they never choose fields, so a
// deployment reads the same in every metric's drill-down. Values come from
// the dataset's copies (compact for deployments, changes, incidents and
// SLIs; whole records otherwise), so a page of rows costs a map lookup per
// row and no store read.
var rowFields = map[domain.Kind]rowSpec{
	domain.KindService: {
		names: []string{"name", "team", "tier", "business_unit", "slo_target"},
		values: func(d *Dataset, k rowKey, _ int64, buf []any) []any {
			x := d.Services[k.name]
			if x == nil {
				return nil
			}
			return append(buf, x.Name, str(x.Team), intOrNil(x.Tier), str(x.BusinessUnit), floatOrNil(x.SLOTarget))
		},
	},
	domain.KindDeployment: {
		names: []string{"finished_at", "service", "environment", "status"},
		values: func(d *Dataset, k rowKey, at int64, buf []any) []any {
			x := d.depOfKey(k)
			if x == nil {
				return nil
			}
			return append(buf, stamp(x.Finished, at), d.depService(x), d.str(x.env), depStatusName[x.Status])
		},
	},
	domain.KindChange: {
		names: []string{"merged_at", "service", "authored_at"},
		values: func(d *Dataset, k rowKey, at int64, buf []any) []any {
			if !k.ok {
				return nil
			}
			i := d.changeRowByCodes(k.src, k.id)
			if i < 0 {
				return nil
			}
			x := d.chgView(i)
			return append(buf, stamp(x.Merged, at), x.Service, stamp(x.Authored, at))
		},
	},
	domain.KindIncident: {
		names: []string{"opened_at", "service", "severity", "resolved_at", "category", "customer_facing", "origin"},
		values: func(d *Dataset, k rowKey, at int64, buf []any) []any {
			if !k.ok {
				return nil
			}
			x := d.incidents[rowCode(k.src, k.id)]
			if x == nil {
				return nil
			}
			return append(buf, stamp(x.Opened, at), d.str(x.svc), severityName(x.Severity), stamp(x.Resolved, at), str(d.str(x.category)), x.CustomerFacing, str(d.str(x.origin)))
		},
	},
	domain.KindSLI: {
		names: []string{"period_start", "period_end", "service", "good", "total"},
		values: func(d *Dataset, k rowKey, _ int64, buf []any) []any {
			if !k.ok {
				return nil
			}
			x := d.slis[rowCode(k.src, k.id)]
			if x == nil {
				return nil
			}
			return append(buf, period(x.Start), period(x.End), d.str(x.svc), x.Good, x.Total)
		},
	},
	domain.KindTicket: other((*Dataset).tickets, func(d *Dataset, x *ticketRow, at int64, buf []any) []any {
		return append(buf, stamp(x.created, at), d.strOrNil(x.customer), d.strOrNil(x.segment()), d.strOrNil(x.priority), stamp(x.resolved, at), stamp(x.slaDue, at), x.escalated(), d.strOrNil(x.release))
	}, "created_at", "customer", "segment", "priority", "resolved_at", "sla_due_at", "escalated", "release"),
	domain.KindSurvey: other((*Dataset).surveys, func(d *Dataset, x *surveyRow, at int64, buf []any) []any {
		return append(buf, stamp(x.at, at), d.str(x.typ), x.score, d.strOrNil(x.customer))
	}, "at", "type", "score", "customer"),
	domain.KindVulnerability: other((*Dataset).vulns, func(d *Dataset, x *vulnRow, at int64, buf []any) []any {
		return append(buf, stamp(x.opened, at), d.strOrNil(x.service), d.str(x.severity), stamp(x.fixed, at), d.strOrNil(x.cve), d.strOrNil(x.pkgCode()), x.kev())
	}, "opened_at", "service", "severity", "fixed_at", "cve", "package", "kev"),
	domain.KindControl: other((*Dataset).controls, func(d *Dataset, x *controlRow, at int64, buf []any) []any {
		return append(buf, stamp(x.checked, at), d.str(x.control), x.passed, d.strOrNil(x.framework))
	}, "checked_at", "control", "passed", "framework"),
	domain.KindCost: other((*Dataset).costs, func(d *Dataset, x *costRow, at int64, buf []any) []any {
		return append(buf, period(x.start), period(x.end), d.strOrNil(x.service), d.strOrNil(x.category), x.amount, d.str(x.currency))
	}, "period_start", "period_end", "service", "category", "amount", "currency"),
	domain.KindUsage: other((*Dataset).usages, func(d *Dataset, x *usageRow, at int64, buf []any) []any {
		return append(buf, period(x.start), period(x.end), d.strOrNil(x.service), floatIf(x.requests, x.hasRequests), floatIf(x.activeCustomers, x.hasActive))
	}, "period_start", "period_end", "service", "requests", "active_customers"),
	domain.KindBudget: other((*Dataset).budgets, func(d *Dataset, x *budgetRow, at int64, buf []any) []any {
		return append(buf, period(x.start), period(x.end), d.strOrNil(x.category), x.amount, d.str(x.currency))
	}, "period_start", "period_end", "category", "amount", "currency"),
	domain.KindSubscription: other((*Dataset).subs, func(d *Dataset, x *subRow, at int64, buf []any) []any {
		return append(buf, stamp(x.started, at), d.str(x.customer), x.mrr, d.str(x.currency), d.strOrNil(x.plan), d.strOrNil(x.segment), stamp(x.ended, at))
	}, "started_at", "customer", "mrr", "currency", "plan", "segment", "ended_at"),
	domain.KindOpportunity: other((*Dataset).opps, func(d *Dataset, x *oppRow, at int64, buf []any) []any {
		closed := stamp(x.closed, at)
		// Won is an outcome: unknown until the opportunity has closed.
		var won any
		if closed != nil {
			won = x.won
		}
		var closeDate any
		if x.hasClose {
			closeDate = x.closeDate()
		}
		return append(buf, stamp(x.created, at), d.strOrNil(x.owner), d.str(x.stage), x.amount, d.str(x.currency), closeDate, closed, won)
	}, "created_at", "owner", "stage", "amount", "currency", "close_date", "closed_at", "won"),
	domain.KindLead: other((*Dataset).leads, func(d *Dataset, x *leadRow, at int64, buf []any) []any {
		return append(buf, stamp(x.created, at), d.strOrNil(x.channel), d.strOrNil(x.campaign), stamp(x.mql, at), stamp(x.sql, at), d.strOrNil(x.opportunity))
	}, "created_at", "channel", "campaign", "mql_at", "sql_at", "opportunity"),
	domain.KindQuota: other((*Dataset).quotas, func(d *Dataset, x *quotaRow, at int64, buf []any) []any {
		return append(buf, period(x.start), period(x.end), d.str(x.owner), x.amount, d.str(x.currency))
	}, "period_start", "period_end", "owner", "amount", "currency"),
	domain.KindSpend: other((*Dataset).spends, func(d *Dataset, x *spendRow, at int64, buf []any) []any {
		return append(buf, period(x.start), period(x.end), d.str(x.category), x.amount, d.str(x.currency))
	}, "period_start", "period_end", "category", "amount", "currency"),
	domain.KindTarget: other((*Dataset).targets, func(d *Dataset, x *targetRow, at int64, buf []any) []any {
		return append(buf, period(x.start), period(x.end), d.str(x.metric), x.value, d.strOrNil(x.scope))
	}, "period_start", "period_end", "metric", "value", "scope"),
	domain.KindMeasurement: other((*Dataset).measurements, func(d *Dataset, x *measurementRow, at int64, buf []any) []any {
		var tags any
		if x.tags != 0 {
			tags = strings.Join(d.measurementTags(x), "; ")
		}
		return append(buf, stamp(x.at, at), d.str(x.metric), x.value, d.strOrNil(x.service), d.strOrNil(x.team), d.strOrNil(x.customer),
			d.strOrNil(x.segment), d.strOrNil(x.unit), tags)
	}, "at", "metric", "value", "service", "team", "customer", "segment", "unit", "tags"),
}

// other is the row of a kind the dataset holds as rows.
func other[R any, P interface {
	*R
	row
}](tbl func(d *Dataset) *table[R, P], values func(d *Dataset, x P, at int64, buf []any) []any, names ...string) rowSpec {
	return rowSpec{names: names, values: func(d *Dataset, k rowKey, at int64, buf []any) []any {
		if !k.ok {
			return nil
		}
		t := tbl(d)
		i, ok := t.slotByCodes(k.src, k.id)
		if !ok {
			return nil
		}
		return values(d, t.at(i), at, buf)
	}}
}

// Describe returns a copy of refs, each with its fields as of asOf. Only
// the refs given are looked up — a drill-down passes the page it serves,
// not the whole list — and refs itself, which the result cache may share,
// is left as it was.
func (d *Dataset) Describe(refs []Ref, asOf time.Time) []Ref {
	out := make([]Ref, len(refs))
	at := asOf.UnixNano()
	// One backing array for the page's fields: a row's are a slice of it.
	// Each row's values are gathered in buf, reused from row to row.
	var slab []Field
	buf := make([]any, 0, 16)
	for i, r := range refs {
		out[i] = r
		spec, ok := rowFields[r.Kind]
		if !ok {
			continue
		}
		vals := spec.values(d, d.rowKeyOf(&r), at, buf[:0])
		if vals == nil {
			continue
		}
		buf = vals
		if cap(slab)-len(slab) < len(vals) {
			slab = make([]Field, 0, max(len(vals), 6*(len(refs)-i)))
		}
		lo := len(slab)
		for j, n := range spec.names {
			slab = append(slab, Field{Name: n, Value: vals[j]})
		}
		out[i].Fields = Fields(slab[lo:len(slab):len(slab)])
	}
	return out
}

var depStatusName = map[uint8]string{stSuccess: domain.StatusSuccess, stFailure: domain.StatusFailure, stRolledBack: domain.StatusRolledBack}

func severityName(s uint8) string { return "P" + string(rune('0'+s)) }

// stamp is a unix-ns time as of at: nil when absent or still to come.
func stamp(t, at int64) any {
	if t == 0 || t > at {
		return nil
	}
	return time.Unix(0, t).UTC()
}

// period is a period's bound: period kinds count by their overlap with
// the interval asked (SPEC §3), so their bounds are shown as recorded, not
// as events that may lie after as_of.
func period(t int64) any {
	if t == 0 {
		return nil
	}
	return time.Unix(0, t).UTC()
}

func str(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// strOrNil is str of a string table code.
func (d *Dataset) strOrNil(c uint32) any { return str(d.str(c)) }

func intOrNil(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

func floatOrNil(v float64) any {
	if v == 0 {
		return nil
	}
	return v
}

// floatIf is v when the record gave it (ok), else nil.
func floatIf(v float64, ok bool) any {
	if !ok {
		return nil
	}
	return v
}
