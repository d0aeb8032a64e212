# The two commands of the README, and the steps they are made of.
#   make demo   install what is missing, build, run the demo city on the embedded store
#   make test   install what is missing, build (release and sanitizers), run every test and check
.PHONY: demo demo-build test deps web release asan tsan test-release test-asan test-tsan test-fuzz test-browser tidy \
        bench clean

JOBS ?= 2

demo: deps demo-build
	bash scripts/demo.sh

# Only what the demo runs: the server binary (not the tests and benchmarks).
demo-build: web
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS) --target citytwin

# In CI (.ci/run) on a clean clone of a 2-core machine; docs/benchmarks.md ("CI time") has what each step costs.
test: deps test-release tidy test-asan test-fuzz test-browser

deps:
	@bash scripts/install-deps.sh

# The operations console (web/): npm ci when the lockfile changed, then the Vite build into web/dist.
web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund

web: web/node_modules/.package-lock.json
	cd web && npm run build

release: web
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)

asan:
	cmake --preset asan >/dev/null
	cmake --build --preset asan -j $(JOBS)

# ThreadSanitizer: only unit_tests, built from the unit tests of the concurrent parts (CMakePresets.json).
tsan:
	cmake --preset tsan >/dev/null
	cmake --build --preset tsan -j $(JOBS)

test-release: release
	ctest --preset release -j $(JOBS)

test-asan: asan
	ctest --preset asan -j $(JOBS)

test-tsan: tsan
	ctest --preset tsan -j $(JOBS)

test-fuzz:
	bash scripts/fuzz.sh

# clang-tidy (.clang-tidy) on the C++ files changed since the commit in .ci/tidy-base (scripts/tidy.sh).
tidy:
	cmake --preset release >/dev/null
	bash scripts/tidy.sh

# The console in headless chromium on a running `citytwin demo` (tests/browser); artifacts in build/browser-artifacts.
test-browser: release
	node --test tests/browser/console.test.mjs

bench: deps release
	bash bench/run.sh

clean:
	rm -rf build
