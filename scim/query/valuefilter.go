package query

import (
	"strconv"
	"strings"

	"github.com/scim2/filter-parser/v2"
)

// valueFilterPlaceholder names the stand-in comparison a bracket's content
// is replaced with while the rest of the filter is parsed. It is a valid
// ATTRNAME no schema has.
const valueFilterPlaceholder = "scimbridgeValueFilter"

// parseValueFilters parses a filter whose value filters (attr[...]) the
// parser cannot read. Its grammar takes one comparison, two joined by and or
// or, or not(...) between the brackets, while RFC 7644's valFilter is any
// filter: `emails[type eq "work" or type eq "home" or type eq "other"]` and
// `emails[type eq "work" and (value co "a" or value co "b")]` were refused as
// invalid syntax. Each bracket's content is parsed as a filter of its own,
// the filter with stand-ins in the brackets is parsed, and the contents are
// put back into their value paths. text has passed Prepare.
func parseValueFilters(text string) (filter.Expression, bool) {
	toks, err := lex(text)
	if err != nil {
		return nil, false
	}
	var outer strings.Builder
	var inners []filter.Expression
	for i := 0; i < len(toks); i++ {
		if toks[i].kind != tokLBrack {
			outer.WriteString(toks[i].text)
			continue
		}
		var inner strings.Builder
		j := i + 1
		for ; j < len(toks) && toks[j].kind != tokRBrack; j++ {
			if toks[j].kind == tokLBrack {
				return nil, false // value paths do not nest
			}
			inner.WriteString(toks[j].text)
		}
		if j == len(toks) {
			return nil, false
		}
		e, err := filter.ParseFilterNumber([]byte(strings.TrimSpace(inner.String())))
		if err != nil {
			return nil, false
		}
		outer.WriteString("[" + valueFilterPlaceholder + strconv.Itoa(len(inners)) + " pr]")
		inners = append(inners, e)
		i = j
	}
	if len(inners) == 0 {
		return nil, false
	}
	expr, err := filter.ParseFilterNumber([]byte(outer.String()))
	if err != nil {
		return nil, false
	}
	return putBack(expr, inners)
}

// putBack replaces every stand-in value filter in e by its parsed content;
// false if a stand-in is where no value filter can be.
func putBack(e filter.Expression, inners []filter.Expression) (filter.Expression, bool) {
	switch e := e.(type) {
	case *filter.ValuePath:
		ae, ok := e.ValueFilter.(*filter.AttributeExpression)
		if !ok || ae == nil {
			return e, true
		}
		n, isStandIn := strings.CutPrefix(ae.AttributePath.AttributeName, valueFilterPlaceholder)
		if !isStandIn {
			return e, true
		}
		i, err := strconv.Atoi(n)
		if err != nil || i < 0 || i >= len(inners) {
			return nil, false
		}
		vp := *e
		vp.ValueFilter = inners[i]
		return &vp, true
	case *filter.LogicalExpression:
		if e == nil {
			return e, true
		}
		l, ok := putBack(e.Left, inners)
		if !ok {
			return nil, false
		}
		r, ok := putBack(e.Right, inners)
		if !ok {
			return nil, false
		}
		le := *e
		le.Left, le.Right = l, r
		return &le, true
	case *filter.NotExpression:
		if e == nil {
			return e, true
		}
		in, ok := putBack(e.Expression, inners)
		if !ok {
			return nil, false
		}
		ne := *e
		ne.Expression = in
		return &ne, true
	case *filter.AttributeExpression:
		if e != nil && strings.HasPrefix(e.AttributePath.AttributeName, valueFilterPlaceholder) {
			return nil, false
		}
	}
	return e, true
}
