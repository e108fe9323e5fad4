#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root) and runs Piora on the embedded
# SQLite default: installs the build dependencies, builds build/piora, and
# serves on 127.0.0.1:8080 with ./piora.db. Extra arguments go to
# `piora serve` (e.g. --listen 127.0.0.1:9000 --database /var/lib/piora.db).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DPIORA_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target piora
exec build/piora serve "$@"
