# The project's checks. `make test` is what CI runs (.ci/run).
.PHONY: test fuzz bench

test:
	@unformatted="$$(gofmt -l .)"; if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	go test -race ./...

# Runs every fuzz target of every package for FUZZTIME each (not part of CI).
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$(go list ./...); do \
		for t in $$(go test -list 'Fuzz.*' $$pkg | grep ^Fuzz); do \
			echo "== $$pkg $$t"; go test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

bench:
	go test -run '^$$' -bench . -benchmem ./...
