package durable_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// privatePG is a PostgreSQL server of a test's own, in a temporary
// directory on a free loopback port, made with the initdb and pg_ctl of the
// machine's PostgreSQL installation. A test may stop and start it without
// disturbing the shared server the other tests use.
type privatePG struct {
	bin  string // directory of initdb, pg_ctl, postgres
	dir  string // base directory: data/, the socket, the log
	port int
	cred *syscall.Credential // the user the server runs as when we are root
}

// pgBinDir finds the newest /usr/lib/postgresql/*/bin with initdb and
// pg_ctl, or $DURABLE_TEST_PG_BIN.
func pgBinDir() (string, error) {
	if d := os.Getenv("DURABLE_TEST_PG_BIN"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
				return d, nil
			}
		}
	}
	return "", fmt.Errorf("no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin; set DURABLE_TEST_PG_BIN")
}

// startPrivatePG initializes and starts a private server; cleanup stops it
// and removes its files. PostgreSQL refuses to run as root, so as root
// (CI) the server runs as the "postgres" user.
func startPrivatePG(t *testing.T) *privatePG {
	t.Helper()
	bin, err := pgBinDir()
	require.NoError(t, err)
	dir, err := os.MkdirTemp("", "durable-pg-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := &privatePG{bin: bin, dir: dir, port: freePort(t)}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		require.NoError(t, err, "running as root, the private server needs the postgres user")
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		require.NoError(t, os.Chown(dir, uid, gid))
	}
	p.run(t, "initdb", "-D", p.data(), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
	p.start(t)
	t.Cleanup(func() {
		if _, err := os.Stat(filepath.Join(p.data(), "postmaster.pid")); err == nil {
			p.run(t, "pg_ctl", "-D", p.data(), "-m", "immediate", "-w", "stop")
		}
	})
	return p
}

// startStandby makes a streaming standby of p with pg_basebackup, in a
// directory and on a port of its own, and starts it.
func (p *privatePG) startStandby(t *testing.T) *privatePG {
	t.Helper()
	dir, err := os.MkdirTemp("", "durable-pg-standby-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	sb := &privatePG{bin: p.bin, dir: dir, port: freePort(t), cred: p.cred}
	if sb.cred != nil {
		require.NoError(t, os.Chown(dir, int(sb.cred.Uid), int(sb.cred.Gid)))
	}
	// -R writes standby.signal and primary_conninfo.
	sb.run(t, "pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(p.port), "-U", "postgres", "-D", sb.data(), "-R", "-X", "stream", "--no-sync")
	sb.start(t)
	t.Cleanup(func() {
		if _, err := os.Stat(filepath.Join(sb.data(), "postmaster.pid")); err == nil {
			sb.run(t, "pg_ctl", "-D", sb.data(), "-m", "immediate", "-w", "stop")
		}
	})
	return sb
}

// promote makes a standby the primary and waits until it takes writes.
func (p *privatePG) promote(t *testing.T) {
	t.Helper()
	p.run(t, "pg_ctl", "-D", p.data(), "-w", "-t", "60", "promote")
}

func (p *privatePG) data() string { return filepath.Join(p.dir, "data") }

// DSN names the server's postgres database.
func (p *privatePG) DSN() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
}

// start starts the server and waits until it accepts connections.
func (p *privatePG) start(t *testing.T) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", p.port, p.dir)
	p.run(t, "pg_ctl", "-D", p.data(), "-o", opts, "-l", filepath.Join(p.dir, "server.log"), "-w", "-t", "60", "start")
}

// stop shuts the server down as a restart does (fast mode: sessions are
// terminated with SQLSTATE 57P01, open transactions roll back).
func (p *privatePG) stop(t *testing.T) {
	t.Helper()
	p.run(t, "pg_ctl", "-D", p.data(), "-m", "fast", "-w", "-t", "60", "stop")
}

func (p *privatePG) run(t *testing.T, tool string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(p.bin, tool), args...)
	cmd.Dir = p.dir
	if p.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(p.dir, "server.log"))
		require.NoError(t, err, "%s %v:\n%s\nserver log:\n%s", tool, args, out, log)
	}
}

// freePort returns a loopback TCP port nobody listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
