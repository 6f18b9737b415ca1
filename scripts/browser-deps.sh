#!/bin/sh
# Install what the browser tests need: Debian's chromium and axe-core from the npm registry.
# Never downloads a browser build of its own. Without root (or apt), browser tests are skipped locally and
# fail in CI (DELPHI_REQUIRE_BROWSER=1), saying what to install.
set -u
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "browser-deps: installing Debian's chromium" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >&2 \
      || echo "browser-deps: could not install chromium" >&2
  else
    echo "browser-deps: /usr/bin/chromium missing; install it (apt-get install chromium) to run browser tests" >&2
  fi
fi
if [ -f package.json ] && [ ! -f node_modules/axe-core/axe.min.js ]; then
  if command -v npm >/dev/null 2>&1; then
    npm ci --no-audit --no-fund --loglevel=error >&2 || echo "browser-deps: npm ci failed" >&2
  else
    echo "browser-deps: npm missing; install Node.js to fetch axe-core for browser tests" >&2
  fi
fi
exit 0
