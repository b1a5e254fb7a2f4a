package sqlite

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	msqlite "modernc.org/sqlite"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/durablego/toolkit/runtime/store"
)

// Compile-time checks of the interfaces Store implements.
var (
	_ store.Store     = (*Store)(nil)
	_ store.Exclusive = (*Store)(nil)
	_ store.Notifier  = (*Store)(nil)
)

// Defaults of the options.
const (
	// BusyTimeoutDefault is how long a statement waits for a lock held by
	// another connection before the store's own retries take over.
	BusyTimeoutDefault = 5 * time.Second
	// MaxBatchDefault is the most calls one group transaction takes.
	MaxBatchDefault = 1024
	// ReadersDefault is the size of the reader connection pool.
	ReadersDefault = 4
)

// Option configures Open and OpenMemory.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	fsync       bool
	busyTimeout time.Duration
	maxBatch    int
	readers     int
	clientOnly  bool
	now         func() time.Time
}

// WithFsync makes every commit survive power loss (PRAGMA synchronous=FULL)
// instead of only a crash of the process (synchronous=NORMAL, the default).
func WithFsync(on bool) Option { return optionFunc(func(c *config) { c.fsync = on }) }

// WithBusyTimeout sets how long a statement waits for a lock held by another
// connection before the store retries (BusyTimeoutDefault).
func WithBusyTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.busyTimeout = d })
}

// WithClientOnly opens the store as a client of the process that works it:
// it takes no lock, so it opens beside that process (and beside any number
// of other clients), and it refuses to claim runs or tasks, to create runs
// already leased and to release other owners' leases. Everything a client
// does (create runs, deliver to inboxes, set a run's status, read) works as
// in the working process; see the package documentation.
func WithClientOnly(on bool) Option { return optionFunc(func(c *config) { c.clientOnly = on }) }

// WithMaxBatch bounds how many calls one group transaction takes
// (MaxBatchDefault).
func WithMaxBatch(n int) Option { return optionFunc(func(c *config) { c.maxBatch = n }) }

// WithClock makes the store read the time from now instead of the wall
// clock: when tasks and runs are due, when leases expire, the times it
// stamps. A caller whose engine runs on another clock (a test's, which
// skips ahead) passes that clock's Now, so that the store and the engine
// agree on what is due.
func WithClock(now func() time.Time) Option { return optionFunc(func(c *config) { c.now = now }) }

// WithReaders sets the size of the reader connection pool (ReadersDefault).
func WithReaders(n int) Option { return optionFunc(func(c *config) { c.readers = n }) }

func newConfig(opts []Option) config {
	c := config{busyTimeout: BusyTimeoutDefault, maxBatch: MaxBatchDefault, readers: ReadersDefault, now: time.Now}
	for _, o := range opts {
		o.apply(&c)
	}
	c.maxBatch = max(c.maxBatch, 1)
	c.readers = max(c.readers, 1)
	if c.now == nil {
		c.now = time.Now
	}
	if c.busyTimeout <= 0 {
		c.busyTimeout = BusyTimeoutDefault
	}
	return c
}

// Store is a store.Store in one SQLite file (or in memory). It is safe for
// concurrent use; see the package documentation for its design.
type Store struct {
	path       string // as given to Open; "memory:NAME" for memory stores
	exclusive  bool
	clientOnly bool
	lock       *fileLock
	watch      *watcher
	wdb, rdb   *sql.DB
	cdb        *sql.DB // checkpoints; nil for memory stores
	cp         *checkpointer
	wconn      *sql.Conn
	w          *writer
	wst        stmts
	rst        readStmts

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// sqliteMagic starts every SQLite 3 database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// Open opens (creating if needed) the store in the SQLite file at path. The
// file is worked by this Store until Close: a second Open of the same path,
// in this process or another, fails with ErrLocked naming the process that
// has it, unless one of the two is opened WithClientOnly: any number of
// client-only stores open beside the one that works the file. A file that is not a durable
// store (not SQLite, corrupt, another application's database) or that has a
// newer schema fails with an error wrapping store.ErrIncompatible that names
// the path; such a file is never modified.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: open: empty path")
	}
	cfg := newConfig(opts)
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	var lock *fileLock
	if !cfg.clientOnly {
		if lock, err = lockFile(abs + ".lock"); err != nil {
			return nil, err
		}
	}
	if err := checkHeader(abs); err != nil {
		lock.unlock()
		return nil, err
	}

	syncMode := "NORMAL"
	if cfg.fsync {
		syncMode = "FULL"
		// Commit with fdatasync, as SQLite's native Linux builds do: as
		// durable as fsync, without flushing timestamps through the file
		// system's journal (about 0.4 ms against 1.2 ms here). The
		// switch is process-wide; where it is unavailable, fsync stays.
		_, _ = msqlite.Fdatasync(true)
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", cfg.busyTimeout.Milliseconds()))
	q.Add("_pragma", "synchronous("+syncMode+")")
	q.Add("_pragma", "foreign_keys(0)")
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Add("_pragma", "journal_size_limit(67108864)")
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	if filepath.VolumeName(abs) != "" { // file:///C:/...
		u.Path = "/" + u.Path
	}
	s, err := open(ctx, path, u.String(), true, cfg)
	if err != nil {
		lock.unlock()
		return nil, err
	}
	s.lock = lock
	s.exclusive = lockSupported && !cfg.clientOnly
	s.clientOnly = cfg.clientOnly
	return s, nil
}

// OpenMemory opens a new, empty store that lives in this process's memory
// and vanishes at Close. Every call returns a separate store. Commits are
// grouped as in a file store, but nothing is durable.
func OpenMemory(ctx context.Context, opts ...Option) (*Store, error) {
	cfg := newConfig(opts)
	var b [12]byte
	if _, err := io.ReadFull(rand.Reader, b[:]); err != nil {
		return nil, err
	}
	name := "/durable-" + hex.EncodeToString(b[:])
	q := url.Values{}
	q.Add("vfs", "memdb")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", cfg.busyTimeout.Milliseconds()))
	dsn := "file:" + name + "?" + q.Encode()
	s, err := open(ctx, "memory:"+name, dsn, false, cfg)
	if err != nil {
		return nil, err
	}
	s.exclusive = true // no other process can see it
	return s, nil
}

// checkHeader rejects a file that exists but is not an SQLite database,
// before the driver sees it.
func checkHeader(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, len(sqliteMagic))
	n, err := io.ReadFull(f, head)
	if n == 0 && (err == io.EOF || err == nil) {
		return nil // empty file: SQLite treats it as a new database
	}
	if !bytes.Equal(head[:n], sqliteMagic) {
		return fmt.Errorf("%w: %s is not an SQLite database", store.ErrIncompatible, path)
	}
	return nil
}

func open(ctx context.Context, path, dsn string, wal bool, cfg config) (s *Store, err error) {
	s = &Store{path: path}
	defer func() {
		if err != nil {
			s.closeDBs()
			if isIncompatible(err) || errors.Is(err, store.ErrIncompatible) {
				if !errors.Is(err, store.ErrIncompatible) {
					err = fmt.Errorf("%w: %s is corrupt or not an SQLite database (%v)", store.ErrIncompatible, path, err)
				}
				return
			}
			if sqliteCode(err)&0xff == sqlite3.SQLITE_CANTOPEN {
				// SQLite does not say why; the file system does.
				if f, oerr := os.OpenFile(path, os.O_RDWR, 0); oerr != nil {
					if readOnlyFile(oerr) {
						err = fmt.Errorf("sqlite: open %s: %w: %v", path, store.ErrReadOnly, oerr)
						return
					}
				} else {
					f.Close()
				}
			}
			err = fmt.Errorf("sqlite: open %s: %w", path, translate(err))
		}
	}()

	s.wdb, err = sql.Open("sqlite", dsn)
	if err != nil {
		return s, err
	}
	s.wdb.SetMaxOpenConns(1)
	s.wdb.SetMaxIdleConns(1)
	s.wdb.SetConnMaxLifetime(0)
	s.wdb.SetConnMaxIdleTime(0)
	if s.wconn, err = s.wdb.Conn(ctx); err != nil {
		return s, err
	}
	if err := migrate(ctx, s.wconn, path); err != nil {
		return s, err
	}
	if wal {
		var mode string
		if err := s.wconn.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
			return s, err
		}
		if mode != "wal" {
			return s, fmt.Errorf("journal_mode is %q, want wal", mode)
		}
	}
	// The writer caches more pages than the default 2 MB so that the hot
	// pages (run rows, index roots, journal tails) stay in memory.
	if _, err := s.wconn.ExecContext(ctx, "PRAGMA cache_size = -65536"); err != nil {
		return s, err
	}
	if wal {
		// Checkpoints run in the background (see checkpointer), not
		// inside a commit where they would stall every caller of the
		// group.
		if _, err := s.wconn.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 0"); err != nil {
			return s, err
		}
	}

	readDSN := dsn + "&_pragma=query_only(1)&_pragma=cache_size(-16384)"
	if s.rdb, err = sql.Open("sqlite", readDSN); err != nil {
		return s, err
	}
	s.rdb.SetMaxOpenConns(cfg.readers)
	s.rdb.SetMaxIdleConns(cfg.readers)
	s.rdb.SetConnMaxIdleTime(0)
	if err := prepare(ctx, s.rdb, s.rst.defs()); err != nil {
		return s, err
	}

	if wal {
		if s.cdb, err = sql.Open("sqlite", dsn); err != nil {
			return s, err
		}
		s.cdb.SetMaxOpenConns(1)
		s.cp = newCheckpointer(s.cdb)
	}
	s.watch = newWatcher(wal)
	if s.w, err = newWriter(ctx, s.wconn, &s.wst, cfg.maxBatch, cfg.busyTimeout, s.watch, cfg.now); err != nil {
		return s, err
	}
	return s, nil
}

// Path returns the path the store was opened with.
func (s *Store) Path() string { return s.path }

// Exclusive reports whether this process alone works the store, so that an
// engine may release every lease at start-up (store.Exclusive). Client-only
// stores are not exclusive: they open beside the process that works the
// file.
func (s *Store) Exclusive() bool { return s.exclusive }

// ClientOnly reports whether the store was opened WithClientOnly.
func (s *Store) ClientOnly() bool { return s.clientOnly }

// Close waits for queued calls to finish and releases the database and its
// lock. Calls after Close return ErrClosed.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		if s.w != nil {
			s.w.close()
		}
		if s.watch != nil {
			s.watch.close()
		}
		if s.cp != nil {
			s.cp.close()
		}
		s.closeErr = s.closeDBs()
	})
	return s.closeErr
}

func (s *Store) closeDBs() error {
	var errs []error
	// The writer closed its own statements when it stopped.
	errs = append(errs, closeStmts(s.rst.defs()))
	if s.wconn != nil {
		errs = append(errs, s.wconn.Close())
	}
	if s.rdb != nil {
		errs = append(errs, s.rdb.Close())
	}
	if s.cdb != nil {
		errs = append(errs, s.cdb.Close())
	}
	if s.wdb != nil {
		errs = append(errs, s.wdb.Close())
	}
	errs = append(errs, s.lock.unlock())
	return errors.Join(errs...)
}

// write runs fn in a group transaction and translates its error. fn must
// not write before the statement that may reject the call (see
// writer.runGroup); writeIsolated is for calls that may fail later.
func (s *Store) write(ctx context.Context, fn func(tx *wtx) error) error {
	return s.named(translate(s.w.do(ctx, false, fn)))
}

// writeIsolated runs fn in a group transaction inside a savepoint of its own.
func (s *Store) writeIsolated(ctx context.Context, fn func(tx *wtx) error) error {
	return s.named(translate(s.w.do(ctx, true, fn)))
}

// read runs fn on the reader pool, retrying while the database is busy.
func (s *Store) read(ctx context.Context, fn func() error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	pause := time.Millisecond
	for i := 0; ; i++ {
		err := fn()
		if err == nil || !isBusy(err) || i == busyRetriesMax {
			return s.named(translate(err))
		}
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return ctx.Err()
		}
		pause = min(2*pause, time.Second)
	}
}

// named adds the store's path to an error that says the file is damaged, so
// that an operator knows which file to look at.
func (s *Store) named(err error) error {
	if errors.Is(err, store.ErrIncompatible) {
		return fmt.Errorf("%s: %w", s.path, err)
	}
	return err
}

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanRun(sc scanner) (*store.Run, error) {
	var (
		r                             store.Run
		status                        string
		wake, lease, created, updated int64
	)
	err := sc.Scan(&r.RunID, &r.WorkflowID, &r.Workflow, &r.Queue, &status, &r.Input, &r.Result, &r.Error, &r.Meta,
		&r.ParentRunID, &r.PrevRunID, &r.NextRunID, &r.JournalLen, &wake, &r.Owner, &lease, &created, &updated)
	if err != nil {
		return nil, err
	}
	r.Status = store.RunStatus(status)
	r.WakeAt = fromNanos(wake)
	r.LeaseUntil = fromNanos(lease)
	r.CreatedAt = fromNanos(created)
	r.UpdatedAt = fromNanos(updated)
	return &r, nil
}

func scanTask(sc scanner) (*store.Task, error) {
	var (
		t                   store.Task
		due, lease, created int64
	)
	err := sc.Scan(&t.ID, &t.RunID, &t.Kind, &t.Queue, &due, &t.Attempt, &t.Data, &t.Details, &t.Owner, &lease,
		&created, &t.Abandoned)
	if err != nil {
		return nil, err
	}
	t.DueAt = fromNanos(due)
	t.LeaseUntil = fromNanos(lease)
	t.CreatedAt = fromNanos(created)
	return &t, nil
}

// newID returns a random identifier for records created without one.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Stats are counters of the group committer.
type Stats struct {
	Transactions int64 // group transactions committed
	Calls        int64 // write calls they carried
}

// Stats returns the group committer's counters since Open.
func (s *Store) Stats() Stats {
	return Stats{Transactions: s.w.batches.Load(), Calls: s.w.calls.Load()}
}
