// Package query turns SCIM filters (RFC 7644 section 3.4.2.2) into
// store.Filter values the store runs as SQL.
//
// elimity-com/scim parses and loosely validates the filter of a list request
// and hands the handler the AST (scim2/filter-parser). Translate checks that
// AST against the resource schema, canonicalises attribute names, types the
// compare values and rejects everything the store cannot evaluate with a 400
// invalidFilter ScimError whose detail names the culprit. Prepare fixes the
// non-RFC filter text IdPs send (Entra's `emails[type eq "work"].value eq
// "x"`) before any parser sees it; Parse is Prepare + parse + Translate.
package query

import (
	"fmt"
	"net/http"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/schema"
	"github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/store"
)

// Limits that keep hostile filters cheap. A filter is rejected (400) before
// any work when it exceeds one of them.
const (
	// MaxFilterBytes is the longest raw filter Prepare and Parse accept.
	MaxFilterBytes = 4096
	// MaxDepth is the deepest nesting accepted: each not, value path,
	// bracket, parenthesis and each switch between and/or adds a level. A
	// chain of one operator (`a or b or c ...`) counts once, so long ORs of
	// ids stay legal.
	MaxDepth = 50
	// MaxComparisons is the most comparisons one filter may hold. It keeps
	// the SQL a backend generates well inside SQLite's expression depth
	// limit (1000).
	MaxComparisons = 256
)

// Schema describes a resource type for translation: the core schema and its
// extensions (elimity schema.Schema).
type Schema struct {
	Kind       store.ResourceKind
	Core       schema.Schema
	Extensions []schema.Schema
}

// Translate converts a parsed SCIM filter into a store.Filter. It returns an
// elimity errors.ScimError VALUE with status 400 and scimType invalidFilter
// (detail naming the attribute) for anything unsupported.
func Translate(expr filter.Expression, s Schema) (store.Filter, error) {
	t := translator{s: s}
	f, err := t.expr(expr, 0, "", nil)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// invalidFilter builds the error every rejection returns: a ScimError value
// (elimity turns a pointer into a 500) with status 400 and scimType
// invalidFilter.
func invalidFilter(format string, args ...any) error {
	return scimerrors.ScimError{
		ScimType: scimerrors.ScimTypeInvalidFilter,
		Detail:   fmt.Sprintf(format, args...),
		Status:   http.StatusBadRequest,
	}
}

type translator struct {
	s           Schema
	comparisons int
}

// expr translates one node. depth counts the nesting levels seen so far;
// parentOp is the logical operator of the enclosing and/or node ("" if none)
// so that chains of one operator, which the parser nests left-deep, count as
// a single level. in is the value path whose brackets e sits in, or nil.
func (t *translator) expr(e filter.Expression, depth int, parentOp filter.LogicalOperator, in *resolved) (store.Filter, error) {
	if depth > MaxDepth {
		return nil, invalidFilter("filter nests deeper than %d levels", MaxDepth)
	}
	switch e := e.(type) {
	case *filter.AttributeExpression:
		if e == nil {
			return nil, invalidFilter("empty filter expression")
		}
		t.comparisons++
		if t.comparisons > MaxComparisons {
			return nil, invalidFilter("filter has more than %d comparisons", MaxComparisons)
		}
		var r resolved
		var err error
		if in != nil {
			r, err = in.sub(e.AttributePath)
		} else {
			r, err = t.resolve(e.AttributePath)
		}
		if err != nil {
			return nil, err
		}
		return compare(r, e.Operator, e.CompareValue)
	case *filter.LogicalExpression:
		if e == nil || e.Left == nil || e.Right == nil {
			return nil, invalidFilter("empty filter expression")
		}
		op := filter.LogicalOperator(strings.ToLower(string(e.Operator)))
		if op != filter.AND && op != filter.OR {
			return nil, invalidFilter("unknown logical operator %q", e.Operator)
		}
		d := depth
		if op != parentOp {
			d++
		}
		left, err := t.expr(e.Left, d, op, in)
		if err != nil {
			return nil, err
		}
		right, err := t.expr(e.Right, d, op, in)
		if err != nil {
			return nil, err
		}
		if op == filter.AND {
			return store.And{Left: left, Right: right}, nil
		}
		return store.Or{Left: left, Right: right}, nil
	case *filter.NotExpression:
		if e == nil || e.Expression == nil {
			return nil, invalidFilter("empty filter expression")
		}
		inner, err := t.expr(e.Expression, depth+1, "", in)
		if err != nil {
			return nil, err
		}
		return store.Not{Inner: inner}, nil
	case *filter.ValuePath:
		if in != nil {
			return nil, invalidFilter("value paths cannot be nested (inside %s[...])", in.path.String())
		}
		if e == nil || e.ValueFilter == nil {
			return nil, invalidFilter("empty filter expression")
		}
		return t.valuePath(e, depth+1)
	case nil:
		if in != nil {
			return nil, invalidFilter("empty filter expression")
		}
		return nil, invalidFilter("empty filter")
	default:
		return nil, invalidFilter("unsupported filter expression %T", e)
	}
}

// valuePath translates `attr[inner]`. Inner comparisons name sub-attributes
// of attr; their store paths carry attr's Schema and Name and the
// sub-attribute in Sub, as store.ValuePath documents.
func (t *translator) valuePath(e *filter.ValuePath, depth int) (store.Filter, error) {
	if e.AttributePath.SubAttribute != nil {
		return nil, invalidFilter("value path %q: a sub-attribute may not precede the [filter]", e.AttributePath.String())
	}
	r, err := t.resolve(e.AttributePath)
	if err != nil {
		return nil, err
	}
	if r.leaf.AttributeType() != "complex" || !r.leaf.MultiValued() {
		return nil, invalidFilter("attribute %q is not a multi-valued complex attribute and takes no [value filter]", r.path.String())
	}
	inner, err := t.expr(e.ValueFilter, depth, "", &r)
	if err != nil {
		return nil, err
	}
	if r.special {
		// members[...] and groups[...] map to the member/group id columns,
		// which have one comparable sub-attribute (value): "some element
		// matches A or B" equals "some element matches A" or "some element
		// matches B", so an OR of comparisons flattens to the plain paths the
		// store documents. AND and NOT would need one element to satisfy
		// several conditions, which the store cannot express; reject them.
		flat, ok := flattenOr(inner)
		if !ok {
			return nil, invalidFilter("%s[...] supports only comparisons of value joined by or", r.path.Name)
		}
		return flat, nil
	}
	return store.ValuePath{Path: r.path, Inner: inner}, nil
}

func flattenOr(f store.Filter) (store.Filter, bool) {
	switch f := f.(type) {
	case store.Compare:
		return f, true
	case store.Or:
		l, ok := flattenOr(f.Left)
		if !ok {
			return nil, false
		}
		r, ok := flattenOr(f.Right)
		if !ok {
			return nil, false
		}
		return store.Or{Left: l, Right: r}, true
	default:
		return nil, false
	}
}
