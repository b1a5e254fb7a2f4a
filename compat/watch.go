package compat

import (
	"bytes"
	"context"
	"os"
	"time"
)

// WatchIntervalDefault is how often WatchPolicy looks at its file.
const WatchIntervalDefault = 2 * time.Second

// WatchPolicy loads the policy from a JSON file (see LoadPolicy) and
// keeps loading it whenever its content changes, every interval (0:
// WatchIntervalDefault), until ctx ends or Close. A file that does not
// load keeps the previous policy in force and is logged. The first load's
// error is returned.
func (c *Client) WatchPolicy(ctx context.Context, path string, interval time.Duration) error {
	p, err := LoadPolicy(path)
	if err != nil {
		return err
	}
	if err := c.SetPolicy(p); err != nil {
		return err
	}
	last, _ := os.ReadFile(path)
	if interval <= 0 {
		interval = WatchIntervalDefault
	}
	ctx, cancel := context.WithCancel(ctx)
	c.watchMu.Lock()
	if c.watchStop != nil {
		c.watchStop()
	}
	c.watchStop = cancel
	c.watchMu.Unlock()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		var suspect []byte // content that failed to load once
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			b, err := os.ReadFile(path)
			if err != nil || bytes.Equal(b, last) {
				continue
			}
			p, err := LoadPolicy(path)
			if err != nil {
				// The file may be caught mid-write: count it as broken only
				// when the same content fails on the next look too.
				if !bytes.Equal(b, suspect) {
					suspect = b
					continue
				}
				c.vars.Add("policy.errors", 1)
				c.log.Error("compat: policy file does not load; keeping the previous policy", "path", path, "error", err)
				last = b
				continue
			}
			suspect = nil
			last = b
			_ = c.SetPolicy(p)
		}
	}()
	return nil
}
