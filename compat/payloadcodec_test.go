package compat_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/proto"

	"github.com/durablego/toolkit/compat"
	"github.com/durablego/toolkit/runtime/durable"
)

// sealCodec is a Temporal converter.PayloadCodec as applications write
// them (samples-go's encryption sample): the whole payload, marshaled and
// sealed with AES-GCM, becomes the data of a binary/encrypted payload.
type sealCodec struct{ key []byte }

func (c *sealCodec) aead() (cipher.AEAD, error) {
	block, err := aes.NewCipher(c.key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func (c *sealCodec) Encode(ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead, err := c.aead()
	if err != nil {
		return nil, err
	}
	out := make([]*commonpb.Payload, len(ps))
	for i, p := range ps {
		b, err := proto.Marshal(p)
		if err != nil {
			return nil, err
		}
		nonce := make([]byte, aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return nil, err
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{converter.MetadataEncoding: []byte("binary/encrypted")},
			Data:     aead.Seal(nonce, nonce, b, nil),
		}
	}
	return out, nil
}

func (c *sealCodec) Decode(ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead, err := c.aead()
	if err != nil {
		return nil, err
	}
	out := make([]*commonpb.Payload, len(ps))
	for i, p := range ps {
		if string(p.Metadata[converter.MetadataEncoding]) != "binary/encrypted" {
			out[i] = p
			continue
		}
		n := aead.NonceSize()
		if len(p.Data) < n {
			return nil, errors.New("short ciphertext")
		}
		b, err := aead.Open(nil, p.Data[:n], p.Data[n:], nil)
		if err != nil {
			return nil, err
		}
		out[i] = &commonpb.Payload{}
		if err := proto.Unmarshal(b, out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

var sealKey = []byte("0123456789abcdef0123456789abcdef")

// Secret is the activity of SecretWorkflow.
func Secret(ctx context.Context, s string) (string, error) { return "secret-result " + s, nil }

// SecretWorkflow waits for a signal and calls Secret.
func SecretWorkflow(ctx context.Context, s string) (string, error) {
	sig, err := durable.Receive[string](ctx, "sig")
	if err != nil {
		return "", err
	}
	return durable.Call[string](ctx, Secret, s+" "+sig)
}

func TestPayloadCodec(t *testing.T) {
	t.Parallel()

	// codecs are the durable codecs under test, each built from Temporal
	// codecs or a Temporal data converter.
	codecs := []struct {
		name  string
		codec func() durable.PayloadCodec
	}{
		{"PayloadCodecs", func() durable.PayloadCodec {
			return compat.PayloadCodec(&sealCodec{key: sealKey}, converter.NewZlibCodec(converter.ZlibCodecOptions{AlwaysEncode: true}))
		}},
		{"DataConverter", func() durable.PayloadCodec {
			return compat.DataConverterCodec(converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), &sealCodec{key: sealKey}))
		}},
	}
	for _, tc := range codecs {
		t.Run(tc.name+"KeepTheStoreEncrypted", func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			path := filepath.Join(t.TempDir(), "store.db")
			e, err := durable.Open(ctx, "sqlite:"+path, durable.WithPayloadCodec(tc.codec()), durable.WithActivityTaskRows(true))
			require.NoError(t, err)
			e.RegisterWorkflow(SecretWorkflow)
			e.RegisterActivity(Secret)
			_, err = e.Start(ctx, durable.StartOptions{ID: "s-1"}, SecretWorkflow, "secret-input")
			require.NoError(t, err)
			require.NoError(t, e.Signal(ctx, "s-1", "sig", "secret-signal"))
			var out string
			require.NoError(t, e.Run("s-1").Get(ctx, &out))
			require.Equal(t, "secret-result secret-input secret-signal", out)
			require.NoError(t, e.Close())

			var raw []byte
			for _, p := range []string{path, path + "-wal"} {
				b, err := os.ReadFile(p)
				if err == nil {
					raw = append(raw, b...)
				}
			}
			require.True(t, bytes.Contains(raw, []byte("s-1")))
			for _, s := range []string{"secret-input", "secret-signal", "secret-result"} {
				require.False(t, bytes.Contains(raw, []byte(s)), "%q is stored in plaintext", s)
			}
		})
	}

	t.Run("CodecOrderIsTemporals", func(t *testing.T) {
		t.Parallel()
		// What compat.PayloadCodec stores is what Temporal's
		// CodecDataConverter would put in a history for the same value
		// and codecs, so Temporal tooling (a codec server) reads it.
		seal := &sealCodec{key: sealKey}
		zlib := converter.NewZlibCodec(converter.ZlibCodecOptions{AlwaysEncode: true})
		enc, err := compat.PayloadCodec(seal, zlib).Encode(context.Background(), []byte(`{"a":1}`))
		require.NoError(t, err)
		var p commonpb.Payload
		require.NoError(t, proto.Unmarshal(enc, &p))
		require.Equal(t, "binary/encrypted", string(p.Metadata[converter.MetadataEncoding]), "the first codec encodes last")
		var v map[string]int
		require.NoError(t, converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), seal, zlib).FromPayload(&p, &v))
		require.Equal(t, map[string]int{"a": 1}, v)

		// And the other way: Temporal's payload decodes here.
		tp, err := converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), seal, zlib).ToPayload(map[string]int{"b": 2})
		require.NoError(t, err)
		b, err := proto.Marshal(tp)
		require.NoError(t, err)
		dec, err := compat.PayloadCodec(seal, zlib).Decode(context.Background(), b)
		require.NoError(t, err)
		require.JSONEq(t, `{"b":2}`, string(dec))
	})

	t.Run("NilDataConverterIsNoCodec", func(t *testing.T) {
		t.Parallel()
		// Converted options whose DataConverter is unset give
		// durable.WithPayloadCodec(nil): no codec at all.
		require.Nil(t, compat.DataConverterCodec(nil))
	})

	t.Run("WrongKeyFails", func(t *testing.T) {
		t.Parallel()
		enc, err := compat.PayloadCodec(&sealCodec{key: sealKey}).Encode(context.Background(), []byte(`"x"`))
		require.NoError(t, err)
		_, err = compat.PayloadCodec(&sealCodec{key: []byte("fedcba9876543210fedcba9876543210")}).Decode(context.Background(), enc)
		require.ErrorContains(t, err, "message authentication failed")
		_, err = compat.DataConverterCodec(converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), &sealCodec{key: []byte("fedcba9876543210fedcba9876543210")})).Decode(context.Background(), enc)
		require.Error(t, err)
	})
}
