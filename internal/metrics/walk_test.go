package metrics

import (
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"testing"
)

// formulaFiles hold the metric functions. They read the dataset through
// the window-walk API (walk.go) and the links (link.go) only: a formula
// reaching into one of the dataset's indexes would have to change with the
// layout.
var formulaFiles = []string{"delivery.go", "reliability.go", "security.go", "cost.go", "customer.go", "growth.go", "stages.go", "context.go", "flow.go", "revenue.go", "releaseimpact.go", "customkinds.go", "customeval.go"}

func TestFormulasUseTheWalkAPI(t *testing.T) {
	fields := map[string]bool{}
	for f := range reflect.TypeFor[Dataset]().Fields() {
		fields[f.Name] = true
	}
	// The configuration is read-only and part of what a formula means.
	delete(fields, "cfg")
	fset := token.NewFileSet()
	for _, name := range formulaFiles {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			// The organisation-defined metrics reach the dataset through
			// their activation (a.d).
			inner, ok := sel.X.(*ast.SelectorExpr)
			isD := ok && inner.Sel.Name == "d"
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "d" {
				isD = true
			}
			if isD && fields[sel.Sel.Name] {
				t.Errorf("%s: a metric function reads the dataset's field %s; read it through the walk API", fset.Position(sel.Pos()), sel.Sel.Name)
			}
			return true
		})
	}
}
