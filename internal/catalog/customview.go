package catalog

import (
	"cmp"
	"slices"
)

// AddViews returns a new catalog with an organisation's own role views after the built-in ones
// (SPEC §4: a new executive wants a page of their own); c is not modified. Each view is checked
// like a built-in one (snake_case id, a name, known metrics listed once, breakdowns the metrics
// offer, known sections) and its id may be neither a built-in view's nor another's. Errors are
// *FieldErrors on "views[i]…"; with the configuration file's name and bytes (data may be nil)
// they also name the file and the line.
//
// The views given replace any the organisation's views c already holds (in force in a governed
// catalog): an approved views section is the whole list, and its views may keep their ids.
func (c *Catalog) AddViews(views []View, file string, data []byte) (*Catalog, error) {
	out := c.clone()
	out.Views = out.Views[:0]
	for _, v := range c.ViewsInForce() {
		if !v.custom {
			out.Views = append(out.Views, v.clone())
		}
	}
	builtIn := &Catalog{Views: slices.Clone(out.Views)}
	var errs []*FieldError
	seen := map[string]int{}
	for i, v := range views {
		p := problem{kind: "view", id: v.ID, list: "views", pos: i + 1, errs: &errs}
		if _, ok := builtIn.View(v.ID); ok && v.ID != "" {
			p.add("id", "%q is a built-in view; choose another id", v.ID)
		} else {
			checkID(p, v.ID, seen, i)
		}
		out.checkView(p, v)
		v = v.clone()
		v.custom = true
		out.Views = append(out.Views, v)
	}
	if len(errs) == 0 {
		return out, nil
	}
	return nil, placeErrors(errs, file, data)
}

// placeErrors names the file and line of each error of a configuration's section and joins them
// in the file's order.
func placeErrors(errs []*FieldError, file string, data []byte) error {
	idx := indexYAML(data)
	for _, e := range errs {
		e.File = file
		e.Line = idx.line(e.path)
	}
	slices.SortStableFunc(errs, func(a, b *FieldError) int { return cmp.Compare(lineOrLast(a.Line), lineOrLast(b.Line)) })
	return joinErrors(errs)
}

// YAMLLine returns the line of the YAML path ("views[2].roles[0]") in data, or of its nearest
// written ancestor; 0 when neither is written. Configuration checks made after decoding use it
// to point at what they refuse.
func YAMLLine(data []byte, path string) int { return indexYAML(data).line(path) }
