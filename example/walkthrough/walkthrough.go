// Package walkthrough calls GreetRetry once through each layer of dubbo-go's
// retry settings and reports the attempts the server saw, to show the
// precedence of protoc-gen-go-retry's .proto defaults.
//
// The server's GreetRetry fails its first three attempts with a retryable
// error and answers the fourth, so a call succeeds when its retries are 3
// or more.
package walkthrough

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/global"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/greetserver"
	greet "github.com/dubbo-retry/protoc-gen-go-retry/example/proto"
)

// A Step is one call of the walkthrough.
type Step struct {
	Layer string // the layer of the precedence table that decides the retries
	SetBy string // what sets them
	// The attempts the server should see, and whether the call should
	// succeed.
	WantAttempts int
	WantOK       bool

	clientOpts  []client.ClientOption
	serviceOpts []client.ReferenceOption
	callOpts    []client.CallOption
	name        string // the request's name; by default the step's own
	bare        bool   // call as protoc-gen-go-triple's code does
}

// Steps are the calls of the walkthrough, from the lowest layer to the
// highest.
var Steps = []Step{
	{
		Layer: "0", SetBy: "dubbo-go's default, through protoc-gen-go-triple's code",
		WantAttempts: 3, bare: true,
	},
	{
		Layer: "2", SetBy: "greet.proto: option (retry.v1.method).retries = 3",
		WantAttempts: 4, WantOK: true,
	},
	{
		Layer: "1", SetBy: "client.WithClientRetries(1): under the .proto default",
		WantAttempts: 4, WantOK: true,
		clientOpts: []client.ClientOption{client.WithClientRetries(1)},
	},
	{
		Layer: "3", SetBy: "NewGreetService(cli, client.WithRetries(1))",
		WantAttempts: 2,
		serviceOpts:  []client.ReferenceOption{client.WithRetries(1)},
	},
	{
		Layer: "3", SetBy: `... and client.WithMethod(GreetRetry, Retries: "5")`,
		WantAttempts: 4, WantOK: true,
		serviceOpts: []client.ReferenceOption{
			client.WithRetries(1),
			client.WithMethod(&global.MethodConfig{Name: "GreetRetry", Retries: "5"}),
		},
	},
	{
		Layer: "4", SetBy: "client.WithCallRetries(0) on the call",
		WantAttempts: 1,
		callOpts:     []client.CallOption{client.WithCallRetries(0)},
	},
	{
		Layer: "-", SetBy: "none: the handler returned a plain error",
		WantAttempts: 1,
		name:         greetserver.PlainErrorPrefix + " (the sample's server)",
	},
}

// A Result is what one step did.
type Result struct {
	Step
	Attempts int   // the attempts the server saw
	Err      error // the call's error
}

// OK reports whether the step did what it should.
func (r Result) OK() bool {
	return r.Attempts == r.WantAttempts && (r.Err == nil) == r.WantOK
}

// Run calls GreetRetry for each step on the server at addr; attempts
// returns the attempts that server saw of a request name.
func Run(ctx context.Context, addr string, attempts func(name string) int) ([]Result, error) {
	var results []Result
	for i, s := range Steps {
		name := s.name
		if name == "" {
			name = "step " + strconv.Itoa(i)
		}
		err := s.call(ctx, addr, &greet.GreetRequest{Name: name})
		if err != nil && triple_protocol.CodeOf(err) == triple_protocol.CodeUnknown {
			return nil, fmt.Errorf("step %d: %w", i, err)
		}
		results = append(results, Result{Step: s, Attempts: attempts(name), Err: err})
	}
	return results, nil
}

func (s Step) call(ctx context.Context, addr string, req *greet.GreetRequest) error {
	cli, err := client.NewClient(append([]client.ClientOption{client.WithClientURL("tri://" + addr)}, s.clientOpts...)...)
	if err != nil {
		return err
	}
	if s.bare {
		// What a protoc-gen-go-triple stub does: dial the service as it is
		// and call the method.
		conn, err := cli.DialWithInfo(greet.GreetServiceName, &greet.GreetService_ClientInfo, s.serviceOpts...)
		if err != nil {
			return err
		}
		return conn.CallUnary(ctx, []any{req}, new(greet.GreetResponse), "GreetRetry", s.callOpts...)
	}
	svc, err := greet.NewGreetService(cli, s.serviceOpts...)
	if err != nil {
		return err
	}
	_, err = svc.GreetRetry(ctx, req, s.callOpts...)
	return err
}

// Print writes results as a table.
func Print(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "layer\tretries set by\tattempts\tresult")
	for _, r := range results {
		result := "ok"
		if r.Err != nil {
			result = "failed: " + describe(r.Err)
		}
		if !r.OK() {
			want := "ok"
			if !r.WantOK {
				want = "a failure"
			}
			result += fmt.Sprintf("  UNEXPECTED: want %d attempts and %s", r.WantAttempts, want)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", r.Layer, r.SetBy, r.Attempts, result)
	}
	return tw.Flush()
}

func describe(err error) string {
	switch code := triple_protocol.CodeOf(err); code {
	case triple_protocol.CodeBizError:
		return "business error, not retried"
	default:
		return code.String()
	}
}
