package durable

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
)

// Payloads are JSON, compatible with Temporal's json/plain encoding: each
// argument is one JSON value, and a call's arguments are stored as a JSON
// array with one element per argument.

// encodeArgs encodes call arguments as a JSON array.
func encodeArgs(args []any) (json.RawMessage, error) {
	if len(args) == 0 {
		return json.RawMessage("[]"), nil
	}
	var b bytes.Buffer
	b.WriteByte('[')
	for i, a := range args {
		if i > 0 {
			b.WriteByte(',')
		}
		enc, err := json.Marshal(a)
		if err != nil {
			return nil, &ArgumentError{Index: i + 1, Got: fmt.Sprintf("%T", a), Err: err}
		}
		b.Write(enc)
	}
	b.WriteByte(']')
	return b.Bytes(), nil
}

// encodeValue encodes one value; nil encodes as JSON null.
func encodeValue(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	return b, nil
}

// encodeArg encodes the one argument of a signal; a value that does not
// encode is an *ArgumentError.
func encodeArg(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, &ArgumentError{Index: 1, Got: fmt.Sprintf("%T", v), Err: err}
	}
	return b, nil
}

// argTypes names the dynamic types of args, for journal matching.
func argTypes(args []any) []string {
	if len(args) == 0 {
		return nil
	}
	ts := make([]string, len(args))
	for i, a := range args {
		if a == nil {
			ts[i] = "nil"
		} else {
			ts[i] = reflect.TypeOf(a).String()
		}
	}
	return ts
}

// checkArgs reports, naming the call and the parameter, an argument list
// that def cannot take.
func checkArgs(call string, def *funcDef, args []any) error {
	if def.dynamic {
		return nil // a dynamic function decodes whatever it is sent
	}
	params := def.params()
	if len(args) != len(params) {
		return fmt.Errorf("%s: %w", call, countError(def, len(args), len(params)))
	}
	for i, a := range args {
		p := params[i]
		if a == nil {
			switch p.Kind() {
			case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
				continue
			}
			return fmt.Errorf("%s: %w", call, &ArgumentError{Index: i + 1, Got: "nil", Want: p.String()})
		}
		if at := reflect.TypeOf(a); !at.AssignableTo(p) && !encodesAs(a, p) {
			return fmt.Errorf("%s: %w", call, &ArgumentError{Index: i + 1, Got: at.String(), Want: p.String()})
		}
	}
	return nil
}

// encodesAs reports whether a value of another type crosses the journal as
// a value of p: its JSON decodes into p with no field left over. Callers
// during a cut-over pass their own (Temporal-side) copy of a struct type.
func encodesAs(a any, p reflect.Type) bool {
	raw, err := json.Marshal(a)
	if err != nil {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(reflect.New(p).Interface()) == nil
}

// decodeArgs decodes a JSON array of arguments into values of the types
// def's parameters have. It decodes the array in one pass, each element
// straight into a new value of its parameter's type; anything unusual (a
// count that does not match, a null, an error) goes to decodeArgsEach,
// which says which argument is wrong.
func decodeArgs(def *funcDef, raw json.RawMessage) ([]reflect.Value, error) {
	if def.dynamic {
		return []reflect.Value{reflect.ValueOf(EncodedValues{raw: raw})}, nil
	}
	params := def.params()
	if len(raw) == 0 {
		return decodeArgsEach(def, params, raw)
	}
	vals := make([]reflect.Value, len(params))
	ptrs := make([]any, len(params))
	for i, p := range params {
		vals[i] = reflect.New(p)
		ptrs[i] = vals[i].Interface()
	}
	dst := slices.Clone(ptrs)
	if err := json.Unmarshal(raw, &dst); err != nil || len(dst) != len(ptrs) {
		return decodeArgsEach(def, params, raw)
	}
	for i := range dst {
		if dst[i] != ptrs[i] { // a null replaced the pointer
			return decodeArgsEach(def, params, raw)
		}
		vals[i] = vals[i].Elem()
	}
	return vals, nil
}

// decodeArgsEach is decodeArgs one argument at a time.
func decodeArgsEach(def *funcDef, params []reflect.Type, raw json.RawMessage) ([]reflect.Value, error) {
	var elems []json.RawMessage
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &elems); err != nil {
			return nil, fmt.Errorf("decode arguments of %s: %w", def.name, err)
		}
	}
	if len(elems) != len(params) {
		return nil, fmt.Errorf("decode arguments of %s: %w", def.name, countError(def, len(elems), len(params)))
	}
	vals := make([]reflect.Value, len(params))
	for i, p := range params {
		v := reflect.New(p)
		if err := json.Unmarshal(elems[i], v.Interface()); err != nil {
			return nil, fmt.Errorf("decode argument %d of %s into %s: %w", i+1, def.name, p, err)
		}
		vals[i] = v.Elem()
	}
	return vals, nil
}

// decodeInto decodes a JSON value into ptr, naming what it decodes.
func decodeInto(what string, raw json.RawMessage, ptr any) error {
	if ptr == nil {
		return nil
	}
	rv := reflect.ValueOf(ptr)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("durable: decode %s: want a non-nil pointer, got %T", what, ptr)
	}
	if len(raw) == 0 {
		raw = json.RawMessage("null")
	}
	if err := json.Unmarshal(raw, ptr); err != nil {
		return &DecodeError{What: what, Into: fmt.Sprintf("%T", ptr), Err: err}
	}
	return nil
}

// decodeTyped decodes a JSON value into a new R.
func decodeTyped[R any](what string, raw json.RawMessage) (R, error) {
	var r R
	if len(raw) == 0 {
		return r, nil
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return r, &DecodeError{What: what, Into: fmt.Sprintf("%T", r), Err: err}
	}
	return r, nil
}
