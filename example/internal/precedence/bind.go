package precedence

import (
	"context"
	"fmt"

	"dubbo.apache.org/dubbo-go/v3/client"

	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// Unary is a unary method of a generated client of e2e/v1.
type Unary func(context.Context, *e2ev1.Request, ...client.CallOption) (*e2ev1.Response, error)

// Slow is a unary method of a generated client of the timeout services.
type Slow func(context.Context, *e2ev1.SlowRequest, ...client.CallOption) (*e2ev1.SlowResponse, error)

// ClientOptions returns the options of the client of s.
func (s Scenario) ClientOptions() []client.ClientOption { return clientOptions(s.Settings) }

// A Bound is a call of a scenario, on services created from a client.
type Bound struct {
	Call
	// Do makes the call with a request: with the call's settings, then the
	// options it is given.
	Do Unary
}

// Bind creates from cli, which must have s's client options
// (ClientOptions), the services that the calls of s call, one of each
// interface, each with the options s gives it, in the order the calls
// first name them; it returns the calls, ready to make.
func (s Scenario) Bind(cli *client.Client) ([]Bound, error) {
	created := make(map[string]map[string]Unary)
	out := make([]Bound, len(s.Calls))
	for i, c := range s.Calls {
		svc, ok := created[c.Method.Service]
		if !ok {
			var err error
			opts := referenceOptions(s.Settings, c.Method.Service, sameName)
			if s.Bare {
				svc, err = dialBare(cli, c.Method.Service, opts)
			} else {
				svc, err = newService(cli, c.Method.Service, opts)
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %v", s.Name, c.Method.Service, err)
			}
			created[c.Method.Service] = svc
		}
		m := svc[c.Method.Name]
		if m == nil {
			return nil, fmt.Errorf("%s: no method %s", s.Name, c.Method)
		}
		opts := callOptions(c.Settings)
		out[i] = Bound{Call: c, Do: func(ctx context.Context, req *e2ev1.Request, extra ...client.CallOption) (*e2ev1.Response, error) {
			return m(ctx, req, append(opts[:len(opts):len(opts)], extra...)...)
		}}
	}
	return out, nil
}

// newService creates the generated client of e2e/v1's service, and
// returns its unary methods by name.
func newService(cli *client.Client, service string, opts []client.ReferenceOption) (map[string]Unary, error) {
	switch service {
	case "LayerService":
		svc, err := e2ev1.NewLayerService(cli, opts...)
		if err != nil {
			return nil, err
		}
		return map[string]Unary{"Declared": svc.Declared, "Undeclared": svc.Undeclared, "Never": svc.Never}, nil
	case "PlainService":
		svc, err := e2ev1.NewPlainService(cli, opts...)
		if err != nil {
			return nil, err
		}
		return map[string]Unary{"Declared": svc.Declared, "Undeclared": svc.Undeclared}, nil
	case "GuardedService":
		svc, err := e2ev1.NewGuardedService(cli, opts...)
		if err != nil {
			return nil, err
		}
		return map[string]Unary{"Read": svc.Read, "Write": svc.Write}, nil
	case "FileDefaultService":
		svc, err := e2ev1.NewFileDefaultService(cli, opts...)
		if err != nil {
			return nil, err
		}
		return map[string]Unary{"Inherit": svc.Inherit}, nil
	}
	return nil, fmt.Errorf("no service %s", service)
}

// clientInfos are the ClientInfo of the services Bind can dial bare.
var clientInfos = map[string]*client.ClientInfo{
	"LayerService":       &e2ev1.LayerService_ClientInfo,
	"PlainService":       &e2ev1.PlainService_ClientInfo,
	"GuardedService":     &e2ev1.GuardedService_ClientInfo,
	"FileDefaultService": &e2ev1.FileDefaultService_ClientInfo,
}

// dialBare dials e2e/v1's service as protoc-gen-go-triple's code does, and
// returns its unary methods by name.
func dialBare(cli *client.Client, service string, opts []client.ReferenceOption) (map[string]Unary, error) {
	info := clientInfos[service]
	if info == nil {
		return nil, fmt.Errorf("no service %s", service)
	}
	conn, err := cli.DialWithInfo(info.InterfaceName, info, opts...)
	if err != nil {
		return nil, err
	}
	methods := make(map[string]Unary)
	for _, m := range info.MethodNames {
		methods[m] = func(ctx context.Context, req *e2ev1.Request, opts ...client.CallOption) (*e2ev1.Response, error) {
			resp := new(e2ev1.Response)
			return resp, conn.CallUnary(ctx, []any{req}, resp, m, opts...)
		}
	}
	return methods, nil
}
