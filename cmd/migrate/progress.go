package main

import (
	"io"
	"os"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
)

// progress shows how a conversion advances on stderr, when stderr is a
// terminal; otherwise (pipes, CI logs, tests) it shows nothing.
type progress struct {
	bar *progressbar.ProgressBar
	w   io.Writer
}

// newProgress starts a spinner with a description; update turns it into a
// bar once the total is known.
func newProgress(w io.Writer, desc string) *progress {
	f, ok := w.(*os.File)
	if !ok || !(isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		return &progress{}
	}
	return &progress{w: w, bar: progressbar.NewOptions(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionClearOnFinish(),
	)}
}

// update reports done of total files converted.
func (p *progress) update(done, total int) {
	if p.bar == nil {
		return
	}
	if p.bar.GetMax() != total {
		p.bar.ChangeMax(total)
		p.bar.Describe("converting files")
	}
	_ = p.bar.Set(done)
}

// finish clears the display.
func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
