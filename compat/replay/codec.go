package replay

import (
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// DecodePayloads returns a copy of h whose payloads are decoded by codecs,
// as Temporal's CodecDataConverter decodes them (the first codec first),
// for histories of applications that encrypted or compressed their
// payloads: translation reads json/plain payloads only. h is not changed.
// Exporting the history decoded (`temporal workflow show --codec-endpoint`)
// does the same with a codec server.
func DecodePayloads(h *historypb.History, codecs ...converter.PayloadCodec) (*historypb.History, error) {
	out := proto.Clone(h).(*historypb.History)
	if len(codecs) == 0 {
		return out, nil
	}
	if err := decodeMessage(out.ProtoReflect(), codecs); err != nil {
		return nil, err
	}
	return out, nil
}

// WithPayloadCodecs makes Verify decode the history's payloads with
// codecs first (see DecodePayloads).
func WithPayloadCodecs(codecs ...converter.PayloadCodec) Option {
	return func(o *options) { o.codecs = append(o.codecs, codecs...) }
}

var payloadName = (&commonpb.Payload{}).ProtoReflect().Descriptor().FullName()

// decodeMessage decodes, in place, every Payload m holds at any depth.
func decodeMessage(m protoreflect.Message, codecs []converter.PayloadCodec) error {
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := 0; i < l.Len() && err == nil; i++ {
				err = decodeValue(l.Get(i).Message(), codecs)
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				err = decodeValue(mv.Message(), codecs)
				return err == nil
			})
		case fd.Message() != nil && !fd.IsMap():
			err = decodeValue(v.Message(), codecs)
		}
		return err == nil
	})
	return err
}

// decodeValue decodes m when it is a Payload, or the payloads it holds.
func decodeValue(m protoreflect.Message, codecs []converter.PayloadCodec) error {
	if m.Descriptor().FullName() != payloadName {
		return decodeMessage(m, codecs)
	}
	p := m.Interface().(*commonpb.Payload)
	ps := []*commonpb.Payload{p}
	var err error
	for _, c := range codecs {
		if ps, err = c.Decode(ps); err != nil {
			return fmt.Errorf("replay: decode payload with %T: %w", c, err)
		}
	}
	if len(ps) != 1 {
		return fmt.Errorf("replay: payload codecs decoded one payload into %d", len(ps))
	}
	if ps[0] != p {
		proto.Reset(p)
		proto.Merge(p, ps[0])
	}
	return nil
}
