package compat

import (
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
)

// MarshalValue encodes v with a Temporal data converter's ToPayload, for
// the MarshalJSON method of a type that the data converter serializes
// itself (migrate convert writes such methods for the types a converter's
// ToPayload singles out): the durable runtime stores values as JSON, so a
// value of the type crosses the journal as the payload dc makes, in the
// JSON form Temporal gives payloads in a history
// ({"metadata":{...},"data":"..."}). plain is v as a type without the
// method, which is encoded instead when dc encodes v with encoding/json
// itself (as under Temporal, where the type had no MarshalJSON); so is
// every value of such a type within a value dc encodes. A value of the
// type within another value (a field of an activity's argument) goes
// through dc too, where Temporal ran dc on top-level values only; it
// decodes back the same either way.
//
// A MarshalJSON written for a type T reads:
//
//	func (v T) MarshalJSON() ([]byte, error) {
//		type plain T
//		return compat.MarshalValue(newMyConverter(), v, plain(v))
//	}
func MarshalValue(dc converter.DataConverter, v, plain any) ([]byte, error) {
	if reentered() {
		return json.Marshal(plain)
	}
	p, err := dc.ToPayload(v)
	if err != nil {
		return nil, fmt.Errorf("compat: data converter %T: encode %T: %w", dc, v, err)
	}
	if p == nil {
		return []byte("null"), nil
	}
	b, err := protojson.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("compat: data converter %T: encode %T: payload as JSON: %w", dc, v, err)
	}
	return b, nil
}

// UnmarshalValue decodes data made by MarshalValue into ptr with the data
// converter's FromPayload, for the UnmarshalJSON method of the type:
//
//	func (v *T) UnmarshalJSON(b []byte) error {
//		type plain T
//		return compat.UnmarshalValue(newMyConverter(), b, v, (*plain)(v))
//	}
//
// plainPtr is ptr as a type without the method: data that is not a
// payload (a value stored before the method existed, or JSON a program
// wrote itself) decodes into it as plain JSON, and so does what dc decodes
// with encoding/json itself.
func UnmarshalValue(dc converter.DataConverter, data []byte, ptr, plainPtr any) error {
	if reentered() {
		return json.Unmarshal(data, plainPtr)
	}
	var p commonpb.Payload
	if err := (protojson.UnmarshalOptions{}).Unmarshal(data, &p); err != nil || p.Metadata == nil {
		return json.Unmarshal(data, plainPtr)
	}
	if err := dc.FromPayload(&p, ptr); err != nil {
		return fmt.Errorf("compat: data converter %T: decode into %T: %w", dc, ptr, err)
	}
	return nil
}

// reentered reports whether MarshalValue or UnmarshalValue is already on
// the goroutine's stack further up: the data converter is encoding or
// decoding a value with encoding/json itself, which calls the methods of
// the value (or of values within it) again. Under Temporal those had no
// such methods, so they are encoded as plain JSON.
func reentered() bool {
	pcs := make([]uintptr, 1024)
	n := runtime.Callers(3, pcs) // runtime.Callers, reentered, MarshalValue
	frames := runtime.CallersFrames(pcs[:n])
	for more := n > 0; more; {
		var f runtime.Frame
		f, more = frames.Next()
		if f.Function == marshalValueName || f.Function == unmarshalValueName {
			return true
		}
	}
	return false
}

// The names runtime.Frame gives MarshalValue and UnmarshalValue.
var marshalValueName, unmarshalValueName string

func init() {
	marshalValueName = funcName(MarshalValue)
	unmarshalValueName = funcName(UnmarshalValue)
}

func funcName(f any) string {
	return runtime.FuncForPC(reflect.ValueOf(f).Pointer()).Name()
}
