// Command client calls the CartService of cmd/server: GetCart succeeds on
// its third attempt, through the 3 retries its .proto declares; Checkout
// fails on its first, which its .proto says never to retry.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"time"

	"dubbo.apache.org/dubbo-go/v3/client"
	_ "dubbo.apache.org/dubbo-go/v3/imports"

	shopv1 "example.com/shop/shop/v1"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:20000", "the server's address")
	flag.Parse()
	cli, err := client.NewClient(client.WithClientURL("tri://" + *addr))
	if err != nil {
		log.Fatal(err)
	}
	carts, err := shopv1.NewCartService(cli) // with the retry policy of cart.proto
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	cart, err := carts.GetCart(ctx, &shopv1.GetCartRequest{CartId: "c1"})
	if err != nil {
		log.Fatalf("GetCart: %v", err)
	}
	fmt.Printf("GetCart: cart %s holds %v\n", cart.CartId, cart.Items)

	if _, err := carts.Checkout(ctx, &shopv1.CheckoutRequest{CartId: "c1"}); err != nil {
		fmt.Printf("Checkout: %v\n", err) // its first failure is the call's
	}
}
