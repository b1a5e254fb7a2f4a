package postgres

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
)

// TestArrayParams sends arrays written by arrayParam to PostgreSQL and
// compares what it reads with its own text output of the same values.
func TestArrayParams(t *testing.T) {
	t.Parallel()
	dsn := os.Getenv("DURABLE_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("DURABLE_TEST_POSTGRES is not set")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err, "DURABLE_TEST_POSTGRES is set, so the server must be reachable")
	defer pool.Close()

	at := time.Date(2026, 11, 25, 3, 4, 5, 123456789, time.FixedZone("x", 3600))
	var p [7]arrayParam
	p[0].reset(oidText)
	for _, s := range []string{"a", "", "b c", "ü,\"x\""} {
		p[0].text(s)
	}
	p[1].reset(oidBytea)
	p[1].bytes([]byte{0, 1, 255})
	p[1].bytes(nil)
	p[1].bytes([]byte{})
	p[2].reset(oidInt8)
	p[2].int8(-1)
	p[2].int8(1 << 40)
	p[3].reset(oidBool)
	p[3].bool(true)
	p[3].bool(false)
	p[4].reset(oidTimestamptz)
	p[4].timestamptz(at)
	p[4].timestamptz(time.Time{})
	p[4].timestamptz(time.Date(1999, 12, 31, 23, 59, 59, 999999000, time.UTC))
	p[5].reset(oidInt4)
	p[5].int4(-7)
	p[6].reset(oidText) // empty
	vals := make([][]byte, len(p))
	for i := range p {
		vals[i] = p[i].encode()
	}
	const sql = `SELECT array_to_json($1::text[])::text, array_to_json(ARRAY(SELECT coalesce(encode(x, 'hex'), 'NULL') FROM unnest($2::bytea[]) x))::text,
		$3::int8[]::text, $4::bool[]::text,
		array_to_json(ARRAY(SELECT to_char(x AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM unnest($5::timestamptz[]) x))::text,
		$6::int4[]::text, cardinality($7::text[])::text, $1::text[] IS NULL`
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(ctx, "SET TIME ZONE 'UTC'")
	require.NoError(t, err)
	res := conn.Conn().PgConn().ExecParams(ctx, sql, vals, nil, binaryFormats(len(vals)), nil).Read()
	require.NoError(t, res.Err)
	require.Len(t, res.Rows, 1)
	var got []string
	for _, v := range res.Rows[0] {
		got = append(got, string(v))
	}
	require.Equal(t, []string{
		`["a","","b c","ü,\"x\""]`,
		`["0001ff","NULL",""]`,
		"{-1,1099511627776}",
		"{t,f}",
		`["2026-11-25 02:04:05.123456",null,"1999-12-31 23:59:59.999999"]`,
		"{-7}",
		"0",
		"f",
	}, got)
}

func TestDecodeInt8Array(t *testing.T) {
	t.Parallel()
	var p arrayParam
	p.reset(oidInt8)
	for _, v := range []int64{3, -1, 1 << 50} {
		p.int8(v)
	}
	got, err := decodeInt8Array(p.encode())
	require.NoError(t, err)
	require.Equal(t, []int64{3, -1, 1 << 50}, got)

	p.reset(oidInt8)
	got, err = decodeInt8Array(p.encode())
	require.NoError(t, err)
	require.Empty(t, got)

	_, err = decodeInt8Array([]byte{0, 0, 0, 1})
	require.Error(t, err)
	p.reset(oidInt8)
	p.int8(1)
	_, err = decodeInt8Array(p.encode()[:25])
	require.Error(t, err, "truncated")
}
