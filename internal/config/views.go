package config

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/chart"
	"github.com/candor/candor/internal/metrics"
)

// View is an organisation's own role view, written under `views:` as a list: the metrics in the
// order shown, the breakdown of each, panels beside them, and the roles that may open it. The
// roles that hold view:* (executive, auditor) open every view, this one included.
type View struct {
	catalog.View `yaml:",inline"`
	Roles        []string `yaml:"roles"`
}

// addViews adds the organisation's views to cat, checked like the built-in ones, each error
// naming the file and line.
func (c Config) addViews(cat *catalog.Catalog) (*catalog.Catalog, error) {
	if len(c.Views) == 0 {
		return cat, nil
	}
	views := make([]catalog.View, len(c.Views))
	for i, v := range c.Views {
		views[i] = v.View
		views[i].Description = strings.TrimSpace(v.Description)
	}
	file, src := c.sectionSource("views")
	return cat.AddViews(views, file, src)
}

// RoleOverrides returns the organisation's role overrides (`roles:`) with each custom view's
// roles granted that view (view:ID added to their permissions). A role a view names must exist;
// the error names the file, the line and the known roles.
func (c Config) RoleOverrides() (map[string]auth.RoleOverride, error) {
	out := maps.Clone(c.Roles)
	builtin, err := auth.BuiltinRoles()
	if err != nil {
		return nil, err
	}
	known := make([]string, len(builtin))
	for i, r := range builtin {
		known[i] = r.ID
	}
	var errs []error
	for i, v := range c.Views {
		for j, role := range v.Roles {
			k := slices.Index(known, role)
			if k < 0 {
				errs = append(errs, &catalog.FieldError{File: orName(c.path), Line: catalog.YAMLLine(c.src, fmt.Sprintf("views[%d].roles[%d]", i, j)),
					Kind: "view", ID: v.ID, Field: fmt.Sprintf("roles[%d]", j), Msg: fmt.Sprintf("unknown role %q; known: %s", role, strings.Join(known, ", "))})
				continue
			}
			if out == nil {
				out = map[string]auth.RoleOverride{}
			}
			o := out[role]
			perms := builtin[k].Permissions
			if o.Permissions != nil {
				perms = *o.Permissions
			}
			perms = append(slices.Clone(perms), auth.ViewPermission(v.ID))
			o.Permissions = &perms
			out[role] = o
		}
	}
	return out, errors.Join(errs...)
}

// located words an error of a check made after decoding: one that names the file and line
// already (a custom view's) reads "config FILE:LINE: …" like a decoding error; any other gets
// the file's name.
func located(path string, err error) error {
	if fe := (*catalog.FieldError)(nil); errors.As(err, &fe) && fe.File != "" {
		return fmt.Errorf("config %w", err)
	}
	if ce := (*CustomMetricError)(nil); errors.As(err, &ce) {
		return fmt.Errorf("config %w", err)
	}
	return fmt.Errorf("config %s: %w", orName(path), err)
}

// ShareConfig is the share: section.
type ShareConfig struct {
	// FrameAncestors are the origins whose pages may frame a share link (an intranet, a wiki):
	// https://host or https://host:port, or https://*.example.com for its subdomains. Every
	// other page keeps frame-ancestors 'none'. Not http: anyone on the network path can answer
	// for a plain-http origin and frame the link as that site (the OIDC issuer's rule too),
	// but for localhost, which never leaves the machine, so a wiki can be tried out locally.
	FrameAncestors []string `yaml:"frame_ancestors"`
}

// frameSource is a CSP host source naming an origin: a scheme, a host (its leftmost label may
// be *), an optional port, nothing else, so a value cannot smuggle in another directive.
var frameSource = regexp.MustCompile(`^https?://(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?$`)

// localFrame is a loopback host with an optional port, the only one http may name.
var localFrame = regexp.MustCompile(`^(localhost|127\.0\.0\.1)(:[0-9]{1,5})?$`)

func (c Config) checkShare() error {
	for i, o := range c.Share.FrameAncestors {
		if !frameSource.MatchString(o) {
			return fmt.Errorf("share.frame_ancestors[%d]: %q is not an origin such as https://wiki.example.com", i, o)
		}
		if rest, ok := strings.CutPrefix(o, "http://"); ok && !localFrame.MatchString(rest) {
			return fmt.Errorf("share.frame_ancestors[%d]: %q is plain http, which anyone on the network path can answer for: name its https:// origin (http only for localhost or 127.0.0.1)", i, o)
		}
	}
	return nil
}

// Annotation is a business-cycle period written under `annotations:` (catalog.Annotation):
// shaded on every trend chart, listed in the digest, merged with those posted over the API
// (package annotation).
type Annotation = catalog.Annotation

// AnnotationKinds are the kinds an annotation may have.
var AnnotationKinds = catalog.AnnotationKinds

// Periods returns the annotations as periods [from, the day after to), each checked: a name, a
// known kind, dates in order, a scope of the form dimension:value; an error names the file, the
// line and the field.
func (c Config) Periods() ([]chart.Period, error) {
	var out []chart.Period
	for i, a := range c.Annotations {
		field, msg := a.Check()
		if field == "" && a.Scope != "" {
			if _, err := metrics.ParseScope(a.Scope); err != nil {
				field, msg = "scope", err.Error()
			}
		}
		if field != "" {
			path := fmt.Sprintf("annotations[%d].%s", i, field)
			return nil, &catalog.FieldError{File: orName(c.path), Line: catalog.YAMLLine(c.src, path), Field: path, Msg: msg}
		}
		from, to := a.Span()
		out = append(out, chart.Period{From: from, To: to, Label: strings.TrimSpace(a.Name), Kind: a.Kind})
	}
	return out, nil
}
