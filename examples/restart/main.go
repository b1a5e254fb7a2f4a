// Command restart runs an order workflow durably on an embedded SQLite
// file, kills its own worker process with SIGKILL half-way, starts it again
// and lets the workflow finish from where it was: completed steps are not
// repeated, and the durable sleep keeps its deadline.
//
//	go run ./examples/restart
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/durablego/toolkit/runtime/durable"
)

// Order is the workflow: plain Go, whose waiting points are durable.
func Order(ctx context.Context, id string) (string, error) {
	if err := durable.Exec(ctx, Reserve, id); err != nil {
		return "", err
	}
	receipt, err := durable.Call[string](ctx, Charge, id)
	if err != nil {
		return "", err
	}
	if err := durable.Sleep(ctx, 2*time.Second); err != nil { // wait for the warehouse
		return "", err
	}
	tracking, err := durable.Call[string](ctx, Ship, id)
	if err != nil {
		return "", err
	}
	return receipt + ", " + tracking, nil
}

func Reserve(ctx context.Context, id string) error {
	say("reserve stock for %s (attempt %d)", id, durable.GetActivityInfo(ctx).Attempt)
	return nil
}

func Charge(ctx context.Context, id string) (string, error) {
	say("charge the card for %s (attempt %d)", id, durable.GetActivityInfo(ctx).Attempt)
	return "receipt R-" + id, nil
}

func Ship(ctx context.Context, id string) (string, error) {
	say("ship %s (attempt %d)", id, durable.GetActivityInfo(ctx).Attempt)
	return "tracking T-" + id, nil
}

func say(format string, args ...any) { fmt.Printf("  worker: "+format+"\n", args...) }

func main() {
	if db := os.Getenv("RESTART_DEMO_DB"); db != "" {
		if err := worker(db); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		return
	}
	if err := demo(); err != nil {
		fmt.Fprintln(os.Stderr, "restart:", err)
		os.Exit(1)
	}
}

// worker is the process that gets killed: it starts the order (unless a
// previous process did) and works it until it completes.
func worker(db string) error {
	ctx := context.Background()
	e, err := durable.Open(ctx, "sqlite:"+db, durable.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return err
	}
	defer e.Close()
	e.RegisterWorkflow(Order)
	e.RegisterActivity(Reserve)
	e.RegisterActivity(Charge)
	e.RegisterActivity(Ship)
	run, err := e.Start(ctx, durable.StartOptions{ID: "order-42"}, Order, "42")
	switch {
	case errors.Is(err, durable.ErrAlreadyStarted):
		say("order-42 is already in the store; it resumes on its own")
		run = e.Run("order-42")
	case err != nil:
		return err
	default:
		say("started order-42")
	}
	var result string
	if err := run.Get(ctx, &result); err != nil {
		return err
	}
	say("order-42 completed: %s", result)
	return nil
}

// demo runs the worker, kills it once the card is charged, and runs it again.
func demo() error {
	dir, err := os.MkdirTemp("", "durable-restart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db := filepath.Join(dir, "demo.db")
	self, err := os.Executable()
	if err != nil {
		return err
	}
	fmt.Println("store:", db)
	fmt.Println("first worker process:")
	if err := runWorker(self, db, "charge the card"); err != nil {
		return err
	}
	fmt.Println("-- killed the worker with SIGKILL while the workflow sleeps --")
	fmt.Println("second worker process:")
	return runWorker(self, db, "")
}

// runWorker runs a worker process, echoing its output, and kills it after
// it prints a line containing killAfter (when set).
func runWorker(self, db, killAfter string) error {
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), "RESTART_DEMO_DB="+db)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		fmt.Println(sc.Text())
		if killAfter != "" && strings.Contains(sc.Text(), killAfter) {
			time.Sleep(200 * time.Millisecond) // let the result commit
			_ = cmd.Process.Kill()             // SIGKILL: no clean-up runs
			_ = cmd.Wait()
			return nil
		}
	}
	return cmd.Wait()
}
