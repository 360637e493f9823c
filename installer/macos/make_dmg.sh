#!/usr/bin/env bash
# Sign, notarise and pack "Stock Scanner.app" into a .dmg (macOS only; installer/build.py
# runs it after PyInstaller):   make_dmg.sh APP OUT.dmg VERSION
#
# Signing and notarisation happen when their variables are set, otherwise the .dmg is built
# unsigned (Gatekeeper then asks the user to confirm the first start):
#   MACOS_SIGN_IDENTITY  "Developer ID Application: NAME (TEAMID)" in the keychain
#   APPLE_ID, APPLE_TEAM_ID, APPLE_APP_PASSWORD  an app-specific password, for notarytool
# Steps (Apple's "Notarizing macOS software before distribution"):
#   1. codesign every Mach-O inside the .app, inside out, with the hardened runtime and a
#      secure timestamp, then the .app itself (entitlements.plist: the JIT entitlements
#      numba's LLVM and Qt need under the hardened runtime);
#   2. build the .dmg (hdiutil, UDZO) with the .app and a link to /Applications, sign it;
#   3. xcrun notarytool submit --wait; then xcrun stapler staple the .dmg so it verifies
#      offline; spctl --assess checks the result as Gatekeeper would.
set -euo pipefail
app=${1:?usage: make_dmg.sh APP OUT.dmg VERSION}
out=${2:?usage: make_dmg.sh APP OUT.dmg VERSION}
version=${3:?usage: make_dmg.sh APP OUT.dmg VERSION}
here=$(cd "$(dirname "$0")" && pwd)
identity=${MACOS_SIGN_IDENTITY:-}

if [ -n "$identity" ]; then
  echo "signing with: $identity"
  # inside out: libraries and executables first, the bundle last (--deep is deprecated)
  find "$app/Contents" -type f \( -name '*.so' -o -name '*.dylib' -o -perm -u+x \) -print0 |
    while IFS= read -r -d '' f; do
      if file -b "$f" | grep -q 'Mach-O'; then
        codesign --force --timestamp --options runtime --entitlements "$here/entitlements.plist" \
          --sign "$identity" "$f"
      fi
    done
  codesign --force --timestamp --options runtime --entitlements "$here/entitlements.plist" \
    --sign "$identity" "$app"
  codesign --verify --strict --verbose=2 "$app"
else
  echo "MACOS_SIGN_IDENTITY is not set: building an unsigned .dmg"
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"
rm -f "$out"
hdiutil create -volname "Stock Scanner $version" -srcfolder "$stage" -fs HFS+ -format UDZO -ov "$out"

if [ -n "$identity" ]; then
  codesign --force --timestamp --sign "$identity" "$out"
  if [ -n "${APPLE_ID:-}" ] && [ -n "${APPLE_TEAM_ID:-}" ] && [ -n "${APPLE_APP_PASSWORD:-}" ]; then
    xcrun notarytool submit "$out" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
      --password "$APPLE_APP_PASSWORD" --wait
    xcrun stapler staple "$out"
    spctl --assess --type open --context context:primary-signature --verbose=2 "$out"
  else
    echo "APPLE_ID / APPLE_TEAM_ID / APPLE_APP_PASSWORD not set: signed but not notarised"
  fi
fi
echo "built: $out"
