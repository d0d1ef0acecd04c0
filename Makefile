# Shortcuts for contributors; README's two commands need none of this.
.PHONY: run test test-services lint build bench

run:
	go run ./cmd/focal demo

test:
	go test -race -count=1 ./...

# Against the real PostgreSQL and NATS, as CI does.
test-services:
	bash .ci/run

lint:
	gofmt -l $$(git ls-files '*.go')
	go vet ./...

build:
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o focal ./cmd/focal

bench: build
	./focal bench start
	./focal bench store
	./focal bench bus
