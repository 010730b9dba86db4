package dubboretry

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/cluster/directory"
	"dubbo.apache.org/dubbo-go/v3/cluster/directory/static"
	_ "dubbo.apache.org/dubbo-go/v3/cluster/loadbalance/random"
	"dubbo.apache.org/dubbo-go/v3/common"
	"dubbo.apache.org/dubbo-go/v3/common/constant"
	protocolbase "dubbo.apache.org/dubbo-go/v3/protocol/base"
	"dubbo.apache.org/dubbo-go/v3/protocol/invocation"
	"dubbo.apache.org/dubbo-go/v3/protocol/result"
	"github.com/dubbogo/gost/log/logger"
)

func init() {
	// The cluster logs every failed call; the tests fail calls on purpose.
	logger.SetLoggerLevel("fatal")
}

// provider is a fake provider invoker: each attempt returns what fail
// says for the attempt's number (1, 2, ...) among the provider's attempts.
type provider struct {
	url  *common.URL
	fail func(n int) error
	// answer, when set, is the attempt instead of fail: it sees the
	// attempt's context and invocation.
	answer func(ctx context.Context, inv protocolbase.Invocation, n int) error

	mu       sync.Mutex
	attempts int
}

func (p *provider) GetURL() *common.URL { return p.url }
func (p *provider) IsAvailable() bool   { return true }
func (p *provider) Destroy()            {}

func (p *provider) Invoke(ctx context.Context, inv protocolbase.Invocation) result.Result {
	p.mu.Lock()
	p.attempts++
	n := p.attempts
	p.mu.Unlock()
	var err error
	switch {
	case p.answer != nil:
		err = p.answer(ctx, inv, n)
	case p.fail != nil:
		err = p.fail(n)
	}
	return &result.RPCResult{Err: err}
}

func (p *provider) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.attempts
}

// serviceURL returns the URL of a provider of e2e.v1.LayerService with
// params, as dubbo-go merges the consumer's parameters onto a direct URL.
func serviceURL(t testing.TB, port int, params url.Values) *common.URL {
	t.Helper()
	q := url.Values{constant.InterfaceKey: {"e2e.v1.LayerService"}}
	for k, v := range params {
		q[k] = v
	}
	u, err := common.NewURL(fmt.Sprintf("tri://127.0.0.1:%d/e2e.v1.LayerService?%s", port, q.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// fakeCluster is a cluster invoker over providers, with fake time.
type fakeCluster struct {
	*invoker
	providers []*provider
	delays    []time.Duration // the delays the calls waited, in order
	// cut, when set, ends a wait early: the context ended during it.
	cut func(n int, d time.Duration) bool
	env env // what the invoker was joined with
}

// newFakeCluster joins providers, one per fail function, whose URLs carry
// params. The budget of the service is bg, if not nil, and the jitter of
// delays is draws, in order.
func newFakeCluster(t testing.TB, params url.Values, bg *budget, draws []float64, fails ...func(int) error) *fakeCluster {
	t.Helper()
	fc := new(fakeCluster)
	invokers := make([]protocolbase.Invoker, len(fails))
	for i, f := range fails {
		p := &provider{url: serviceURL(t, 20000+i, params), fail: f}
		fc.providers = append(fc.providers, p)
		invokers[i] = p
	}
	e := env{
		sleep: func(ctx context.Context, d time.Duration) bool {
			fc.delays = append(fc.delays, d)
			if fc.cut != nil && fc.cut(len(fc.delays), d) {
				return false
			}
			return true
		},
		jitter: func() float64 {
			if len(draws) == 0 {
				t.Fatal("a delay drew more jitter than the test gave")
			}
			u := draws[0]
			draws = draws[1:]
			return u
		},
	}
	if bg != nil {
		e.budget = func(string, Budget) *budget { return bg }
	}
	fc.env = e
	fc.invoker = newInvoker(static.NewDirectory(invokers), e)
	return fc
}

// call makes one call of method with the call options' attachments.
func (fc *fakeCluster) call(ctx context.Context, method string, attachments map[string]any) error {
	inv := invocation.NewRPCInvocationWithOptions(
		invocation.WithMethodName(method),
		invocation.WithAttachments(attachments),
	)
	inv.SetAttribute(constant.CallTypeKey, constant.CallUnary)
	return fc.Invoke(ctx, inv).Error()
}

func (fc *fakeCluster) attempts() int {
	n := 0
	for _, p := range fc.providers {
		n += p.count()
	}
	return n
}

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// protoPolicy is an option that does what Dial does for a service whose
// .proto declares s, where it stands among the options: for tests that look
// at the cluster alone.
func protoPolicy(s *Service) client.ReferenceOption {
	_, all, err := s.options(nil)
	if err != nil {
		panic(err)
	}
	return func(o *client.ReferenceOptions) {
		for _, opt := range all {
			opt(o)
		}
	}
}

// dialed is the option through which Dial hands the cluster v, the value
// of its parameter, as Dial writes it (retries and timeouts included).
func dialed(v string) client.ReferenceOption {
	return func(o *client.ReferenceOptions) {
		o.Reference = o.Reference.Clone()
		usePolicy(o.Reference, paramProto, v)
	}
}

// listing is a directory whose List returns what lists says for the n-th
// listing (1, 2, ...): providers that come and go.
type listing struct {
	directory.Directory
	lists func(n int) []protocolbase.Invoker

	mu sync.Mutex
	n  int
}

func (l *listing) List(protocolbase.Invocation) []protocolbase.Invoker {
	l.mu.Lock()
	l.n++
	n := l.n
	l.mu.Unlock()
	return l.lists(n)
}

// newListingCluster is newFakeCluster over providers that lists lists.
func newListingCluster(t testing.TB, params url.Values, bg *budget, lists func(n int, providers []protocolbase.Invoker) []protocolbase.Invoker, fails ...func(int) error) *fakeCluster {
	t.Helper()
	fc := newFakeCluster(t, params, bg, nil, fails...)
	providers := make([]protocolbase.Invoker, len(fc.providers))
	for i, p := range fc.providers {
		providers[i] = p
	}
	dir := &listing{Directory: static.NewDirectory(providers), lists: func(n int) []protocolbase.Invoker { return lists(n, providers) }}
	fc.invoker = newInvoker(dir, fc.env)
	return fc
}
