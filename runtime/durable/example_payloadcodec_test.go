package durable_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/durablego/toolkit/runtime/durable"
)

// gcmCodec encrypts what the engine stores with AES-GCM.
type gcmCodec struct{ aead cipher.AEAD }

func newGCMCodec(key []byte) (*gcmCodec, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &gcmCodec{aead: aead}, nil
}

func (c *gcmCodec) Encode(_ context.Context, plain []byte) ([]byte, error) {
	nonce := make([]byte, c.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return c.aead.Seal(nonce, nonce, plain, nil), nil
}

func (c *gcmCodec) Decode(_ context.Context, enc []byte) ([]byte, error) {
	n := c.aead.NonceSize()
	if len(enc) < n {
		return nil, errors.New("ciphertext too short")
	}
	return c.aead.Open(nil, enc[:n], enc[n:], nil)
}

// ExampleWithPayloadCodec encrypts the store: the workflow sees its values,
// the database file holds none of them.
func ExampleWithPayloadCodec() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "codec-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "store.db")

	codec, err := newGCMCodec([]byte("an example key of 32 bytes: 0123"))
	if err != nil {
		panic(err)
	}
	e, err := durable.Open(ctx, "sqlite:"+path, durable.WithPayloadCodec(codec), durable.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	e.RegisterWorkflow(Greeter)
	e.RegisterActivity(Shout)
	run, err := e.Start(ctx, durable.StartOptions{ID: "greet-secret"}, Greeter, "card 4111-1111")
	if err != nil {
		panic(err)
	}
	var out string
	if err := run.Get(ctx, &out); err != nil {
		panic(err)
	}
	if err := e.Close(); err != nil {
		panic(err)
	}
	fmt.Println(out)

	var stored []byte
	for _, p := range []string{path, path + "-wal"} {
		b, _ := os.ReadFile(p)
		stored = append(stored, b...)
	}
	fmt.Println("plaintext stored:", bytes.Contains(stored, []byte("4111-1111")))
	fmt.Println("workflow ID stored:", bytes.Contains(stored, []byte("greet-secret")))
	// Output:
	// HELLO CARD 4111-1111
	// plaintext stored: false
	// workflow ID stored: true
}
