package transform

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
)

// maxTemplateOutput caps what one template may write: every account field
// Atlassian takes is at most 255 characters, so more is a runaway template.
const maxTemplateOutput = 4096

// allowedFunc reports whether a template may call name, besides the actions
// if/with/range/else. Builtins not listed (printf, call, index, slice, html,
// js, ...) are refused at compile time: printf can allocate without bound
// ("%*d"), call runs functions the data would have to supply, and none is
// needed to build a name.
func allowedFunc(name string) bool {
	switch name {
	case "attr", "lower", "upper", "trim", "strip_domain", "coalesce", "and", "or", "not", "eq", "ne", "len":
		return true
	}
	return false
}

// tmpl is a compiled, sandboxed template: every field reference (.name.givenName,
// $.emails) was rewritten into a call of the path resolver, so missing
// attributes read as "" (text/template would print "<no value>" or fail on a
// missing parent map), names match case-insensitively, and value filters
// work through attr.
type tmpl struct {
	src string
	t   *template.Template
}

func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"attr":         attrFunc,
		"_items":       itemsFunc,
		"lower":        func(v any) (string, error) { s, err := textOf(v); return strings.ToLower(s), err },
		"upper":        func(v any) (string, error) { s, err := textOf(v); return strings.ToUpper(s), err },
		"trim":         func(v any) (string, error) { s, err := textOf(v); return strings.TrimSpace(s), err },
		"strip_domain": func(v any) (string, error) { s, err := textOf(v); return stripDomain(s), err },
		"coalesce":     coalesce,
	}
}

// compileTemplate parses src and checks it against the sandbox rules.
func compileTemplate(src string) (*tmpl, error) {
	if strings.TrimSpace(src) == "" {
		return nil, errors.New("empty template")
	}
	t, err := template.New("template").Funcs(templateFuncs()).Parse(src)
	if err != nil {
		return nil, err
	}
	if len(t.Templates()) != 1 || t.Tree == nil || t.Root == nil {
		return nil, errors.New("define and block are not allowed")
	}
	if err := sandboxList(t.Root, false); err != nil {
		return nil, err
	}
	return &tmpl{src: src, t: t}, nil
}

// exec runs the template over the user and returns its output, trimmed.
func (t *tmpl) exec(user map[string]any) (string, error) {
	w := &limitedWriter{max: maxTemplateOutput}
	if err := t.t.Execute(w, user); err != nil {
		return "", err
	}
	return strings.TrimSpace(string(w.buf)), nil
}

type limitedWriter struct {
	buf []byte
	max int
}

var errTemplateTooLong = fmt.Errorf("template output exceeds %d bytes", maxTemplateOutput)

// Write appends p, or fails once the output would pass the cap.
func (w *limitedWriter) Write(p []byte) (int, error) {
	if len(w.buf)+len(p) > w.max {
		return 0, errTemplateTooLong
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// sandboxList checks and rewrites a list of nodes; inRange is true inside a
// range body.
func sandboxList(l *parse.ListNode, inRange bool) error {
	if l == nil {
		return nil
	}
	for _, n := range l.Nodes {
		if err := sandboxNode(n, inRange); err != nil {
			return err
		}
	}
	return nil
}

func sandboxNode(n parse.Node, inRange bool) error {
	switch n := n.(type) {
	case *parse.TextNode, *parse.CommentNode, *parse.BreakNode, *parse.ContinueNode:
		return nil
	case *parse.ActionNode:
		return sandboxPipe(n.Pipe)
	case *parse.IfNode:
		return sandboxBranch(&n.BranchNode, inRange)
	case *parse.WithNode:
		return sandboxBranch(&n.BranchNode, inRange)
	case *parse.RangeNode:
		// range may only walk an attribute (a list or map of the user), never
		// a number: {{range 1000000000}} would spin for minutes. Nor may
		// ranges nest: the work would grow as the attribute's size to the
		// power of the depth, and the IdP decides the size.
		if inRange {
			return errors.New("range inside range is not allowed")
		}
		p := n.Pipe
		if len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
			return errors.New("range takes one attribute, such as {{range .emails}}")
		}
		var base parse.Node
		path := ""
		switch a := p.Cmds[0].Args[0].(type) {
		case *parse.FieldNode:
			base, path = &parse.DotNode{NodeType: parse.NodeDot, Pos: a.Pos}, strings.Join(a.Ident, ".")
		case *parse.VariableNode:
			base, path = &parse.VariableNode{NodeType: parse.NodeVariable, Pos: a.Pos, Ident: a.Ident[:1]}, strings.Join(a.Ident[1:], ".")
		case *parse.DotNode:
			base = a
		default:
			return errors.New("range takes one attribute, such as {{range .emails}}")
		}
		p.Cmds[0].Args[0] = call("_items", base, path, p.Position())
		if err := sandboxList(n.List, true); err != nil {
			return err
		}
		return sandboxList(n.ElseList, inRange)
	case *parse.TemplateNode:
		return errors.New("{{template}} is not allowed")
	}
	return fmt.Errorf("unsupported template element %s", n)
}

func sandboxBranch(b *parse.BranchNode, inRange bool) error {
	if err := sandboxPipe(b.Pipe); err != nil {
		return err
	}
	if err := sandboxList(b.List, inRange); err != nil {
		return err
	}
	return sandboxList(b.ElseList, inRange)
}

func sandboxPipe(p *parse.PipeNode) error {
	if p == nil {
		return nil
	}
	for _, c := range p.Cmds {
		if err := sandboxCmd(c); err != nil {
			return err
		}
	}
	return nil
}

func sandboxCmd(c *parse.CommandNode) error {
	for i, arg := range c.Args {
		switch a := arg.(type) {
		case *parse.IdentifierNode:
			if !allowedFunc(a.Ident) {
				return fmt.Errorf("function %q is not allowed (allowed: attr, lower, upper, trim, strip_domain, coalesce, and, or, not, eq, ne, len)", a.Ident)
			}
		case *parse.FieldNode:
			if i == 0 && len(c.Args) > 1 {
				return fmt.Errorf("%s is an attribute and takes no arguments", a)
			}
			c.Args[i] = call("attr", &parse.DotNode{NodeType: parse.NodeDot, Pos: a.Pos}, strings.Join(a.Ident, "."), a.Pos)
		case *parse.VariableNode:
			if len(a.Ident) > 1 {
				if i == 0 && len(c.Args) > 1 {
					return fmt.Errorf("%s is an attribute and takes no arguments", a)
				}
				base := &parse.VariableNode{NodeType: parse.NodeVariable, Pos: a.Pos, Ident: a.Ident[:1]}
				c.Args[i] = call("attr", base, strings.Join(a.Ident[1:], "."), a.Pos)
			}
		case *parse.ChainNode:
			if i == 0 && len(c.Args) > 1 {
				return fmt.Errorf("%s is an attribute and takes no arguments", a)
			}
			inner, ok := a.Node.(*parse.PipeNode)
			if !ok {
				return fmt.Errorf("unsupported expression %s", a)
			}
			if err := sandboxPipe(inner); err != nil {
				return err
			}
			c.Args[i] = call("attr", inner, strings.Join(a.Field, "."), a.Pos)
		case *parse.PipeNode:
			if err := sandboxPipe(a); err != nil {
				return err
			}
		case *parse.DotNode, *parse.StringNode, *parse.NumberNode, *parse.BoolNode, *parse.NilNode:
		default:
			return fmt.Errorf("unsupported expression %s", a)
		}
	}
	return nil
}

// call builds the parse tree of `(fn base "path")`.
func call(fn string, base parse.Node, path string, pos parse.Pos) *parse.PipeNode {
	return &parse.PipeNode{NodeType: parse.NodePipe, Pos: pos, Cmds: []*parse.CommandNode{{
		NodeType: parse.NodeCommand, Pos: pos,
		Args: []parse.Node{
			parse.NewIdentifier(fn).SetPos(pos),
			base,
			&parse.StringNode{NodeType: parse.NodeString, Pos: pos, Quoted: strconv.Quote(path), Text: path},
		},
	}}}
}

// attrFunc is the template function attr: {{attr . "emails[type eq \"work\"].value"}}.
// It resolves a path under v (the user, or an element inside range/with) and
// returns the raw value, or "" when it is absent, so that missing attributes
// print nothing and test false.
func attrFunc(v any, path string) (any, error) {
	if path == "" {
		if v == nil {
			return "", nil
		}
		return v, nil
	}
	p, err := parsePath(path)
	if err != nil {
		return nil, fmt.Errorf("attr %q: %w", path, err)
	}
	x, ok := p.lookup(v)
	if !ok {
		return "", nil
	}
	return x, nil
}

// itemsFunc is what range walks: the attribute when it is a list or a map,
// otherwise nothing.
func itemsFunc(v any, path string) (any, error) {
	x, err := attrFunc(v, path)
	if err != nil {
		return nil, err
	}
	if l, ok := asList(x); ok {
		return l, nil
	}
	if m, ok := asMap(x); ok {
		return m, nil
	}
	return []any{}, nil
}

// textOf turns a template value into text for the string functions.
func textOf(v any) (string, error) {
	if v == nil {
		return "", nil
	}
	if s, ok := scalarString(v); ok {
		return s, nil
	}
	return "", fmt.Errorf("want text, got a %T", v)
}

// coalesce returns its first argument that is not empty or blank text.
func coalesce(args ...any) any {
	for _, a := range args {
		if a == nil {
			continue
		}
		if s, ok := a.(string); ok && strings.TrimSpace(s) == "" {
			continue
		}
		return a
	}
	return ""
}
