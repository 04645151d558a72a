#!/usr/bin/env bash
# System packages the test suite needs, installed only when missing (idempotent):
#   postgresql         - server binaries (/usr/lib/postgresql/*/bin) for the annotation app's PostgreSQL tests
#                        (the tests start their own throw-away server; no system cluster is needed)
#   chromium           - Debian's Chromium (/usr/bin/chromium) for the Playwright browser test
#   fonts-dejavu-core  - a font, so pages render text in headless Chromium
#   opencv-doc         - real photo series (stereo calibration pairs, video frames) used by the dataset-tooling tests
set -euo pipefail
need=()
compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null || need+=(postgresql)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
[ -d /usr/share/doc/opencv-doc ] || need+=(opencv-doc)
if [ "${#need[@]}" -eq 0 ]; then
    echo "system-deps: all present"
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "system-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${need[@]}"
