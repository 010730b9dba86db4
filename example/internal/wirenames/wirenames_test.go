// Package wirenames calls services whose .proto names are awkward in Go on
// a real Triple server: dubbo-go must route them, and configure their
// retries, by their .proto names, while Go sees protobuf's Go names.
package wirenames

import (
	"context"
	"errors"
	"io"
	"testing"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
	"dubbo.apache.org/dubbo-go/v3/server"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	"github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/awkward/names"
	"github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/awkward/nopackage"
)

func TestMain(m *testing.M) {
	testbed.Main(nil)
	testbed.RunTests(m, func(srv *server.Server) error {
		return errors.Join(
			names.RegisterSnakeCaseServiceHandler(srv, &SnakeServer{}),
			names.RegisterStringHandler(srv, &StringServer{}),
			nopackage.RegisterLonelyHandler(srv, &LonelyServer{}),
		)
	})
}

// attempts logs the attempts of each request, by Kind.String.
var attempts = testbed.NewLog()

// SnakeServer serves snake_case_service. Its unary methods fail every
// attempt with a retryable error.
type SnakeServer struct{}

func (SnakeServer) GetThing(_ context.Context, k *names.Kind) (*names.New, error) {
	attempts.Add(k.String_)
	return nil, triple_protocol.NewError(triple_protocol.CodeUnavailable, errors.New("fails"))
}

func (SnakeServer) LowerCamel(_ context.Context, k *names.Kind) (*names.New, error) {
	attempts.Add(k.String_)
	return nil, triple_protocol.NewError(triple_protocol.CodeUnavailable, errors.New("fails"))
}

func (SnakeServer) StreamThings(_ context.Context, stream names.SnakeCaseService_StreamThingsServer) error {
	for {
		if _, err := stream.Recv(); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		if err := stream.Send(&names.New{Error: true}); err != nil {
			return err
		}
	}
}

// StringServer serves String, whose methods are named like Go keywords,
// predeclared identifiers and stream methods. Each answers with Error set.
type StringServer struct{}

func (StringServer) ok() (*names.New, error) { return &names.New{Error: true}, nil }

func (s StringServer) Func(context.Context, *names.Kind) (*names.New, error)   { return s.ok() }
func (s StringServer) Type(context.Context, *names.Kind) (*names.New, error)   { return s.ok() }
func (s StringServer) Error(context.Context, *names.Kind) (*names.New, error)  { return s.ok() }
func (s StringServer) Nil(context.Context, *names.Kind) (*names.New, error)    { return s.ok() }
func (s StringServer) String(context.Context, *names.Kind) (*names.New, error) { return s.ok() }
func (s StringServer) New(context.Context, *names.Kind) (*names.New, error)    { return s.ok() }
func (s StringServer) Close(context.Context, *names.Kind) (*names.New, error)  { return s.ok() }

func (StringServer) Conn(_ context.Context, stream names.String_ConnServer) error {
	if _, err := stream.Recv(); err != nil {
		return err
	}
	return stream.Send(&names.New{Error: true})
}

func (StringServer) Send(_ context.Context, stream names.String_SendServer) (*names.New, error) {
	for stream.Recv() {
	}
	return &names.New{Error: true}, stream.Err()
}

func (StringServer) Recv(_ context.Context, _ *names.Kind, stream names.String_RecvServer) error {
	return stream.Send(&names.New{Error: true})
}

// LonelyServer serves Lonely, of a file without a package.
type LonelyServer struct{}

func (LonelyServer) Ping(context.Context, *nopackage.Msg) (*nopackage.Msg, error) {
	return &nopackage.Msg{}, nil
}

func (LonelyServer) Pong(context.Context, *nopackage.Msg) (*nopackage.Msg, error) {
	return &nopackage.Msg{}, nil
}

// The .proto defaults of snake_case_service reach dubbo-go under the
// methods' .proto names: get_thing takes the service's 1 retry, lowerCamel
// its own 2.
func TestSnakeCaseRetries(t *testing.T) {
	svc, err := names.NewSnakeCaseService(testbed.Client(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		call func(context.Context, *names.Kind, ...client.CallOption) (*names.New, error)
		want uint32
	}{
		{"get_thing", svc.GetThing, 2},
		{"lowerCamel", svc.LowerCamel, 3},
	} {
		if _, err := tc.call(context.Background(), &names.Kind{String_: tc.name}); triple_protocol.CodeOf(err) != triple_protocol.CodeUnavailable {
			t.Errorf("%s: %v, want CodeUnavailable", tc.name, err)
		}
		if got := attempts.Attempts(tc.name); got != tc.want {
			t.Errorf("%s: the server saw %d attempts, want %d", tc.name, got, tc.want)
		}
	}

	exchange(t, "stream_things", testbed.Try(svc.StreamThings(context.Background())).Must(t))
}

// A bidi is a bidirectional stream of names.
type bidi interface {
	Send(*names.Kind) error
	Recv() (*names.New, error)
	CloseRequest() error
	CloseResponse() error
}

// exchange sends a request on stream, and checks that the answer has Error
// set.
func exchange(t *testing.T, name string, stream bidi) {
	t.Helper()
	if err := stream.Send(&names.Kind{}); err != nil {
		t.Fatal(err)
	}
	if resp, err := stream.Recv(); err != nil || !resp.Error {
		t.Errorf("%s: %v, %v", name, resp, err)
	}
	stream.CloseRequest()
	stream.CloseResponse()
}

// Every method of String answers through the generated stubs.
func TestKeywordNames(t *testing.T) {
	svc, err := names.NewString(testbed.Client(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for name, call := range map[string]func(context.Context, *names.Kind, ...client.CallOption) (*names.New, error){
		"func": svc.Func, "type": svc.Type, "error": svc.Error, "nil": svc.Nil,
		"String": svc.String, "New": svc.New, "Close": svc.Close,
	} {
		if resp, err := call(ctx, &names.Kind{}); err != nil || !resp.Error {
			t.Errorf("%s: %v, %v", name, resp, err)
		}
	}

	exchange(t, "Conn", testbed.Try(svc.Conn(ctx)).Must(t))

	send, err := svc.Send(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := send.Send(&names.Kind{}); err != nil {
		t.Fatal(err)
	}
	if resp, err := send.CloseAndRecv(); err != nil || !resp.Error {
		t.Errorf("Send: %v, %v", resp, err)
	}

	recv, err := svc.Recv(ctx, &names.Kind{})
	if err != nil {
		t.Fatal(err)
	}
	if !recv.Recv() || !recv.Msg().Error {
		t.Errorf("Recv: no message (%v)", recv.Err())
	}
	recv.Close()
}

// A service of a file without a package is served at /Lonely/Ping.
func TestNoPackage(t *testing.T) {
	if nopackage.LonelyPingProcedure != "/Lonely/Ping" {
		t.Errorf("LonelyPingProcedure = %q, want /Lonely/Ping", nopackage.LonelyPingProcedure)
	}
	svc, err := nopackage.NewLonely(testbed.Client(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Ping(context.Background(), &nopackage.Msg{}); err != nil {
		t.Error(err)
	}
}
