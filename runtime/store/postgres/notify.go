package postgres

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/durablego/toolkit/runtime/store"
)

// Notifications travel on one channel per schema (Store.channel) with the
// payload "run:QUEUE" or "task:QUEUE". Writers send them with pg_notify in
// the statement or batch that makes the work visible, so PostgreSQL
// delivers them only when (and right after) the transaction commits.

const (
	// subscriptionBuffer is the capacity of a subscriber's channel. When it
	// is full, further notifications for that subscriber are dropped: it
	// has a wake-up pending already, and notifications are only hints.
	subscriptionBuffer = 64

	listenerBackoffMin = 50 * time.Millisecond
	listenerBackoffMax = time.Second

	// listenerAppName names the listening session in pg_stat_activity.
	listenerAppName = "durable-listener"
)

// Subscribe delivers notifications until ctx is done or the store is
// closed, then closes the channel. The first call opens a dedicated LISTEN
// connection, which reconnects with backoff when it fails; after a
// reconnect each subscriber receives {Kind: "run"} and {Kind: "task"} with
// an empty Queue, since notifications may have been missed meanwhile, so
// subscribers should treat any notification as a reason to poll.
func (s *Store) Subscribe(ctx context.Context) (<-chan store.Notification, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("postgres: subscribe: store closed")
	}
	if s.listener == nil {
		l, err := s.startListener(ctx)
		if err != nil {
			return nil, err
		}
		s.listener = l
	}
	return s.listener.subscribe(ctx), nil
}

type listener struct {
	s      *Store
	ctx    context.Context // canceled by close
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns

	mu   sync.Mutex
	subs map[chan store.Notification]struct{}
}

func (s *Store) startListener(ctx context.Context) (*listener, error) {
	lctx, cancel := context.WithCancel(context.Background())
	l := &listener{s: s, ctx: lctx, cancel: cancel, done: make(chan struct{}),
		subs: map[chan store.Notification]struct{}{}}
	conn, err := l.connect(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	go l.run(conn)
	return l, nil
}

func (l *listener) connect(ctx context.Context) (*pgx.Conn, error) {
	cc := l.s.pool.Config().ConnConfig.Copy()
	cc.RuntimeParams["application_name"] = listenerAppName
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, l.s.connectError(err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{l.s.channel}.Sanitize()); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, interpretError("listen", err)
	}
	return conn, nil
}

func (l *listener) run(conn *pgx.Conn) {
	defer close(l.done)
	defer func() { _ = conn.Close(context.Background()) }()
	for {
		n, err := conn.WaitForNotification(l.ctx)
		if err == nil {
			kind, queue, _ := strings.Cut(n.Payload, ":")
			l.broadcast(store.Notification{Kind: kind, Queue: queue})
			continue
		}
		if l.ctx.Err() != nil {
			return
		}
		l.s.cfg.logger.Warn("postgres: listener connection lost; reconnecting", "err", oneLine(err.Error()))
		_ = conn.Close(context.Background())
		lost := time.Now()
		conn = l.reconnect()
		if conn == nil {
			return
		}
		l.s.cfg.logger.Info("postgres: listener reconnected", "after", time.Since(lost).Round(time.Millisecond))
		l.broadcast(store.Notification{Kind: "run"})
		l.broadcast(store.Notification{Kind: "task"})
	}
}

// reconnect connects again with exponential backoff; it returns nil when
// the listener is closed first.
func (l *listener) reconnect() *pgx.Conn {
	backoff := listenerBackoffMin
	for {
		t := time.NewTimer(backoff)
		select {
		case <-l.ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		conn, err := l.connect(l.ctx)
		if err == nil {
			return conn
		}
		if l.ctx.Err() != nil {
			return nil
		}
		// One line when the connection is lost and one when it is back:
		// the attempts in between are expected while the server is down.
		l.s.cfg.logger.Debug("postgres: listener reconnect failed", "err", err, "retry_in", backoff)
		backoff = min(backoff*2, listenerBackoffMax)
	}
}

func (l *listener) broadcast(n store.Notification) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for ch := range l.subs {
		select {
		case ch <- n:
		default: // full: a wake-up is pending already
		}
	}
}

func (l *listener) subscribe(ctx context.Context) <-chan store.Notification {
	ch := make(chan store.Notification, subscriptionBuffer)
	l.mu.Lock()
	l.subs[ch] = struct{}{}
	l.mu.Unlock()
	go func() {
		select {
		case <-ctx.Done():
		case <-l.done:
		}
		l.mu.Lock()
		delete(l.subs, ch)
		close(ch)
		l.mu.Unlock()
	}()
	return ch
}

// close stops the listener and waits for it, which closes every
// subscription.
func (l *listener) close() {
	l.cancel()
	<-l.done
}
