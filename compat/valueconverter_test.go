package compat_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/durablego/toolkit/compat"
)

// box is what a program's data converter serializes itself: boxConverter
// writes its label in upper case and rebuilds seen on decoding, as the pso
// sample's converter rebuilds an unexported field.
type box struct {
	Label string
	Inner *box `json:",omitempty"`
	seen  bool
}

// The methods migrate convert writes for a type its converter singles out.
func (v box) MarshalJSON() ([]byte, error) {
	type plain box
	return compat.MarshalValue(boxConverter{}, v, plain(v))
}

func (v *box) UnmarshalJSON(b []byte) error {
	type plain box
	return compat.UnmarshalValue(boxConverter{}, b, v, (*plain)(v))
}

// boxConverter serializes a box itself; its default branch (and its box
// branch, for the box within) uses encoding/json.
type boxConverter struct{ converter.DataConverter }

func (boxConverter) ToPayload(v any) (*commonpb.Payload, error) {
	var data []byte
	var err error
	switch t := v.(type) {
	case box:
		// encoding/json on the box itself, and on the box within: the
		// methods must not run the converter again.
		data, err = json.Marshal(struct {
			Upper string
			Box   box
		}{strings.ToUpper(t.Label), t})
	default:
		data, err = json.Marshal(v)
	}
	return &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("box")}, Data: data}, err
}

func (boxConverter) FromPayload(p *commonpb.Payload, ptr any) error {
	switch t := ptr.(type) {
	case *box:
		var in struct {
			Upper string
			Box   box
		}
		if err := json.Unmarshal(p.Data, &in); err != nil {
			return err
		}
		*t = in.Box
		t.Label = strings.ToLower(in.Upper)
		t.seen = true
		return nil
	}
	return json.Unmarshal(p.Data, ptr)
}

func TestMarshalValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   box
		// want is what decoding the encoding gives.
		want box
		// payload is the payload's data in the encoding, "" when the
		// encoding is plain JSON.
		payload string
	}{{
		name:    "the converter's payload, decoded by the converter",
		in:      box{Label: "a"},
		want:    box{Label: "a", seen: true},
		payload: `{"Upper":"A","Box":{"Label":"a"}}`,
	}, {
		name:    "a box within one is plain JSON inside the converter's payload, as under Temporal",
		in:      box{Label: "a", Inner: &box{Label: "b"}},
		want:    box{Label: "a", Inner: &box{Label: "b"}, seen: true},
		payload: `{"Upper":"A","Box":{"Label":"a","Inner":{"Label":"b"}}}`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(tt.in)
			require.NoError(t, err)
			var stored struct {
				Metadata map[string][]byte
				Data     []byte
			}
			require.NoError(t, json.Unmarshal(b, &stored), "a payload in Temporal's JSON form: %s", b)
			require.Equal(t, "box", string(stored.Metadata["encoding"]))
			require.JSONEq(t, tt.payload, string(stored.Data))
			var got box
			require.NoError(t, json.Unmarshal(b, &got))
			require.Equal(t, tt.want, got)
		})
	}
}

func TestUnmarshalValuePlainJSON(t *testing.T) {
	t.Parallel()
	// JSON that is not a payload (stored before the methods existed)
	// decodes as plain JSON, without the converter.
	var got box
	require.NoError(t, json.Unmarshal([]byte(`{"Label":"old"}`), &got))
	require.Equal(t, box{Label: "old"}, got)
}
