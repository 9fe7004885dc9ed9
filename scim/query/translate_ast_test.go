package query

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/store"
)

// TestTranslateAST feeds ASTs the way elimity hands them over
// (filter.ParseFilter: ints through float64) and hand-built ones a
// parser never produces.
func TestTranslateAST(t *testing.T) {
	u := userSchema()
	level := custom("level")
	str := func(s string) *string { return &s }
	attr := func(name, op string, v any) *filter.AttributeExpression {
		return &filter.AttributeExpression{AttributePath: filter.AttributePath{AttributeName: name}, Operator: filter.CompareOperator(op), CompareValue: v}
	}
	levelAttr := func(op string, v any) *filter.AttributeExpression {
		return &filter.AttributeExpression{AttributePath: filter.AttributePath{URIPrefix: str(customURN), AttributeName: "level"}, Operator: filter.CompareOperator(op), CompareValue: v}
	}
	parsed := func(s string) filter.Expression {
		t.Helper()
		e, err := filter.ParseFilter([]byte(s))
		if err != nil {
			t.Fatalf("ParseFilter(%q): %v", s, err)
		}
		return e
	}
	ok := []struct {
		name string
		expr filter.Expression
		want store.Filter
	}{
		{"int from ParseFilter", parsed(`urn:example:params:scim:schemas:extension:custom:2.0:User:level eq 5`), cmpOp(level, store.OpEq, int64(5), false)},
		{"int for decimal", parsed(`urn:example:params:scim:schemas:extension:custom:2.0:User:score eq 5`), cmpOp(custom("score"), store.OpEq, float64(5), false)},
		{"float for decimal", parsed(`urn:example:params:scim:schemas:extension:custom:2.0:User:score eq 2.25`), cmpOp(custom("score"), store.OpEq, 2.25, false)},
		{"escaped string from ParseFilter", parsed(`userName eq "a\"b"`), cmpOp(userName, store.OpEq, `a"b`, false)},
		{"upper-case operator", attr("userName", "EQ", "a"), cmpOp(userName, store.OpEq, "a", false)},
		{"int64 value", levelAttr("eq", int64(7)), cmpOp(level, store.OpEq, int64(7), false)},
		{"json.Number integer", levelAttr("eq", json.Number("12")), cmpOp(level, store.OpEq, int64(12), false)},
		{"upper-case logical operator", &filter.LogicalExpression{Left: attr("title", "pr", nil), Right: attr("userName", "eq", "a"), Operator: "AND"},
			store.And{Left: cmpOp(title, store.OpPr, nil, false), Right: cmpOp(userName, store.OpEq, "a", false)}},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Translate(tc.expr, u)
			if err != nil {
				t.Fatalf("Translate: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}

	nested := &filter.ValuePath{
		AttributePath: filter.AttributePath{AttributeName: "emails"},
		ValueFilter:   &filter.ValuePath{AttributePath: filter.AttributePath{AttributeName: "type"}, ValueFilter: attr("value", "eq", "x")},
	}
	bad := []struct {
		name   string
		expr   filter.Expression
		detail string
	}{
		{"nil", nil, "empty filter"},
		{"nil attribute expression", (*filter.AttributeExpression)(nil), "empty filter expression"},
		{"logical without left", &filter.LogicalExpression{Right: attr("title", "pr", nil), Operator: filter.AND}, "empty filter expression"},
		{"not without inner", &filter.NotExpression{}, "empty filter expression"},
		{"value path without filter", &filter.ValuePath{AttributePath: filter.AttributePath{AttributeName: "emails"}}, "empty filter expression"},
		{"unknown operator", attr("userName", "xx", "a"), `unknown operator "xx" for attribute "userName"`},
		{"unknown logical operator", &filter.LogicalExpression{Left: attr("title", "pr", nil), Right: attr("title", "pr", nil), Operator: "xor"}, `unknown logical operator "xor"`},
		{"nested value path", nested, "value paths cannot be nested (inside emails[...])"},
		{"int past 2^53 from ParseFilter", parsed(`urn:example:params:scim:schemas:extension:custom:2.0:User:level eq 9007199254740993`), `attribute "urn:example:params:scim:schemas:extension:custom:2.0:User:level": integer 9007199254740992 is out of range`},
		{"int past int64 from ParseFilter", parsed(`urn:example:params:scim:schemas:extension:custom:2.0:User:level eq 100000000000000000000`), `attribute "urn:example:params:scim:schemas:extension:custom:2.0:User:level": integer -9223372036854775808 is out of range`},
		{"float for integer from ParseFilter", parsed(`urn:example:params:scim:schemas:extension:custom:2.0:User:level eq 1.5`), `attribute "urn:example:params:scim:schemas:extension:custom:2.0:User:level" needs an integer value, got number`},
		{"json.Number for string", attr("userName", "eq", json.Number("5")), `attribute "userName" needs a string value, got number`},
		{"unsupported Go type", attr("userName", "eq", []string{"a"}), `attribute "userName" needs a string value, got an unsupported value`},
		{"value path on special with not", parsed(`groups[not (value eq "g")]`), `groups[...] supports only comparisons of value joined by or`},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Translate(tc.expr, u)
			if got != nil {
				t.Errorf("Translate = %#v, want nil", got)
			}
			checkInvalidFilter(t, err, tc.detail)
		})
	}
}

// TestTranslateDepth checks the nesting limit on ASTs that did not pass
// through Prepare (elimity parses the query string itself).
func TestTranslateDepth(t *testing.T) {
	u := userSchema()
	leaf := func() filter.Expression {
		return &filter.AttributeExpression{AttributePath: filter.AttributePath{AttributeName: "title"}, Operator: filter.PR}
	}
	alternating := func(levels int) filter.Expression {
		e := leaf()
		for i := 0; i < levels; i++ {
			op := filter.AND
			if i%2 == 1 {
				op = filter.OR
			}
			e = &filter.LogicalExpression{Left: leaf(), Right: e, Operator: op}
		}
		return e
	}
	nots := func(levels int) filter.Expression {
		e := leaf()
		for i := 0; i < levels; i++ {
			e = &filter.NotExpression{Expression: e}
		}
		return e
	}
	chain := func(n int) filter.Expression {
		e := leaf()
		for i := 1; i < n; i++ {
			e = &filter.LogicalExpression{Left: e, Right: leaf(), Operator: filter.OR}
		}
		return e
	}
	if _, err := Translate(alternating(MaxDepth), u); err != nil {
		t.Errorf("%d alternating levels: %v", MaxDepth, err)
	}
	_, err := Translate(alternating(MaxDepth+1), u)
	checkInvalidFilter(t, err, "filter nests deeper than 50 levels")
	if _, err := Translate(nots(MaxDepth), u); err != nil {
		t.Errorf("%d nots: %v", MaxDepth, err)
	}
	_, err = Translate(nots(MaxDepth+1), u)
	checkInvalidFilter(t, err, "filter nests deeper than 50 levels")
	// A long chain of one operator is one level, however the parser nests it.
	f, err := Translate(chain(MaxComparisons), u)
	if err != nil {
		t.Fatalf("chain of %d: %v", MaxComparisons, err)
	}
	if n := countCompares(f); n != MaxComparisons {
		t.Errorf("chain has %d comparisons, want %d", n, MaxComparisons)
	}
	_, err = Translate(chain(MaxComparisons+1), u)
	checkInvalidFilter(t, err, "filter has more than 256 comparisons")
	// A hostile million-level AST is refused without walking it all.
	_, err = Translate(nots(1_000_000), u)
	checkInvalidFilter(t, err, "filter nests deeper than 50 levels")
}
