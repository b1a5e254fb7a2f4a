package durabletest

import "sync"

// VersionCall is an expectation set with OnGetVersion.
type VersionCall struct {
	e *Env
	v *versionMock
}

// versionMock is what OnGetVersion set up: the change ID ("" or Anything:
// any) and range it matches, and the version it returns.
type versionMock struct {
	changeID     string
	min, max     int
	version      int
	hasVersion   bool
	calls, times int
}

// versionMocks hold an Env's OnGetVersion expectations.
type versionMocks struct {
	mu    sync.Mutex
	mocks []*versionMock
}

// OnGetVersion sets the version durable.Version returns when a run first
// reaches changeID with this supported range, as Temporal's OnGetVersion
// does (without one, a run gets maxSupported): a test runs a workflow down
// an older version's path. changeID may be Anything. Set what it returns
// with Return.
func (e *Env) OnGetVersion(changeID string, minSupported, maxSupported int) *VersionCall {
	m := &versionMock{changeID: changeID, min: minSupported, max: maxSupported}
	e.versions.mu.Lock()
	e.versions.mocks = append(e.versions.mocks, m)
	e.versions.mu.Unlock()
	return &VersionCall{e: e, v: m}
}

// Return sets the version the call returns.
func (c *VersionCall) Return(version int) *VersionCall {
	c.e.versions.mu.Lock()
	defer c.e.versions.mu.Unlock()
	c.v.version, c.v.hasVersion = version, true
	return c
}

// Times makes the expectation answer n calls; later ones get the default.
func (c *VersionCall) Times(n int) *VersionCall {
	c.e.versions.mu.Lock()
	defer c.e.versions.mu.Unlock()
	c.v.times = n
	return c
}

// Once makes the expectation answer one call.
func (c *VersionCall) Once() *VersionCall { return c.Times(1) }

// choose is the engine's VersionChooser: the first expectation that
// matches and has answers left, else maxSupported.
func (vs *versionMocks) choose(changeID string, minSupported, maxSupported int) int {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	for _, m := range vs.mocks {
		if m.changeID != "" && m.changeID != Anything && m.changeID != changeID {
			continue
		}
		if m.min != minSupported || m.max != maxSupported || !m.hasVersion {
			continue
		}
		if m.times > 0 && m.calls >= m.times {
			continue
		}
		m.calls++
		return m.version
	}
	return maxSupported
}
