package replay

import (
	"bytes"
	"encoding/json"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
)

// Payload encodings the translation understands (Temporal's default data
// converter). Anything else, such as binary/encrypted or a codec's
// encoding, needs the user's codec first.
const (
	encodingJSON      = "json/plain"
	encodingNull      = "binary/null"
	encodingBinary    = "binary/plain"
	encodingProtoJSON = "json/protobuf"
)

// UnsupportedPayloadError reports a payload whose encoding is not one
// Temporal's default data converter writes as JSON.
type UnsupportedPayloadError struct {
	Encoding string
}

func (e *UnsupportedPayloadError) Error() string {
	return fmt.Sprintf("replay: payload encoding %q is not supported (json/plain, json/protobuf, binary/null and binary/plain are; decode payloads with your codecs: replay.WithPayloadCodecs, or export the history with temporal workflow show --codec-endpoint)", e.Encoding)
}

// payloadValue decodes one payload into the JSON value the durable
// journal stores for it.
func payloadValue(p *commonpb.Payload) (json.RawMessage, error) {
	if p == nil {
		return json.RawMessage("null"), nil
	}
	enc := string(p.GetMetadata()["encoding"])
	switch enc {
	case encodingJSON, encodingProtoJSON:
		data := bytes.TrimSpace(p.GetData())
		if !json.Valid(data) {
			return nil, fmt.Errorf("replay: %s payload is not valid JSON: %.60q", enc, data)
		}
		return json.RawMessage(data), nil
	case encodingNull:
		return json.RawMessage("null"), nil
	case encodingBinary:
		// []byte values marshal to a base64 JSON string, as in Go.
		b, _ := json.Marshal(p.GetData())
		return b, nil
	default:
		return nil, &UnsupportedPayloadError{Encoding: enc}
	}
}

// payloadsArray decodes payloads into a JSON array, one element each: the
// form the durable journal stores call arguments in.
func payloadsArray(ps *commonpb.Payloads) (json.RawMessage, error) {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, p := range ps.GetPayloads() {
		v, err := payloadValue(p)
		if err != nil {
			return nil, fmt.Errorf("argument %d: %w", i+1, err)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(v)
	}
	b.WriteByte(']')
	return b.Bytes(), nil
}

// payloadsFirst decodes the first payload (a result or a signal's
// argument); no payload decodes as null.
func payloadsFirst(ps *commonpb.Payloads) (json.RawMessage, error) {
	if len(ps.GetPayloads()) == 0 {
		return json.RawMessage("null"), nil
	}
	return payloadValue(ps.GetPayloads()[0])
}

// payloadsString decodes a payload holding a JSON string (marker details).
func payloadsString(ps *commonpb.Payloads) (string, error) {
	raw, err := payloadsFirst(ps)
	if err != nil {
		return "", err
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("replay: want a string, got %s", raw)
	}
	return s, nil
}

// changeVersionAttribute is the search attribute Temporal's GetVersion
// upserts.
const changeVersionAttribute = "TemporalChangeVersion"

// payloadsFields decodes memo or search attribute payloads into the JSON
// values the durable journal stores, leaving out the key skip.
func payloadsFields(m map[string]*commonpb.Payload, skip string) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	for k, p := range m {
		if k == skip {
			continue
		}
		v, err := payloadValue(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = v
	}
	return out, nil
}

// compactFields renders memo or search attribute values for a message.
func compactFields(m map[string]json.RawMessage) string {
	b, err := json.Marshal(m)
	if err != nil {
		return "{…}"
	}
	return compact(b, false)
}
