#!/usr/bin/env bash
# Installs every Debian package CityTwin needs to build, test, benchmark and run its demo.
# Idempotent: packages already present are left alone, so a second run costs a few seconds.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git python3 curl clang-14 libclang-rt-14-dev clang-tidy-14 clang-format-14
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsimdjson-dev librocksdb-dev libspdlog-dev libfmt-dev libcli11-dev
  libssl-dev libgtest-dev libgmock-dev libbenchmark-dev
  libmosquitto-dev mosquitto mosquitto-clients libcoap3-dev libcoap3-bin
  libpq-dev libre2-dev libjemalloc-dev zlib1g-dev
  libhowardhinnant-date-dev
  wrk procps bc
  chromium fonts-wqy-microhei
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all packages present"
fi
