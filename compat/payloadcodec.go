package compat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/durablego/toolkit/runtime/durable"
)

// PayloadCodec returns a durable.PayloadCodec that runs Temporal payload
// codecs, so that the codecs a Temporal client used
// (converter.NewCodecDataConverter(parent, codecs...)) keep encrypting or
// compressing what the durable engine stores:
//
//	durable.Open(ctx, dsn, durable.WithPayloadCodec(compat.PayloadCodec(&myCodec{KeyID: "k1"})))
//
// Each value the engine stores is its JSON in a Temporal payload with
// encoding json/plain; the codecs encode it in Temporal's order (the last
// codec first, as CodecDataConverter does) and the resulting payload is
// stored in its protobuf form. Decoding reverses this (the first codec
// first), so a codec sees the payloads it sees under Temporal.
func PayloadCodec(codecs ...converter.PayloadCodec) durable.PayloadCodec {
	return &payloadCodec{codecs: append([]converter.PayloadCodec(nil), codecs...)}
}

type payloadCodec struct{ codecs []converter.PayloadCodec }

func (c *payloadCodec) Encode(_ context.Context, plain []byte) ([]byte, error) {
	ps := []*commonpb.Payload{jsonPayload(plain)}
	var err error
	for i := len(c.codecs) - 1; i >= 0; i-- {
		if ps, err = c.codecs[i].Encode(ps); err != nil {
			return nil, fmt.Errorf("compat: payload codec %T: encode: %w", c.codecs[i], err)
		}
	}
	return marshalPayload(ps)
}

func (c *payloadCodec) Decode(_ context.Context, encoded []byte) ([]byte, error) {
	p, err := unmarshalPayload(encoded)
	if err != nil {
		return nil, err
	}
	ps := []*commonpb.Payload{p}
	for _, codec := range c.codecs {
		if ps, err = codec.Decode(ps); err != nil {
			return nil, fmt.Errorf("compat: payload codec %T: decode: %w", codec, err)
		}
	}
	if len(ps) != 1 {
		return nil, fmt.Errorf("compat: payload codecs decoded one payload into %d", len(ps))
	}
	if enc := string(ps[0].GetMetadata()[converter.MetadataEncoding]); enc != converter.MetadataEncodingJSON {
		return nil, fmt.Errorf("compat: decoded payload has encoding %q, want %s", enc, converter.MetadataEncodingJSON)
	}
	return ps[0].GetData(), nil
}

// DataConverterCodec returns a durable.PayloadCodec that encodes with a
// whole Temporal data converter, for a client option
// DataConverter: myDataConverter that is not a plain
// converter.NewCodecDataConverter (a converter type of the application's
// own, built by a function). Each value the engine stores, its JSON, goes
// through dc.ToPayload as a json.RawMessage and comes back through
// dc.FromPayload, and the payload is stored in its protobuf form.
//
// What dc does to payloads (encryption, compression: its codecs) keeps
// happening. What it does to values does not: the engine hands it JSON
// already made, so a custom payload converter (protobuf, another
// serialization) is not used for workflow values, which stay JSON as
// everywhere in the durable runtime. Nor is a converter's
// workflow.ContextAware side: the engine calls dc without a workflow
// context, so a key chosen per workflow from the context is not.
//
// A nil dc gives a nil codec (durable.WithPayloadCodec(nil) sets none), so
// that options whose DataConverter may be unset convert as they are.
func DataConverterCodec(dc converter.DataConverter) durable.PayloadCodec {
	if dc == nil {
		return nil
	}
	return &dataConverterCodec{dc: dc}
}

type dataConverterCodec struct{ dc converter.DataConverter }

func (c *dataConverterCodec) Encode(_ context.Context, plain []byte) ([]byte, error) {
	p, err := c.dc.ToPayload(json.RawMessage(plain))
	if err != nil {
		return nil, fmt.Errorf("compat: data converter %T: encode: %w", c.dc, err)
	}
	if p == nil {
		return nil, fmt.Errorf("compat: data converter %T encoded a value as no payload", c.dc)
	}
	return marshalPayload([]*commonpb.Payload{p})
}

func (c *dataConverterCodec) Decode(_ context.Context, encoded []byte) ([]byte, error) {
	p, err := unmarshalPayload(encoded)
	if err != nil {
		return nil, err
	}
	var raw json.RawMessage
	if err := c.dc.FromPayload(p, &raw); err != nil {
		return nil, fmt.Errorf("compat: data converter %T: decode: %w", c.dc, err)
	}
	return raw, nil
}

// jsonPayload wraps the engine's JSON as Temporal's default converter
// would: encoding json/plain.
func jsonPayload(b []byte) *commonpb.Payload {
	return &commonpb.Payload{
		Metadata: map[string][]byte{converter.MetadataEncoding: []byte(converter.MetadataEncodingJSON)},
		Data:     b,
	}
}

func marshalPayload(ps []*commonpb.Payload) ([]byte, error) {
	if len(ps) != 1 || ps[0] == nil {
		return nil, fmt.Errorf("compat: payload codecs encoded one payload into %d", len(ps))
	}
	b, err := proto.Marshal(ps[0])
	if err != nil {
		return nil, fmt.Errorf("compat: marshal payload: %w", err)
	}
	return b, nil
}

func unmarshalPayload(b []byte) (*commonpb.Payload, error) {
	if len(b) == 0 {
		return nil, errors.New("compat: empty stored payload")
	}
	var p commonpb.Payload
	if err := proto.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("compat: stored value is not a Temporal payload: %w", err)
	}
	return &p, nil
}
