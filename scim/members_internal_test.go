package scim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/elimity-com/scim"
	"github.com/elimity-com/scim/schema"
	"github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/scim/patch"
	"github.com/scimbridge/scimbridge/store"
)

// decodeOps builds operations as elimity delivers them: path parsed, value
// decoded with UseNumber.
func decodeOps(data []byte) ([]scim.PatchOperation, error) {
	var raw []struct {
		Op    string
		Path  string
		Value json.RawMessage
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	ops := make([]scim.PatchOperation, 0, len(raw))
	for _, r := range raw {
		op := scim.PatchOperation{Op: r.Op}
		if r.Path != "" {
			p, err := filter.ParsePath([]byte(r.Path))
			if err != nil {
				return nil, err
			}
			op.Path = &p
		}
		if len(r.Value) > 0 {
			dec := json.NewDecoder(bytes.NewReader(r.Value))
			dec.UseNumber()
			if err := dec.Decode(&op.Value); err != nil {
				return nil, err
			}
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// viaApplier is what the general path makes of ops: the member ids after
// patch.Apply and groupFromAttributes, or its error.
func viaApplier(g store.Group, ops []scim.PatchOperation) ([]string, error) {
	out, err := patch.Apply(groupAttributes(g), ops, patch.Schema{Core: schema.CoreGroupSchema()})
	if err != nil {
		return nil, err
	}
	if err := groupFromAttributes(&g, out); err != nil {
		return nil, err
	}
	return sortedIDs(g.Members), nil
}

func sortedIDs(ms []store.Member) []string {
	ids := memberValues(ms)
	slices.Sort(ids)
	return ids
}

func memberValues(ms []store.Member) []string {
	ids := make([]string, 0, len(ms))
	for _, m := range ms {
		ids = append(ids, m.Value)
	}
	return ids
}

// checkSame applies ops both ways to a group with members; when the fast
// path takes them, the result must be the applier's, and the input group
// must be unchanged.
func checkSame(t testing.TB, members []string, opsJSON string) (fast bool) {
	t.Helper()
	ops, err := decodeOps([]byte(opsJSON))
	if err != nil {
		return false
	}
	g := store.Group{DisplayName: "g", Attributes: map[string]any{}}
	for _, id := range members {
		g.Members = append(g.Members, store.Member{Value: id, Kind: store.KindUser, Display: "d-" + id})
	}
	before := slices.Clone(g.Members)
	want, wantErr := viaApplier(g, ops)
	got := g
	if !applyMemberOps(&got, ops, membersValueCaseExact(schema.CoreGroupSchema())) {
		if !slices.Equal(got.Members, before) {
			t.Fatalf("ops %s: refused, but the members changed", opsJSON)
		}
		return false
	}
	if !slices.Equal(g.Members, before) {
		t.Fatalf("ops %s: the input's member slice was modified", opsJSON)
	}
	if wantErr != nil {
		t.Fatalf("ops %s on %v: fast path applied them, the applier refused: %v", opsJSON, members, wantErr)
	}
	if ids := sortedIDs(got.Members); !slices.Equal(ids, want) {
		t.Fatalf("ops %s on %v:\nfast path %v\napplier   %v", opsJSON, members, ids, want)
	}
	if !slices.IsSortedFunc(got.Members, byMemberValue) {
		t.Fatalf("ops %s: members not sorted: %v", opsJSON, memberValues(got.Members))
	}
	// Members that stayed keep what the store gave them (kind, display);
	// added ones (or removed and added again) carry only their id, as
	// membersFrom makes them.
	for _, m := range got.Members {
		if i := slices.IndexFunc(before, func(b store.Member) bool { return b.Value == m.Value }); i >= 0 && m != before[i] && m != (store.Member{Value: m.Value}) {
			t.Fatalf("ops %s: member %q changed from %+v to %+v", opsJSON, m.Value, before[i], m)
		}
	}
	return true
}

func TestApplyMemberOpsKnownForms(t *testing.T) {
	base := []string{"a1", "b2", "c3"}
	for _, tc := range []struct {
		ops  string
		fast bool
	}{
		{`[{"op":"add","path":"members","value":[{"value":"d4"}]}]`, true},
		{`[{"op":"Add","path":"members","value":[{"value":"d4","display":"D"},{"value":"a1"},{"value":"d4"}]}]`, true},
		{`[{"op":"add","path":"members","value":["e5"]}]`, true},
		{`[{"op":"remove","path":"members[value eq \"b2\"]"}]`, true},
		{`[{"op":"Remove","path":"members[value eq \"B2\"]"}]`, true}, // as the applier matches it
		{`[{"op":"remove","path":"members[value eq \"zz\"]"}]`, true}, // matches nothing: no change
		{`[{"op":"remove","path":"members","value":[{"value":"a1"},{"value":"c3"}]}]`, true},
		{`[{"op":"remove","path":"members","value":[{"value":"A1"}]}]`, true},
		{`[{"op":"add","path":"members","value":[{"value":"x"}]},{"op":"remove","path":"members[value eq \"x\"]"}]`, true},
		// Not taken: the applier decides.
		{`[{"op":"remove","path":"members"}]`, false},
		{`[{"op":"replace","path":"members","value":[{"value":"a1"}]}]`, false},
		{`[{"op":"add","path":"members","value":[{"value":""}]}]`, false},
		{`[{"op":"add","path":"members","value":[{"value":7}]}]`, false},
		{`[{"op":"add","path":"members","value":{"value":"d4"}}]`, false},
		{`[{"op":"add","path":"members","value":[]}]`, false},
		{`[{"op":"remove","path":"members[value eq \"a1\" or value eq \"b2\"]"}]`, false},
		{`[{"op":"remove","path":"members[display eq \"d-a1\"]"}]`, false},
		{`[{"op":"remove","path":"members[value eq \"a1\"].display"}]`, false},
		{`[{"op":"add","path":"members","value":[{"value":"d4"}]},{"op":"replace","path":"displayName","value":"n"}]`, false},
		{`[{"op":"add","value":{"members":[{"value":"d4"}]}}]`, false},
	} {
		if got := checkSame(t, base, tc.ops); got != tc.fast {
			t.Errorf("ops %s: fast path taken = %v, want %v", tc.ops, got, tc.fast)
		}
	}
}

// Random membership PATCHes on random groups: the fast path, whenever it
// takes the operations, ends where the applier ends.
func TestApplyMemberOpsMatchesApplier(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pool := []string{"a", "A", "b", "c", "d", "e", "f0", "F0", "u-1", "u-2"}
	pick := func() string { return pool[rng.IntN(len(pool))] }
	fast := 0
	for range 3000 {
		var members []string
		for _, id := range pool {
			if rng.IntN(2) == 0 {
				members = append(members, id)
			}
		}
		var ops []string
		for range 1 + rng.IntN(3) {
			opName := []string{"add", "Add", "remove", "REMOVE"}[rng.IntN(4)]
			switch rng.IntN(3) {
			case 0:
				var vals []string
				for range 1 + rng.IntN(3) {
					vals = append(vals, fmt.Sprintf(`{"value":%q}`, pick()))
				}
				ops = append(ops, fmt.Sprintf(`{"op":%q,"path":"members","value":[%s]}`, opName, strings.Join(vals, ",")))
			case 1:
				ops = append(ops, fmt.Sprintf(`{"op":%q,"path":"members[value eq \"%s\"]"}`, opName, pick()))
			default:
				ops = append(ops, fmt.Sprintf(`{"op":%q,"path":"members","value":[%q]}`, opName, pick()))
			}
		}
		if checkSame(t, members, "["+strings.Join(ops, ",")+"]") {
			fast++
		}
	}
	if fast < 1000 {
		t.Errorf("the fast path took only %d of 3000 cases", fast)
	}
}

func FuzzApplyMemberOps(f *testing.F) {
	f.Add("a1,b2,c3", `[{"op":"add","path":"members","value":[{"value":"d4"}]}]`)
	f.Add("a1,b2", `[{"op":"remove","path":"members[value eq \"A1\"]"}]`)
	f.Add("a1", `[{"op":"remove","path":"members","value":[{"value":"a1"},"b2"]}]`)
	f.Add("", `[{"op":"add","path":"members","value":[{"VALUE":"x","value":"y"}]}]`)
	f.Fuzz(func(t *testing.T, members, ops string) {
		var ids []string
		if members != "" {
			ids = strings.Split(members, ",")
		}
		// Stored members have non-empty, distinct ids.
		ids = slices.DeleteFunc(ids, func(id string) bool { return strings.TrimSpace(id) == "" })
		slices.Sort(ids)
		ids = slices.Compact(ids)
		checkSame(t, ids, ops)
	})
}

// BenchmarkGroupMemberPatch is the work done inside the store's writer for
// one Okta membership PATCH of a 1000-member group: the general applier
// against the fast path.
func BenchmarkGroupMemberPatch(b *testing.B) {
	g := store.Group{DisplayName: "g", Attributes: map[string]any{}}
	for i := range 1000 {
		id := fmt.Sprintf("%08d-0000-4000-8000-000000000000", i*2)
		g.Members = append(g.Members, store.Member{Value: id, Kind: store.KindUser, Display: "User " + id})
	}
	ops, err := decodeOps([]byte(`[{"op":"add","path":"members","value":[{"value":"00000001-0000-4000-8000-000000000000"}]}]`))
	if err != nil {
		b.Fatal(err)
	}
	sch := patch.Schema{Core: schema.CoreGroupSchema()}
	b.Run("applier", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			next := g
			next.Members = slices.Clone(g.Members)
			out, err := patch.Apply(groupAttributes(next), ops, sch)
			if err != nil {
				b.Fatal(err)
			}
			if err := groupFromAttributes(&next, out); err != nil || len(next.Members) != 1001 {
				b.Fatal(err, len(next.Members))
			}
		}
	})
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			next := g
			next.Members = slices.Clone(g.Members)
			if !applyMemberOps(&next, ops, false) || len(next.Members) != 1001 {
				b.Fatal("not applied")
			}
		}
	})
}
