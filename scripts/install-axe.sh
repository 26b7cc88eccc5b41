#!/bin/sh
# Installs axe-core for the accessibility test into .cache/axe (git-ignored; never part of the
# site). The test runs the same install itself when npm is present.
set -e
cd "$(dirname "$0")/.."
npm install --prefix .cache/axe --no-audit --no-fund axe-core@4.11.0
