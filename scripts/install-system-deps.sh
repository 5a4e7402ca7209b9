#!/usr/bin/env bash
# Install the Debian packages Wangge needs, when they are missing and we may (root, apt-get).
#   scripts/install-system-deps.sh run   PostgreSQL + PostGIS, a CJK font (the grid poster embeds it)
#   scripts/install-system-deps.sh test  … plus Chromium (browser tests) and GDAL (ogrinfo OAPIF:)
set -euo pipefail
what=${1:-run}
pg_major=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)
pg_major=${pg_major:-15}
packages=("postgresql-${pg_major}" "postgresql-${pg_major}-postgis-3" fonts-wqy-zenhei)  # the font: the poster embeds it
if [ "$what" = test ]; then
  packages+=(chromium gdal-bin)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "缺少系统软件包 / missing Debian packages: ${missing[*]}" >&2
  echo "请以 root 运行 / as root run: apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "安装 / installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
