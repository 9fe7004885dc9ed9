package query

import (
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/store"
)

// evalTime evaluates a filter shownPrecision built against a stored instant.
func evalTime(t *testing.T, f store.Filter, stored time.Time) bool {
	t.Helper()
	switch f := f.(type) {
	case store.And:
		return evalTime(t, f.Left, stored) && evalTime(t, f.Right, stored)
	case store.Or:
		return evalTime(t, f.Left, stored) || evalTime(t, f.Right, stored)
	case store.Compare:
		if f.Op == store.OpPr {
			return true
		}
		v := f.Value.(time.Time)
		switch f.Op {
		case store.OpEq:
			return stored.Equal(v)
		case store.OpNe:
			return !stored.Equal(v)
		case store.OpGt:
			return stored.After(v)
		case store.OpGe:
			return !stored.Before(v)
		case store.OpLt:
			return stored.Before(v)
		case store.OpLe:
			return !stored.After(v)
		}
	}
	t.Fatalf("unexpected filter %#v", f)
	return false
}

// shownPrecision's ranges on the stored nanoseconds agree with comparing
// the value as shown (whole seconds, truncated) with t, for every operator,
// whole and fractional t, and stored instants at and around the edges.
func TestShownPrecisionComparesTheShownValue(t *testing.T) {
	base := time.Date(2026, 11, 29, 2, 15, 5, 0, time.UTC)
	ts := []time.Time{base, base.Add(500 * time.Millisecond), base.Add(time.Nanosecond), base.Add(-time.Nanosecond),
		base.In(time.FixedZone("", -7*3600)).Add(123456789)}
	var stored []time.Time
	for _, d := range []time.Duration{-2 * time.Second, -time.Second, -time.Nanosecond, 0, time.Nanosecond, 499 * time.Millisecond,
		500 * time.Millisecond, time.Second - time.Nanosecond, time.Second, time.Second + time.Nanosecond, 2 * time.Second} {
		stored = append(stored, base.Add(d))
	}
	ref := map[store.Operator]func(shown, t time.Time) bool{
		store.OpEq: func(s, t time.Time) bool { return s.Equal(t) },
		store.OpNe: func(s, t time.Time) bool { return !s.Equal(t) },
		store.OpGt: func(s, t time.Time) bool { return s.After(t) },
		store.OpGe: func(s, t time.Time) bool { return !s.Before(t) },
		store.OpLt: func(s, t time.Time) bool { return s.Before(t) },
		store.OpLe: func(s, t time.Time) bool { return !s.After(t) },
	}
	// A value with non-zero digits beyond the nanoseconds (exact false)
	// lies strictly between tv and tv+1ns: shown values (whole seconds)
	// compare with it as with tv+½ns.
	inexact := map[store.Operator]func(shown, t time.Time) bool{
		store.OpEq: func(time.Time, time.Time) bool { return false },
		store.OpNe: func(time.Time, time.Time) bool { return true },
		store.OpGt: func(s, t time.Time) bool { return s.After(t) },
		store.OpGe: func(s, t time.Time) bool { return s.After(t) },
		store.OpLt: func(s, t time.Time) bool { return !s.After(t) },
		store.OpLe: func(s, t time.Time) bool { return !s.After(t) },
	}
	for _, refs := range []struct {
		exact bool
		want  map[store.Operator]func(shown, t time.Time) bool
	}{{true, ref}, {false, inexact}} {
		for op, want := range refs.want {
			for _, tv := range ts {
				f := shownPrecision(store.Compare{Path: store.AttrPath{Name: "meta", Sub: "lastModified"}, Op: op, Value: tv}, tv, refs.exact)
				for _, s := range stored {
					shown := s.Truncate(time.Second)
					if got := evalTime(t, f, s); got != want(shown, tv) {
						t.Errorf("%s %s (exact %v): stored %s (shown %s) matched %v, want %v (filter %+v)", op,
							tv.Format(time.RFC3339Nano), refs.exact, s.Format(time.RFC3339Nano), shown.Format(time.RFC3339), got, !got, f)
					}
				}
			}
		}
	}
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"2026-11-29T03:06:19Z", false}, {"2026-11-29T03:06:19.123456789Z", false}, {"2026-11-29T03:06:19.1234567890Z", false},
		{"2026-11-29T03:06:19.0000000001Z", true}, {"2026-11-29T03:06:19.0000000001+02:00", true}, {"2026-11-29T03:06:19.", false},
	} {
		if got := beyondNanoseconds(c.in); got != c.want {
			t.Errorf("beyondNanoseconds(%q) = %v", c.in, got)
		}
	}

}
