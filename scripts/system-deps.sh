#!/usr/bin/env bash
# Debian packages the tests need: Chromium and CJK fonts (BROWSER.md), exiftool (SECURITY.md, uploads). Installed only when missing,
# and only where we may (root). Elsewhere the browser tests skip with a reason, except under CI=true.
set -euo pipefail
missing=()
[ -x /usr/lib/chromium/chromium ] || [ -x /usr/bin/chromium ] || missing+=(chromium)
command -v exiftool >/dev/null || missing+=(libimage-exiftool-perl)  # proves metadata is stripped
[ -d /usr/share/fonts/opentype/noto ] && ls /usr/share/fonts/opentype/noto/NotoSansCJK* >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != "0" ]; then
  echo "note: ${missing[*]} missing and not root; browser tests will be skipped (sudo apt-get install ${missing[*]})" >&2
  exit 0
fi
echo "installing ${missing[*]} from Debian's packages"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
