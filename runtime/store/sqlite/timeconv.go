package sqlite

import "time"

// Times are stored as integer Unix nanoseconds; 0 stands for the zero
// time.Time ("not set").

func toNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}
