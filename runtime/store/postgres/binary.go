package postgres

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/durablego/toolkit/runtime/store"
)

// The group statements (group.go, runs.go) carry a few thousand values in
// a few dozen array parameters. Through pgx's generic argument encoding
// each array element is boxed in an interface (one allocation per value)
// and the encoding buffers are shrunk after every statement and grown
// again for the next; in a busy worker that was a third of all allocated
// bytes and the main cause of garbage collection. So these statements
// write their parameters in PostgreSQL's binary array format into
// reusable buffers (arrayParam, groupParams) and run as statements
// prepared on each connection (execPrepared). Everything else goes through pgx as usual.

// Element type OIDs of the arrays the group statements take.
const (
	oidBool        = pgtype.BoolOID
	oidBytea       = pgtype.ByteaOID
	oidInt4        = pgtype.Int4OID
	oidInt8        = pgtype.Int8OID
	oidText        = pgtype.TextOID
	oidTimestamptz = pgtype.TimestamptzOID
)

// arrayParam builds one one-dimensional array parameter in binary format.
// The zero value is ready to use (call reset first to set the element
// type).
type arrayParam struct {
	oid     uint32
	n       int32
	hasNull bool
	elems   []byte // the elements, each a length and its bytes
	out     []byte // the encoded parameter
}

func (a *arrayParam) reset(oid uint32) {
	a.oid, a.n, a.hasNull = oid, 0, false
	a.elems = a.elems[:0]
}

func (a *arrayParam) null() {
	a.elems = binary.BigEndian.AppendUint32(a.elems, math.MaxUint32) // length -1
	a.n++
	a.hasNull = true
}

func (a *arrayParam) text(s string) {
	a.elems = binary.BigEndian.AppendUint32(a.elems, uint32(len(s)))
	a.elems = append(a.elems, s...)
	a.n++
}

// bytes appends a bytea element; nil is NULL, as pgx encodes it.
func (a *arrayParam) bytes(b []byte) {
	if b == nil {
		a.null()
		return
	}
	a.elems = binary.BigEndian.AppendUint32(a.elems, uint32(len(b)))
	a.elems = append(a.elems, b...)
	a.n++
}

func (a *arrayParam) int8(v int64) {
	a.elems = binary.BigEndian.AppendUint32(a.elems, 8)
	a.elems = binary.BigEndian.AppendUint64(a.elems, uint64(v))
	a.n++
}

func (a *arrayParam) int4(v int32) {
	a.elems = binary.BigEndian.AppendUint32(a.elems, 4)
	a.elems = binary.BigEndian.AppendUint32(a.elems, uint32(v))
	a.n++
}

func (a *arrayParam) bool(v bool) {
	a.elems = binary.BigEndian.AppendUint32(a.elems, 1)
	if v {
		a.elems = append(a.elems, 1)
	} else {
		a.elems = append(a.elems, 0)
	}
	a.n++
}

// microsY2K is the Unix time of 2000-01-01, PostgreSQL's epoch, in
// microseconds.
const microsY2K = 946_684_800 * 1_000_000

// timestamptz appends a timestamptz element; the zero time is NULL (as
// nullTime maps it).
func (a *arrayParam) timestamptz(t time.Time) {
	if t.IsZero() {
		a.null()
		return
	}
	micros := t.Unix()*1_000_000 + int64(t.Nanosecond())/1000
	a.int8(micros - microsY2K)
}

// encode returns the parameter: the array header, then the elements. The
// result is valid until the next reset.
func (a *arrayParam) encode() []byte {
	a.out = a.out[:0]
	if a.n == 0 {
		a.out = binary.BigEndian.AppendUint32(a.out, 0) // no dimensions
		a.out = binary.BigEndian.AppendUint32(a.out, 0)
		a.out = binary.BigEndian.AppendUint32(a.out, a.oid)
		return a.out
	}
	var flags uint32
	if a.hasNull {
		flags = 1
	}
	a.out = binary.BigEndian.AppendUint32(a.out, 1)
	a.out = binary.BigEndian.AppendUint32(a.out, flags)
	a.out = binary.BigEndian.AppendUint32(a.out, a.oid)
	a.out = binary.BigEndian.AppendUint32(a.out, uint32(a.n))
	a.out = binary.BigEndian.AppendUint32(a.out, 1) // lower bound
	a.out = append(a.out, a.elems...)
	return a.out
}

// int8Param and boolParam encode scalar parameters in binary format.
func int8Param(dst []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(dst[:0], uint64(v))
}

func boolParam(v bool) []byte {
	if v {
		return []byte{1}
	}
	return []byte{0}
}

// binaryFormats lists the binary format code for n parameters or results.
func binaryFormats(n int) []int16 {
	f := make([]int16, n)
	for i := range f {
		f[i] = 1
	}
	return f
}

// groupParams are the parameters of one group statement: its arrays, then
// the scalars every group statement ends with (the default task lease, the
// NOTIFY channel, whether to notify). Store.params keeps them for reuse.
type groupParams struct {
	arrays []arrayParam
	lease  []byte
	vals   [][]byte
}

// groupParams returns reused parameters with arrays of these element types,
// empty; put them back into s.params when done.
func (s *Store) groupParams(oids []uint32) *groupParams {
	g, _ := s.params.Get().(*groupParams)
	if g == nil {
		g = new(groupParams)
	}
	if cap(g.arrays) < len(oids) {
		g.arrays = make([]arrayParam, len(oids))
	}
	g.arrays = g.arrays[:len(oids)]
	for i, oid := range oids {
		g.arrays[i].reset(oid)
	}
	return g
}

// execGroup runs a group statement prepared under name with g's arrays
// and the trailing scalars, and returns its one row (resultCols values).
func (s *Store) execGroup(ctx context.Context, name, sql string, g *groupParams, resultCols int) ([][]byte, error) {
	g.vals = g.vals[:0]
	for i := range g.arrays {
		g.vals = append(g.vals, g.arrays[i].encode())
	}
	g.lease = int8Param(g.lease, micros(LeaseDefault))
	g.vals = append(g.vals, g.lease, []byte(s.channel), boolParam(s.cfg.notify))
	row, err := execPrepared(ctx, s.pool, name, sql, g.vals, resultCols)
	if err == nil && len(row) != resultCols {
		err = fmt.Errorf("%s: %d result columns, want %d", name, len(row), resultCols)
	}
	return row, err
}

// taskParamOIDs are the element types of the tasks a group statement
// creates, as taskParams writes them.
var taskParamOIDs = [...]uint32{oidInt8, oidText, oidText, oidText, oidText, oidTimestamptz, oidInt4, oidBytea, oidBytea, oidText, oidTimestamptz}

// taskParams appends tasks of call idx to a[0:11]: idx, id, run_id, kind,
// queue, due_at, attempt, data, details, owner, lease_until. A task
// without RunID takes runID, and one without ID gets a random one (both
// written back to the task).
func taskParams(a []arrayParam, idx int64, runID string, tasks []*store.Task) {
	for _, t := range tasks {
		if t.ID == "" {
			t.ID = newID()
		}
		if t.RunID == "" {
			t.RunID = runID
		}
		a[0].int8(idx)
		a[1].text(t.ID)
		a[2].text(t.RunID)
		a[3].text(t.Kind)
		a[4].text(t.Queue)
		a[5].timestamptz(t.DueAt)
		a[6].int4(int32(t.Attempt))
		a[7].bytes(t.Data)
		a[8].bytes(t.Details)
		a[9].text(t.Owner)
		a[10].timestamptz(t.LeaseUntil)
	}
}

// execPrepared runs sql, prepared under name on the connection it gets
// from pool, with binary parameters, and returns the first row's values in
// binary format (copied: they outlive the connection's buffers).
func execPrepared(ctx context.Context, pool *pgxpool.Pool, name, sql string, params [][]byte, resultCols int) ([][]byte, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	sd, err := conn.Conn().Prepare(ctx, name, sql)
	if err != nil {
		return nil, err
	}
	if len(sd.ParamOIDs) != len(params) {
		return nil, fmt.Errorf("statement %s takes %d parameters, got %d", name, len(sd.ParamOIDs), len(params))
	}
	rr := conn.Conn().PgConn().ExecPrepared(ctx, sd.Name, params, binaryFormats(len(params)), binaryFormats(resultCols))
	var row [][]byte
	for rr.NextRow() {
		if row == nil {
			for _, v := range rr.Values() {
				row = append(row, append([]byte(nil), v...))
			}
		}
	}
	if _, err := rr.Close(); err != nil {
		return nil, err
	}
	return row, nil
}

// decodeInt8Array decodes a one-dimensional int8[] in binary format.
func decodeInt8Array(b []byte) ([]int64, error) {
	if b == nil {
		return nil, nil
	}
	if len(b) < 12 {
		return nil, fmt.Errorf("int8[]: %d bytes, too short", len(b))
	}
	ndim := binary.BigEndian.Uint32(b)
	if ndim == 0 {
		return []int64{}, nil
	}
	if ndim != 1 || len(b) < 20 {
		return nil, fmt.Errorf("int8[]: %d dimensions in %d bytes", ndim, len(b))
	}
	n := int(binary.BigEndian.Uint32(b[12:]))
	b = b[20:]
	if len(b) != n*12 {
		return nil, fmt.Errorf("int8[]: %d elements in %d bytes", n, len(b))
	}
	out := make([]int64, n)
	for i := range out {
		if binary.BigEndian.Uint32(b) != 8 {
			return nil, fmt.Errorf("int8[]: element %d is not 8 bytes", i)
		}
		out[i] = int64(binary.BigEndian.Uint64(b[4:]))
		b = b[12:]
	}
	return out, nil
}
