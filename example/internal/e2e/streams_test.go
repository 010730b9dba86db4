package e2e

import (
	"context"
	"errors"
	"io"
	"testing"

	"dubbo.apache.org/dubbo-go/v3/client"

	"github.com/dubbo-retry/protoc-gen-go-retry/example/internal/testbed"
	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// Streaming methods take no .proto defaults; these tests show that each
// kind works end to end through the generated stubs of a service that has
// them, whatever options the service was created with.
func streamingService(t *testing.T) e2ev1.LayerService {
	return testbed.Try(e2ev1.NewLayerService(testbed.Client(t, client.WithClientRetries(1)), client.WithRetries(2))).Must(t)
}

func TestBidiStream(t *testing.T) {
	stream := testbed.Try(streamingService(t).Bidi(context.Background())).Must(t)
	for n := uint32(1); n <= 3; n++ {
		id := newID(t)
		if err := stream.Send(&e2ev1.Request{Id: id}); err != nil {
			t.Fatal(err)
		}
		resp, err := stream.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if resp.Id != id || resp.Attempts != n {
			t.Errorf("response %d = %v, want id %s and count %d", n, resp, id, n)
		}
	}
	if err := stream.CloseRequest(); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
		t.Errorf("Recv after the server ended = %v, want io.EOF", err)
	}
	if err := stream.CloseResponse(); err != nil {
		t.Error(err)
	}
}

func TestClientStream(t *testing.T) {
	stream := testbed.Try(streamingService(t).Upload(context.Background())).Must(t)
	id := newID(t)
	for range 5 {
		if err := stream.Send(&e2ev1.Request{Id: id}); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		t.Fatal(err)
	}
	if resp.Id != id || resp.Attempts != 5 {
		t.Errorf("response = %v, want id %s and 5 requests", resp, id)
	}
}

func TestServerStream(t *testing.T) {
	id := newID(t)
	stream := testbed.Try(streamingService(t).Download(context.Background(), &e2ev1.Request{Id: id, Fail: 4})).Must(t)
	var n uint32
	for stream.Recv() {
		n++
		if msg := stream.Msg(); msg.Id != id || msg.Attempts != n {
			t.Errorf("message %d = %v, want id %s and number %d", n, msg, id, n)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Errorf("received %d messages, want 4", n)
	}
	if err := stream.Close(); err != nil {
		t.Error(err)
	}
}
