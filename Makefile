# The two commands of the README, and the steps they are made of.
#   make demo   install what is missing, build, run the demo city on the embedded store
#   make test   install what is missing, build (release and sanitizers), run every test
.PHONY: demo demo-build test deps release asan test-release test-asan test-fuzz bench clean

JOBS ?= 2

demo: deps demo-build
	bash scripts/demo.sh

# Only what the demo runs: the server binary (not the tests and benchmarks).
demo-build:
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS) --target citytwin

test: deps test-release test-asan test-fuzz

deps:
	@bash scripts/install-deps.sh

release:
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

asan:
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)

test-release: release
	ctest --preset release -j $(JOBS)

test-asan: asan
	ctest --preset asan -j $(JOBS)

test-fuzz:
	bash scripts/fuzz.sh

bench: deps release
	bash bench/run.sh

clean:
	rm -rf build
