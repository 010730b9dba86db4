// Command server serves shop.v1.CartService on 127.0.0.1. Each method fails
// the first two attempts for a cart, as a store whose inventory is briefly
// unavailable would.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"sync"

	_ "dubbo.apache.org/dubbo-go/v3/imports"
	"dubbo.apache.org/dubbo-go/v3/protocol"
	"dubbo.apache.org/dubbo-go/v3/protocol/triple/triple_protocol"
	"dubbo.apache.org/dubbo-go/v3/server"

	shopv1 "example.com/shop/shop/v1"
)

// CartServer implements shopv1.CartServiceHandler. Its type must be
// exported: dubbo-go refuses to register a handler whose type is not.
type CartServer struct {
	mu       sync.Mutex
	attempts map[string]int // by method and cart
}

func (s *CartServer) GetCart(_ context.Context, req *shopv1.GetCartRequest) (*shopv1.Cart, error) {
	if err := s.attempt("GetCart", req.CartId); err != nil {
		return nil, err
	}
	return &shopv1.Cart{CartId: req.CartId, Items: []string{"tea", "biscuits"}}, nil
}

func (s *CartServer) Checkout(_ context.Context, req *shopv1.CheckoutRequest) (*shopv1.Order, error) {
	if err := s.attempt("Checkout", req.CartId); err != nil {
		return nil, err
	}
	return &shopv1.Order{OrderId: "order-" + req.CartId}, nil
}

// attempt fails the first two attempts of method for a cart, with a Triple
// error: dubbo-go never retries a plain error.
func (s *CartServer) attempt(method, cart string) error {
	s.mu.Lock()
	s.attempts[method+" "+cart]++
	n := s.attempts[method+" "+cart]
	s.mu.Unlock()
	log.Printf("%s(%s): attempt %d", method, cart, n)
	if n <= 2 {
		return triple_protocol.NewError(triple_protocol.CodeUnavailable, fmt.Errorf("attempt %d: the inventory is unavailable", n))
	}
	return nil
}

func main() {
	port := flag.Int("port", 20000, "the port to serve on, on 127.0.0.1")
	flag.Parse()
	srv, err := server.NewServer(server.WithServerProtocol(
		protocol.WithTriple(), protocol.WithIp("127.0.0.1"), protocol.WithPort(*port)))
	if err != nil {
		log.Fatal(err)
	}
	if err := shopv1.RegisterCartServiceHandler(srv, &CartServer{attempts: map[string]int{}}); err != nil {
		log.Fatal(err)
	}
	log.Printf("serving shop.v1.CartService on 127.0.0.1:%d", *port)
	log.Fatal(srv.Serve())
}
