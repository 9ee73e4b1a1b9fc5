#!/usr/bin/env bash
# Headless Chromium and its WebDriver for the inbox's browser test.
#   .ci/chromium.sh   installs Debian's chromium and chromium-driver if either is absent (as root),
#                     then prints the chromedriver path on stdout
# Everything else goes to stderr.
set -euo pipefail

chromium=/usr/bin/chromium
driver=/usr/bin/chromedriver

if [ ! -x "$chromium" ] || [ ! -x "$driver" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "chromium.sh: chromium or chromedriver is not installed and this user cannot install them" >&2
    echo "chromium.sh: as root: apt-get install chromium chromium-driver" >&2
    exit 2
  fi
  echo "chromium.sh: installing chromium and chromium-driver (Debian packages)" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    chromium chromium-driver fonts-dejavu-core >&2
fi
"$driver" --version >&2
echo "$driver"
