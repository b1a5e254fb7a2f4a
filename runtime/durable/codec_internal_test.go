package durable

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
)

type codecPoint struct {
	X, Y int
	Tag  string
}

func codecTarget(ctx context.Context, s string, n int, p *codecPoint, q codecPoint, tags []string) error {
	return nil
}

func TestDecodeArgs(t *testing.T) {
	t.Parallel()
	def, err := newFuncDef("activity", "codecTarget", reflect.ValueOf(codecTarget), false)
	require.NoError(t, err)
	tests := []struct {
		name, raw, wantErr string
		want               []any
	}{
		{name: "AllKinds", raw: `["a",2,{"X":1,"Y":2,"Tag":"p"},{"X":3},["t"]]`,
			want: []any{"a", 2, &codecPoint{X: 1, Y: 2, Tag: "p"}, codecPoint{X: 3}, []string{"t"}}},
		{name: "NullsLeaveZeroValues", raw: `[null,null,null,null,null]`,
			want: []any{"", 0, (*codecPoint)(nil), codecPoint{}, []string(nil)}},
		{name: "TooFew", raw: `["a",2]`, wantErr: "got 2 arguments, want 5"},
		{name: "TooMany", raw: `["a",2,null,{},[],1]`, wantErr: "got 6 arguments, want 5"},
		{name: "WrongType", raw: `["a","two",null,{},[]]`, wantErr: "decode argument 2 of codecTarget into int"},
		{name: "NotAnArray", raw: `{"a":1}`, wantErr: "decode arguments of codecTarget"},
		{name: "Empty", raw: ``, wantErr: "got 0 arguments, want 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vals, err := decodeArgs(def, json.RawMessage(tt.raw))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Len(t, vals, len(tt.want))
			for i, v := range vals {
				require.Equal(t, tt.want[i], v.Interface(), "argument %d", i+1)
			}
		})
	}
}

func BenchmarkDecodeArgs(b *testing.B) {
	def, err := newFuncDef("activity", "codecTarget", reflect.ValueOf(codecTarget), false)
	require.NoError(b, err)
	raw := json.RawMessage(`["order-1234",2,{"X":1,"Y":2,"Tag":"p"},{"X":3,"Y":4,"Tag":"q"},["t","u"]]`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeArgs(def, raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeArgsEach(b *testing.B) {
	def, err := newFuncDef("activity", "codecTarget", reflect.ValueOf(codecTarget), false)
	require.NoError(b, err)
	raw := json.RawMessage(`["order-1234",2,{"X":1,"Y":2,"Tag":"p"},{"X":3,"Y":4,"Tag":"q"},["t","u"]]`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeArgsEach(def, def.params(), raw); err != nil {
			b.Fatal(err)
		}
	}
}
