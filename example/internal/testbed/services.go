package testbed

import (
	"fmt"

	"dubbo.apache.org/dubbo-go/v3/server"

	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
	publishv1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/publish/v1"
)

// The services the handlers serve, by the names Register takes: those of
// e2e/v1, and PublishService.
var (
	// LayerServices are the services of layers.proto, file_default.proto
	// and faults.proto.
	LayerServices = []string{"LayerService", "PlainService", "GuardedService", "FileDefaultService", "FaultService"}
	// TimeoutServices are the services of timeouts.proto.
	TimeoutServices = []string{"TimeoutService", "ServiceTimeoutService", "NoTimeoutService"}
	// PolicyServices are the services of policy.proto.
	PolicyServices = []string{"RetryOnService", "BackoffService", "BudgetService", "SpareBudgetService", "LooseBudgetService", "FullPolicyService", "HedgeService"}
)

// registrar adds a service, served by the handlers of h, with opts.
type registrar func(srv *server.Server, h Handler, opts []server.ServiceOption) error

var services = map[string]registrar{
	"LayerService": func(srv *server.Server, h Handler, o []server.ServiceOption) error {
		return e2ev1.RegisterLayerServiceHandler(srv, &LayerServer{Unary(h)}, o...)
	},
	"PlainService": func(srv *server.Server, h Handler, o []server.ServiceOption) error {
		return e2ev1.RegisterPlainServiceHandler(srv, &PlainServer{Unary(h)}, o...)
	},
	"GuardedService": func(srv *server.Server, h Handler, o []server.ServiceOption) error {
		return e2ev1.RegisterGuardedServiceHandler(srv, &GuardedServer{Unary(h)}, o...)
	},
	"FileDefaultService": func(srv *server.Server, h Handler, o []server.ServiceOption) error {
		return e2ev1.RegisterFileDefaultServiceHandler(srv, &FileDefaultServer{Unary(h)}, o...)
	},
	"FaultService": func(srv *server.Server, h Handler, o []server.ServiceOption) error {
		return e2ev1.RegisterFaultServiceHandler(srv, &FaultServer{Unary(h)}, o...)
	},
	"RetryOnService": func(srv *server.Server, h Handler, o []server.ServiceOption) error {
		return e2ev1.RegisterRetryOnServiceHandler(srv, &RetryOnServer{Unary(h)}, o...)
	},
	"BackoffService": func(srv *server.Server, h Handler, o []server.ServiceOption) error {
		return e2ev1.RegisterBackoffServiceHandler(srv, &BackoffServer{Unary(h)}, o...)
	},
	"BudgetService": func(srv *server.Server, h Handler, o []server.ServiceOption) error {
		return e2ev1.RegisterBudgetServiceHandler(srv, &BudgetServer{Unary(h)}, o...)
	},
	"SpareBudgetService": func(srv *server.Server, h Handler, o []server.ServiceOption) error {
		return e2ev1.RegisterSpareBudgetServiceHandler(srv, &SpareBudgetServer{Unary(h)}, o...)
	},
	"LooseBudgetService": func(srv *server.Server, h Handler, o []server.ServiceOption) error {
		return e2ev1.RegisterLooseBudgetServiceHandler(srv, &LooseBudgetServer{Unary(h)}, o...)
	},
	"FullPolicyService": func(srv *server.Server, h Handler, o []server.ServiceOption) error {
		return e2ev1.RegisterFullPolicyServiceHandler(srv, &FullPolicyServer{Unary(h)}, o...)
	},
	"HedgeService": func(srv *server.Server, h Handler, o []server.ServiceOption) error {
		return e2ev1.RegisterHedgeServiceHandler(srv, &HedgeServer{Unary(h)}, o...)
	},
	"TimeoutService": func(srv *server.Server, h Handler, o []server.ServiceOption) error {
		return e2ev1.RegisterTimeoutServiceHandler(srv, &TimeoutServer{Slow{h.Log}}, o...)
	},
	"ServiceTimeoutService": func(srv *server.Server, h Handler, o []server.ServiceOption) error {
		return e2ev1.RegisterServiceTimeoutServiceHandler(srv, &ServiceTimeoutServer{Slow{h.Log}}, o...)
	},
	"NoTimeoutService": func(srv *server.Server, h Handler, o []server.ServiceOption) error {
		return e2ev1.RegisterNoTimeoutServiceHandler(srv, &NoTimeoutServer{Slow{h.Log}}, o...)
	},
	"PublishService": func(srv *server.Server, h Handler, o []server.ServiceOption) error {
		return publishv1.RegisterPublishServiceHandler(srv, &PublishServer{h.Log}, o...)
	},
}

// Register adds to srv the services named (LayerService, TimeoutService,
// PublishService...), all served by the handlers of h.
func Register(srv *server.Server, h Handler, names ...string) error {
	return RegisterWith(srv, h, nil, names...)
}

// RegisterWith is Register, with opts(name) given to the service called
// name, if opts is not nil.
func RegisterWith(srv *server.Server, h Handler, opts func(name string) []server.ServiceOption, names ...string) error {
	for _, name := range names {
		register, ok := services[name]
		if !ok {
			return fmt.Errorf("testbed serves no service %q", name)
		}
		var o []server.ServiceOption
		if opts != nil {
			o = opts(name)
		}
		if err := register(srv, h, o); err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
	}
	return nil
}
