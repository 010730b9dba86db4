protoc-gen-go-retry --write-options third_party
protoc -I . -I third_party \
    --go_out=. --go_opt=paths=source_relative \
    --go-retry_out=. --go-retry_opt=paths=source_relative \
    shop/v1/cart.proto
