package metrics

import (
	"time"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
)

// The CEL interpreter spends about a microsecond a record on a filter
// such as `severity in ["P0", "P1"]` (resolving each variable, tracking
// cost, boxing values); a month of records at scale 1 made twenty
// organisation-defined metrics cost many times the built-ins. Most
// definitions are conjunctions of comparisons of fields with literals,
// optional tests and duration arithmetic, so a checked expression made
// only of those is also compiled here into Go closures over the record,
// which the metric runs instead. They are the same expression: any
// operator or function not listed below leaves the expression to the
// interpreter, and a record on which the closures meet an error (an
// absent field unwrapped) is evaluated again by the interpreter, which
// gives the error's own words. A closure tree is finite and does one
// step per node, so it cannot run over the cost bound the interpreter's
// estimate checked at load. TestNativeMatchesInterpreter holds the two
// to the same answers.

// native is a compiled sub-expression of one type; ok false means the
// interpreter would have failed on the record.
type native struct {
	typ fieldType // fDur for durations
	b   func(a *customAct) (bool, bool)
	n   func(a *customAct) (float64, bool)
	s   func(a *customAct) (string, bool)
	t   func(a *customAct) (int64, bool) // timestamps and durations, ns
	// present is set for an optional: whether it holds a value, which the
	// getter above gives.
	present func(a *customAct) bool
	list    []*native // a list literal (the right of `in`)
	lit     *string   // a string literal's text
}

const fDur fieldType = 100

// nativeBool and nativeNum compile a checked expression, or return nil
// when it uses what is not compiled here.
func nativeBool(k *customKind, ast *cel.Ast) func(a *customAct) (bool, bool) {
	n := compileNative(k, ast.NativeRep().Expr())
	if n == nil || n.typ != fBool || n.present != nil {
		return nil
	}
	return n.b
}

func nativeNum(k *customKind, ast *cel.Ast) func(a *customAct) (float64, bool) {
	n := compileNative(k, ast.NativeRep().Expr())
	if n == nil || n.present != nil {
		return nil
	}
	return numOf(n)
}

// numOf reads an int or double as a float64, as the interpreter's number
// comparisons and evalNum do.
func numOf(n *native) func(a *customAct) (float64, bool) {
	switch n.typ {
	case fNum:
		return n.n
	case fInt:
		return n.n
	}
	return nil
}

func compileNative(k *customKind, e celast.Expr) *native {
	switch e.Kind() {
	case celast.LiteralKind:
		return nativeLiteral(e.AsLiteral())
	case celast.IdentKind:
		return nativeIdent(k, e.AsIdent())
	case celast.ListKind:
		var out native
		out.typ = 255
		for _, el := range e.AsList().Elements() {
			n := compileNative(k, el)
			if n == nil || n.present != nil {
				return nil
			}
			out.list = append(out.list, n)
		}
		return &out
	case celast.CallKind:
		return nativeCall(k, e.AsCall())
	}
	return nil
}

func nativeLiteral(v any) *native {
	switch x := v.(type) {
	case types.String:
		s := string(x)
		return &native{typ: fStr, s: func(*customAct) (string, bool) { return s, true }, lit: &s}
	case types.Double:
		f := float64(x)
		return &native{typ: fNum, n: func(*customAct) (float64, bool) { return f, true }}
	case types.Int:
		f := float64(x)
		return &native{typ: fInt, n: func(*customAct) (float64, bool) { return f, true }}
	case types.Bool:
		b := bool(x)
		return &native{typ: fBool, b: func(*customAct) (bool, bool) { return b, true }}
	}
	return nil
}

func nativeIdent(k *customKind, name string) *native {
	switch name {
	case "as_of":
		return &native{typ: fTime, t: func(a *customAct) (int64, bool) { return a.asOf, true }}
	case "window_start":
		return &native{typ: fTime, t: func(a *customAct) (int64, bool) { return a.start, true }}
	}
	i, ok := k.byName[name]
	if !ok {
		return nil
	}
	f := &k.fields[i]
	if f.typ == fList {
		return nil // lists are the interpreter's
	}
	out := &native{typ: f.typ}
	switch f.typ {
	case fTime:
		get, deadline := f.t, f.deadline
		out.t = func(a *customAct) (int64, bool) { return get(a), true }
		if f.opt {
			out.present = func(a *customAct) bool { t := get(a); return t != 0 && (deadline || t <= a.asOf) }
		}
	case fNum:
		get := f.n
		out.n = func(a *customAct) (float64, bool) { v, _ := get(a); return v, true }
		if f.opt {
			out.present = func(a *customAct) bool { _, ok := get(a); return ok }
		}
	case fStr:
		get := f.s
		out.s = func(a *customAct) (string, bool) { return get(a), true }
	case fBool:
		get := f.b
		out.b = func(a *customAct) (bool, bool) { return get(a), true }
	case fInt:
		get := f.i
		out.n = func(a *customAct) (float64, bool) { return float64(get(a)), true }
	}
	return out
}

func nativeCall(k *customKind, c celast.CallExpr) *native {
	args := make([]*native, len(c.Args()))
	for i, e := range c.Args() {
		if args[i] = compileNative(k, e); args[i] == nil {
			return nil
		}
	}
	if c.IsMemberFunction() {
		target := compileNative(k, c.Target())
		if target == nil {
			return nil
		}
		return nativeMember(c.FunctionName(), target, args)
	}
	for _, a := range args {
		if a.present != nil || a.list != nil && c.FunctionName() != operators.In {
			return nil
		}
	}
	switch fn := c.FunctionName(); fn {
	case operators.LogicalAnd, operators.LogicalOr:
		if len(args) != 2 || args[0].typ != fBool || args[1].typ != fBool {
			return nil
		}
		return nativeLogic(fn == operators.LogicalAnd, args[0].b, args[1].b)
	case operators.LogicalNot:
		x := args[0].b
		if x == nil {
			return nil
		}
		return &native{typ: fBool, b: func(a *customAct) (bool, bool) { v, ok := x(a); return !v, ok }}
	case operators.Equals, operators.NotEquals, operators.Less, operators.LessEquals, operators.Greater, operators.GreaterEquals:
		return nativeCompare(fn, args[0], args[1])
	case operators.In:
		return nativeIn(args[0], args[1])
	case operators.Subtract:
		x, y := args[0], args[1]
		if x.typ == fTime && y.typ == fTime {
			return &native{typ: fDur, t: func(a *customAct) (int64, bool) {
				p, ok1 := x.t(a)
				q, ok2 := y.t(a)
				return p - q, ok1 && ok2
			}}
		}
		return nativeArith(fn, x, y)
	case operators.Add, operators.Multiply, operators.Divide:
		return nativeArith(fn, args[0], args[1])
	case "hours", "minutes", "days", "seconds":
		unit := map[string]time.Duration{"hours": time.Hour, "minutes": time.Minute, "days": day, "seconds": time.Second}[fn]
		x := args[0]
		if x.typ != fDur {
			return nil
		}
		return &native{typ: fNum, n: func(a *customAct) (float64, bool) { d, ok := x.t(a); return float64(d) / float64(unit), ok }}
	}
	return nil
}

func nativeMember(fn string, x *native, args []*native) *native {
	switch fn {
	case "hasValue":
		if x.present == nil || len(args) != 0 {
			return nil
		}
		p := x.present
		return &native{typ: fBool, b: func(a *customAct) (bool, bool) { return p(a), true }}
	case "value":
		if x.present == nil || len(args) != 0 {
			return nil
		}
		out := *x
		p := x.present
		out.present = nil
		// Unwrapping an absent value is the interpreter's error: ok false.
		switch x.typ {
		case fTime:
			get := x.t
			out.t = func(a *customAct) (int64, bool) { v, _ := get(a); return v, p(a) }
		case fNum:
			get := x.n
			out.n = func(a *customAct) (float64, bool) { v, _ := get(a); return v, p(a) }
		default:
			return nil
		}
		return &out
	case "orValue":
		if x.present == nil || len(args) != 1 || args[0].typ != x.typ || args[0].present != nil {
			return nil
		}
		out := *x
		p, alt := x.present, args[0]
		out.present = nil
		switch x.typ {
		case fTime:
			get := x.t
			out.t = func(a *customAct) (int64, bool) {
				if p(a) {
					return get(a)
				}
				return alt.t(a)
			}
		case fNum:
			get := x.n
			out.n = func(a *customAct) (float64, bool) {
				if p(a) {
					return get(a)
				}
				return alt.n(a)
			}
		default:
			return nil
		}
		return &out
	case "lowerAscii":
		if x.typ != fStr || x.present != nil || len(args) != 0 {
			return nil
		}
		s := x.s
		return &native{typ: fStr, s: func(a *customAct) (string, bool) { v, ok := s(a); return lowerASCII(v), ok }}
	}
	return nil
}

// lowerASCII is the strings extension's lowerAscii: only A–Z change.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// nativeLogic is CEL's && and ||: commutative over errors — an error on
// one side gives way to the other side's deciding value.
func nativeLogic(and bool, x, y func(a *customAct) (bool, bool)) *native {
	return &native{typ: fBool, b: func(a *customAct) (bool, bool) {
		p, ok1 := x(a)
		if ok1 && p != and {
			return p, true
		}
		q, ok2 := y(a)
		if ok2 && q != and {
			return q, true
		}
		return and, ok1 && ok2
	}}
}

func nativeCompare(op string, x, y *native) *native {
	cmp := func(c int) bool {
		switch op {
		case operators.Equals:
			return c == 0
		case operators.NotEquals:
			return c != 0
		case operators.Less:
			return c < 0
		case operators.LessEquals:
			return c <= 0
		case operators.Greater:
			return c > 0
		}
		return c >= 0
	}
	three := func(less, greater bool) int {
		switch {
		case less:
			return -1
		case greater:
			return 1
		}
		return 0
	}
	xn, yn := numOf(x), numOf(y)
	switch {
	case xn != nil && yn != nil:
		return &native{typ: fBool, b: func(a *customAct) (bool, bool) {
			p, ok1 := xn(a)
			q, ok2 := yn(a)
			return cmp(three(p < q, p > q)), ok1 && ok2
		}}
	case x.typ == fStr && y.typ == fStr && y.lit != nil && (op == operators.Equals || op == operators.NotEquals):
		// A field against a literal, the commonest test: one call, not three.
		lit, eq := *y.lit, op == operators.Equals
		return &native{typ: fBool, b: func(a *customAct) (bool, bool) {
			p, ok := x.s(a)
			return (p == lit) == eq, ok
		}}
	case x.typ == fStr && y.typ == fStr:
		return &native{typ: fBool, b: func(a *customAct) (bool, bool) {
			p, ok1 := x.s(a)
			q, ok2 := y.s(a)
			return cmp(three(p < q, p > q)), ok1 && ok2
		}}
	case (x.typ == fTime && y.typ == fTime) || (x.typ == fDur && y.typ == fDur):
		return &native{typ: fBool, b: func(a *customAct) (bool, bool) {
			p, ok1 := x.t(a)
			q, ok2 := y.t(a)
			return cmp(three(p < q, p > q)), ok1 && ok2
		}}
	case x.typ == fBool && y.typ == fBool && (op == operators.Equals || op == operators.NotEquals):
		return &native{typ: fBool, b: func(a *customAct) (bool, bool) {
			p, ok1 := x.b(a)
			q, ok2 := y.b(a)
			return cmp(three(false, p != q)), ok1 && ok2
		}}
	}
	return nil
}

func nativeIn(x, list *native) *native {
	if list.list == nil {
		return nil
	}
	var items []*native
	for _, el := range list.list {
		eq := nativeCompare(operators.Equals, x, el)
		if eq == nil {
			return nil
		}
		items = append(items, eq)
	}
	return &native{typ: fBool, b: func(a *customAct) (bool, bool) {
		for _, eq := range items {
			v, ok := eq.b(a)
			if !ok {
				return false, false
			}
			if v {
				return true, true
			}
		}
		return false, true
	}}
}

// nativeArith compiles double arithmetic only: int arithmetic has the
// interpreter's overflow errors.
func nativeArith(op string, x, y *native) *native {
	if x.typ != fNum || y.typ != fNum {
		return nil
	}
	return &native{typ: fNum, n: func(a *customAct) (float64, bool) {
		p, ok1 := x.n(a)
		q, ok2 := y.n(a)
		switch op {
		case operators.Add:
			return p + q, ok1 && ok2
		case operators.Subtract:
			return p - q, ok1 && ok2
		case operators.Multiply:
			return p * q, ok1 && ok2
		}
		return p / q, ok1 && ok2
	}}
}
