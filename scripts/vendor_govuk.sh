#!/bin/sh
# The GOV.UK Design System's built files into web/static/govuk/, served at /app/static/govuk/: what
# package-lock.json pins, each package checked against its integrity hash (npm ci), none allowed to
# run code as it installs (--ignore-scripts). `make assets` and the image's build stage both run it.
set -eu
cd "$(dirname "$0")/.."
npm ci --ignore-scripts --no-audit --no-fund
src=node_modules/govuk-frontend/dist/govuk
out=web/static/govuk
rm -rf "$out"
mkdir -p "$out/assets"
cp -R "$src/assets/fonts" "$src/assets/images" "$out/assets/"
# The stylesheet names its fonts and images at the site's root (/assets/): here they are under /app/static/govuk/.
sed 's#url(/assets/#url(/app/static/govuk/assets/#g' "$src/govuk-frontend.min.css" >"$out/govuk-frontend.min.css"
cp "$src/govuk-frontend.min.css.map" "$src/govuk-frontend.min.js.map" "$out/"
# Last, as make's mark that the copy is whole.
cp "$src/govuk-frontend.min.js" "$out/"
