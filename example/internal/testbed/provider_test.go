package testbed

import (
	"context"
	"testing"

	"dubbo.apache.org/dubbo-go/v3/client"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"

	e2ev1 "github.com/dubbo-retry/protoc-gen-go-retry/testdata/golden/e2e/v1"
)

// Providers serve in their mode, count the attempts they see, and listen
// on 127.0.0.1 only.
func TestProviders(t *testing.T) {
	ps := StartProviders(t, []string{"LayerService"}, "ok", "fail")
	for i, p := range ps {
		p.CheckLoopbackOnly(t)
		cli := Try(client.NewClient(client.WithClientURL(URL(ps[i : i+1])))).Must(t)
		svc := Try(e2ev1.NewLayerService(cli)).Must(t)
		// Never: the .proto gives it no retries.
		_, err := svc.Never(context.Background(), &e2ev1.Request{Id: "call"})
		if code, want := triple_protocol.CodeOf(err), []triple_protocol.Code{0, triple_protocol.CodeUnavailable}[i]; err != nil && code != want || err == nil && want != 0 {
			t.Errorf("%s: the call ended with %v, want %v", p.Name, err, want)
		}
		if n := p.Attempts(t)["call"]; n != 1 {
			t.Errorf("%s saw %d attempts of the call, want 1", p.Name, n)
		}
	}
}
