protoc-gen-go-retry --write-options third_party
protoc -I proto -I third_party \
    --go_out=. --go_opt=paths=source_relative \
    --go-retry_out=. --go-retry_opt=paths=source_relative \
    proto/shop/v1/cart.proto
