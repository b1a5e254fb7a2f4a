package durable

import "slices"

// StopServing makes the engine stop claiming new runs and activity
// attempts of queues, which Serve or WithQueues added; what it is working
// on goes on. It is what stopping one of several Temporal workers of a
// process means: the other queues are still served, and another process
// serving the queue takes its work.
func (e *Engine) StopServing(queues ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	next := slices.DeleteFunc(slices.Clone(*e.queues.Load()), func(q string) bool {
		return slices.Contains(queues, q) || q == QueueDefault && slices.Contains(queues, "")
	})
	e.queues.Store(&next)
}
