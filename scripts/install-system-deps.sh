#!/usr/bin/env bash
# System packages the project needs beyond PyPI, from Debian's archive:
#   wordnet-base      the WordNet 3.0 database (read by nltk's WordNet reader) for concept labels;
#   chromium, chromium-driver  headless browser for the report's and the campaign app's end-to-end tests;
#   postgresql        the team store of annotation campaigns (the tests start a throw-away server).
# Installs only what is missing; needs root (or sudo) the first time.
set -eu
need=()
[ -f /usr/share/wordnet/data.noun ] || need+=(wordnet-base)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
((${#need[@]})) || exit 0
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
echo "installing Debian packages: ${need[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
