package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"strconv"
	"strings"
	"testing"

	dubbo "dubbo.apache.org/dubbo-go/v3"
	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/global"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/precedence"
	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	publishv1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/publish/v1"
)

// The .proto defaults that providers publish (the plugin parameter
// publish_defaults=true; docs/design.md, "Registries"), through ZooKeeper.
// publish/v1/publish.proto declares, for publish.v1.PublishService:
// Declared 3 retries, Never 0, Undeclared nothing, Limited 1 retry and a
// timeout of 300ms. Its generated file registers a config post-processor
// that writes methods.<M>.retries and methods.<M>.timeout on the URL a
// provider exports, where the provider set neither the method's nor the
// service's value.

// publishCall calls method of PublishService with req.
type publishCall func(ctx context.Context, method string, req *publishv1.Request, opts ...client.CallOption) error

// The methods of PublishService, in the order of the tables.
var publishMethods = []string{"Declared", "Never", "Undeclared", "Limited"}

// slowLimited is the name of the probe that makes the first attempt of
// Limited slow: its .proto timeout cuts it (2 attempts) where something
// applies it, else it answers (1 attempt).
const slowLimited = "Limited, slow"

// publishProbes returns the probes of a publish scenario made through
// call: each method failing every attempt, and slowLimited, then extra.
func publishProbes(call publishCall, extra ...probe) ([]probeCall, []probe) {
	discover := []probeCall{func(ctx context.Context, id string) error {
		return call(ctx, "Undeclared", &publishv1.Request{Id: id}, client.WithCallRetries(0))
	}}
	var probes []probe
	for _, m := range publishMethods {
		probes = append(probes, probe{
			name: m,
			call: func(ctx context.Context, id string) error {
				return call(ctx, m, &publishv1.Request{Id: id, Fail: 1000})
			},
			code: triple_protocol.CodeUnavailable,
		})
	}
	probes = append(probes, probe{
		name: slowLimited,
		call: func(ctx context.Context, id string) error {
			return call(ctx, "Limited", &publishv1.Request{Id: id + testbed.PublishSlowMark, Fail: 1})
		},
	})
	return discover, append(probes, extra...)
}

// plainCall calls through a connection, as protoc-gen-go-triple's code
// does.
func plainCall(conn *client.Connection) publishCall {
	return func(ctx context.Context, method string, req *publishv1.Request, opts ...client.CallOption) error {
		return conn.CallUnary(ctx, []any{req}, new(publishv1.Response), method, opts...)
	}
}

// serviceCall calls through a generated client.
func serviceCall(svc publishv1.PublishService) publishCall {
	return func(ctx context.Context, method string, req *publishv1.Request, opts ...client.CallOption) error {
		var err error
		switch method {
		case "Declared":
			_, err = svc.Declared(ctx, req, opts...)
		case "Never":
			_, err = svc.Never(ctx, req, opts...)
		case "Undeclared":
			_, err = svc.Undeclared(ctx, req, opts...)
		case "Limited":
			_, err = svc.Limited(ctx, req, opts...)
		default:
			err = fmt.Errorf("no method %s", method)
		}
		return err
	}
}

// The consumers of PublishService, each a probe scenario.
const (
	// plainConsumer is a consumer of protoc-gen-go-triple's code: a bare
	// cli.DialWithInfo and conn.CallUnary.
	plainConsumer = "publish: plain"
	// loadConsumer is a consumer created by dubbo.Load, from
	// publishv1.SetConsumerPublishService: dubbo-go dials it as
	// plainConsumer, without the generated constructor.
	loadConsumer = "publish: dubbo.Load"
	// generatedConsumer and the others are created by the generated
	// NewPublishService.
	generatedConsumer     = "publish: NewPublishService"
	withRetriesConsumer   = "publish: NewPublishService(WithRetries(1))"
	clientRetriesConsumer = "publish: WithClientRetries(5), NewPublishService"
	// withMethodConsumer's NewPublishService is given WithMethod for
	// Declared (1 retry), Undeclared (4) and Limited (a timeout of 5s).
	withMethodConsumer = "publish: NewPublishService(WithMethod)"
)

// neverWithCallRetries is the probe of generatedConsumer that calls Never
// with client.WithCallRetries(2).
const neverWithCallRetries = "Never, WithCallRetries(2)"

// generated is the scenario of a NewPublishService given opts, from a
// client given clientOpts.
func generated(name string, clientOpts []client.ClientOption, opts []client.ReferenceOption, extra ...func(publishCall) probe) probeScenario {
	return probeScenario{
		name: name,
		start: func(cfg consumerConfig) ([]probeCall, []probe, error) {
			cli, err := newClient(cfg, append([]client.ClientOption{client.WithClientFilter(urlParamsFilter)}, clientOpts...)...)
			if err != nil {
				return nil, nil, err
			}
			svc, err := publishv1.NewPublishService(cli, opts...)
			if err != nil {
				return nil, nil, err
			}
			call := serviceCall(svc)
			var more []probe
			for _, e := range extra {
				more = append(more, e(call))
			}
			d, p := publishProbes(call, more...)
			return d, p, nil
		},
	}
}

// publishScenarios are the consumers of TestPublishedDefaults. Which
// attempts each call makes depends on the provider: see publishVariants.
var publishScenarios = []probeScenario{
	{
		name: plainConsumer,
		start: func(cfg consumerConfig) ([]probeCall, []probe, error) {
			cli, err := newClient(cfg, client.WithClientFilter(urlParamsFilter))
			if err != nil {
				return nil, nil, err
			}
			conn, err := cli.DialWithInfo(publishv1.PublishServiceName, &publishv1.PublishService_ClientInfo)
			if err != nil {
				return nil, nil, err
			}
			d, p := publishProbes(plainCall(conn))
			return d, p, nil
		},
	},
	{
		name: loadConsumer,
		start: func(cfg consumerConfig) ([]probeCall, []probe, error) {
			ins, err := dubbo.NewInstance(cfg.Registry.Instance(consumerApp)...)
			if err != nil {
				return nil, nil, err
			}
			opts := ins.GetInstanceOptionsSnapshot()
			opts.Consumer.Filter = urlParamsFilter
			svc := new(publishv1.PublishServiceImpl)
			publishv1.SetConsumerPublishService(svc)
			if err := dubbo.Load(dubbo.WithInstanceOptions(opts)); err != nil {
				return nil, nil, err
			}
			d, p := publishProbes(serviceCall(svc))
			return d, p, nil
		},
	},
	generated(generatedConsumer, nil, nil, func(call publishCall) probe {
		return probe{
			name: neverWithCallRetries,
			call: func(ctx context.Context, id string) error {
				return call(ctx, "Never", &publishv1.Request{Id: id, Fail: 1000}, client.WithCallRetries(2))
			},
			code: triple_protocol.CodeUnavailable,
		}
	}),
	generated(withRetriesConsumer, nil, []client.ReferenceOption{client.WithRetries(1)}),
	generated(clientRetriesConsumer, []client.ClientOption{client.WithClientRetries(5)}, nil),
	generated(withMethodConsumer, nil, []client.ReferenceOption{
		client.WithMethod(&global.MethodConfig{Name: "Declared", Retries: "1"}),
		client.WithMethod(&global.MethodConfig{Name: "Undeclared", Retries: "4"}),
		client.WithMethod(&global.MethodConfig{Name: "Limited", RequestTimeout: precedence.Long.String()}),
	}),
}

// attemptsOf is a row of a table: the attempts of Declared, Never,
// Undeclared and Limited failing every attempt, and of slowLimited.
func attemptsOf(declared, never, undeclared, limited, slow uint32, extra ...any) map[string]uint32 {
	m := map[string]uint32{"Declared": declared, "Never": never, "Undeclared": undeclared, "Limited": limited, slowLimited: slow}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1].(uint32)
	}
	return m
}

// published is what the provider publishes where it sets nothing:
// the .proto's retries and timeouts, as method-level values.
var published = map[string]string{
	"methods.Declared.retries": "3",
	"methods.Never.retries":    "0",
	"methods.Limited.retries":  "1",
	"methods.Limited.timeout":  "300ms",
}

// with returns m with the changes of kv (key, value, ...; an empty value
// deletes the key).
func with(m map[string]string, kv ...string) map[string]string {
	out := maps.Clone(m)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

// A publishVariant is a provider of PublishService, and what its
// consumers see.
type publishVariant struct {
	name     string
	iface    bool
	provider testbed.ProviderConfig // Services is filled in
	// params are the retries and timeouts of the provider's URL in
	// ZooKeeper (with the default registration, of its metadata), which
	// the URL of a plain consumer's calls must carry too.
	params map[string]string
	// want are the attempts of each call, by consumer; only these
	// consumers run.
	want map[string]map[string]uint32
}

// The provider's own settings in publishVariants.
const (
	providerDeclared = 6 // server.WithMethod(Declared, 6)
	providerService  = 4 // server.WithRetries(4)
)

// publishVariants are the providers of TestPublishedDefaults, each in a
// registry group of its own. The attempts of a call are its retries + 1;
// slowLimited makes 2 where the .proto's 300ms cuts its slow attempt, 1
// where nothing applies it.
var publishVariants = []publishVariant{
	{
		// The .proto's defaults reach every consumer, generated or not:
		// dubbo-go's failover reads methods.<M>.retries. Only a consumer
		// generated by this plugin applies the timeout; dubbo-go's own
		// read no methods.<M>.timeout.
		name:   "interface-level",
		iface:  true,
		params: published,
		want: map[string]map[string]uint32{
			plainConsumer:     attemptsOf(4, 1, 3, 2, 1),
			loadConsumer:      attemptsOf(4, 1, 3, 2, 1),
			generatedConsumer: attemptsOf(4, 1, 3, 2, 2, neverWithCallRetries, uint32(3)),
			// The caller's WithRetries beats the published method values:
			// the generated constructor gives it to each method with a
			// .proto default.
			withRetriesConsumer:   attemptsOf(2, 2, 2, 2, 2),
			clientRetriesConsumer: attemptsOf(4, 1, 6, 2, 2),
			// A WithMethod timeout beats the published one (Dubbo's rule:
			// at the same level, the consumer beats the provider).
			withMethodConsumer: attemptsOf(2, 1, 5, 2, 1),
		},
	},
	{
		// With dubbo-go's default, application-level registration, the
		// provider's URL reaches consumers through its metadata, which
		// keeps only the keys of metadata/info.IncludeKeys: the timeout,
		// not the retries. Plain consumers get dubbo-go's 2 retries
		// everywhere (and ignore the timeout); generated consumers are
		// unaffected.
		name:   "default registration",
		params: map[string]string{"methods.Limited.timeout": "300ms"},
		want: map[string]map[string]uint32{
			plainConsumer:         attemptsOf(3, 3, 3, 3, 1),
			loadConsumer:          attemptsOf(3, 3, 3, 3, 1),
			generatedConsumer:     attemptsOf(4, 1, 3, 2, 2, neverWithCallRetries, uint32(3)),
			withRetriesConsumer:   attemptsOf(2, 2, 2, 2, 2),
			clientRetriesConsumer: attemptsOf(4, 1, 6, 2, 2),
			withMethodConsumer:    attemptsOf(2, 1, 5, 2, 1),
		},
	},
	{
		// The provider's server.WithMethod for Declared beats the
		// .proto's in what it publishes. A generated consumer's .proto
		// default is a method value of the consumer's, which beats it.
		name:     "interface-level, server.WithMethod(Declared, 6)",
		iface:    true,
		provider: testbed.ProviderConfig{MethodRetries: map[string]map[string]int{"PublishService": {"Declared": providerDeclared}}},
		params:   with(published, "methods.Declared.retries", strconv.Itoa(providerDeclared)),
		want: map[string]map[string]uint32{
			plainConsumer:       attemptsOf(providerDeclared+1, 1, 3, 2, 1),
			generatedConsumer:   attemptsOf(4, 1, 3, 2, 2, neverWithCallRetries, uint32(3)),
			withRetriesConsumer: attemptsOf(2, 2, 2, 2, 2),
		},
	},
	{
		// The provider's server.WithRetries stops the publishing of every
		// method's retries: a plain consumer gets the provider's retries
		// for all of them.
		name:     "interface-level, server.WithRetries(4)",
		iface:    true,
		provider: testbed.ProviderConfig{ServerRetries: intPtr(providerService)},
		params: with(published, "retries", strconv.Itoa(providerService),
			"methods.Declared.retries", "", "methods.Never.retries", "", "methods.Limited.retries", ""),
		want: map[string]map[string]uint32{
			plainConsumer:       attemptsOf(providerService+1, providerService+1, providerService+1, providerService+1, 1),
			generatedConsumer:   attemptsOf(4, 1, providerService+1, 2, 2, neverWithCallRetries, uint32(3)),
			withRetriesConsumer: attemptsOf(2, 2, 2, 2, 2),
		},
	},
	{
		// A provider registered with SetProviderPublishService and
		// started by dubbo.Load publishes as one registered with
		// RegisterPublishServiceHandler.
		name:     "interface-level, dubbo.Load",
		iface:    true,
		provider: testbed.ProviderConfig{Load: true},
		params:   published,
		want: map[string]map[string]uint32{
			plainConsumer:     attemptsOf(4, 1, 3, 2, 1),
			loadConsumer:      attemptsOf(4, 1, 3, 2, 1),
			generatedConsumer: attemptsOf(4, 1, 3, 2, 2, neverWithCallRetries, uint32(3)),
		},
	},
}

func intPtr(n int) *int { return &n }

// TestPublishedDefaults checks what the .proto defaults published by the
// providers of PublishService do to consumers found through ZooKeeper: the
// attempts of each call of each consumer, for each provider of
// publishVariants; the retries and timeouts on the provider's URL in
// ZooKeeper; the same on the URL the calls of a plain consumer go to; and
// that the provider (a dubbo.Load one too) listens on 127.0.0.1 only.
func TestPublishedDefaults(t *testing.T) {
	t.Parallel()
	zk := testbed.StartZooKeeper(t)
	for _, v := range publishVariants {
		t.Run(v.name, func(t *testing.T) {
			r := testbed.Registry{Addr: zk.Addr, Group: newGroup(t), Interface: v.iface}
			cfg := v.provider
			cfg.Services = []string{"PublishService"}
			p := startProvider(t, "A", r, cfg)
			var scenarios []probeScenario
			for _, sc := range publishScenarios {
				if v.want[sc.name] != nil {
					scenarios = append(scenarios, sc)
				}
			}
			reports := checkProbeScenarios(t, r, p, scenarios, v.want)
			logProbes(t, scenarios, reports)

			for _, name := range []string{plainConsumer, loadConsumer} {
				if rep := reports[name]; rep != nil && !maps.Equal(rep.Params, v.params) {
					t.Errorf("%s: its calls went to a URL with %s, want %s", name, formatParams(rep.Params), formatParams(v.params))
				}
			}
			for _, sc := range scenarios {
				if rep := reports[sc.name]; rep != nil {
					t.Logf("%s: the URL of its calls has %s", sc.name, formatParams(rep.Params))
				}
			}

			p.CheckLoopbackOnly(t)
			got, where, err := publishedParams(zkTree(t, zk.Addr), r)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("in ZooKeeper, %s has %s", where, formatParams(got))
			if !maps.Equal(got, v.params) {
				t.Errorf("in ZooKeeper, %s has %s, want %s", where, formatParams(got), formatParams(v.params))
			}
		})
	}
}

// publishedParams returns the retries and timeouts (the keys param
// matches) that the provider of PublishService registered in r: with
// interface-level registration, those of its URL; with the default
// registration, those of the service in the application's metadata, named
// as the consumer's URL names them (methods.<M>.<key> for <M>.<key>). It
// also says where it found them.
func publishedParams(nodes []zkNode, r testbed.Registry) (map[string]string, string, error) {
	var found []map[string]string
	var where string
	for _, n := range nodes {
		if r.Interface {
			prefix := "/" + r.Group + "/" + publishv1.PublishServiceName + "/providers/"
			name, ok := strings.CutPrefix(n.Path, prefix)
			if !ok || name == "" {
				continue
			}
			raw, err := url.QueryUnescape(name)
			if err != nil {
				return nil, "", fmt.Errorf("node %s: %v", n.Path, err)
			}
			u, err := url.Parse(raw)
			if err != nil {
				return nil, "", fmt.Errorf("node %s: %v", n.Path, err)
			}
			params := make(map[string]string)
			for k, vs := range u.Query() {
				if len(vs) > 0 && vs[0] != "" && param.MatchString(k) {
					params[k] = vs[0]
				}
			}
			found = append(found, params)
			where = "the provider's URL " + prefix + "..."
			continue
		}
		prefix := "/" + r.MetadataGroup() + "/" + testbed.ProviderApp + "/"
		if !strings.HasPrefix(n.Path, prefix) || n.Data == "" {
			continue
		}
		var md struct {
			Services map[string]struct {
				Name   string
				Params map[string]string
			}
		}
		if err := json.Unmarshal([]byte(n.Data), &md); err != nil {
			continue
		}
		for _, s := range md.Services {
			if s.Name != publishv1.PublishServiceName {
				continue
			}
			methods := make(map[string]bool)
			for _, m := range strings.Split(s.Params["methods"], ",") {
				methods[m] = true
			}
			params := make(map[string]string)
			for k, v := range s.Params {
				if m, _, ok := strings.Cut(k, "."); ok && methods[m] {
					k = "methods." + k
				}
				if v != "" && param.MatchString(k) {
					params[k] = v
				}
			}
			found = append(found, params)
			where = "the provider's metadata " + n.Path
		}
	}
	switch len(found) {
	case 0:
		return nil, "", fmt.Errorf("no registration of %s in group %s", publishv1.PublishServiceName, r.Group)
	case 1:
		return found[0], where, nil
	}
	return nil, "", fmt.Errorf("%d registrations of %s in group %s, want 1: %v", len(found), publishv1.PublishServiceName, r.Group, found)
}
