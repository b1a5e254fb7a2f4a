package replay_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/durablego/toolkit/compat/replay"
)

// inverse runs a codec backwards: its Decode encodes. DecodePayloads with
// it encodes a history as the application's codecs did.
type inverse struct{ converter.PayloadCodec }

func (c inverse) Decode(ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
	return c.PayloadCodec.Encode(ps)
}

func TestPayloadCodecs(t *testing.T) {
	t.Parallel()
	zlib := converter.NewZlibCodec(converter.ZlibCodecOptions{AlwaysEncode: true})
	plain, err := replay.Load(filepath.Join("testdata", "greet.json"))
	require.NoError(t, err)
	encoded, err := replay.DecodePayloads(plain, inverse{zlib})
	require.NoError(t, err)
	require.False(t, proto.Equal(plain, encoded), "the history's payloads are encoded")

	t.Run("EncodedHistoryNeedsTheCodec", func(t *testing.T) {
		t.Parallel()
		_, err := replay.Verify(context.Background(), engine(t, Greet), encoded)
		var unsupported *replay.UnsupportedPayloadError
		require.True(t, errors.As(err, &unsupported), "%v", err)
		require.Equal(t, "binary/zlib", unsupported.Encoding)
	})

	t.Run("WithPayloadCodecsVerifies", func(t *testing.T) {
		t.Parallel()
		rep, err := replay.Verify(context.Background(), engine(t, Greet), encoded, replay.WithPayloadCodecs(zlib))
		require.NoError(t, err)
		require.True(t, rep.OK(), rep.String())
		require.True(t, rep.Closed)
	})

	t.Run("DecodePayloadsLeavesItsInputAlone", func(t *testing.T) {
		t.Parallel()
		again, err := replay.Load(filepath.Join("testdata", "greet.json"))
		require.NoError(t, err)
		// Decoding twice gives the same: the first left encoded as it was.
		_, err = replay.DecodePayloads(encoded, zlib)
		require.NoError(t, err)
		decoded, err := replay.DecodePayloads(encoded, zlib)
		require.NoError(t, err)
		require.True(t, proto.Equal(again, decoded))
		require.False(t, proto.Equal(again, encoded))
	})
}
