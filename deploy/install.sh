#!/bin/sh
# Lays out sfprocessor in the reference's locations, from an installed (or unpacked) npm package:
#
#   /usr/local/sysflow/bin/sfprocessor        symbolic link to <package>/bin/sfprocessor.js
#   /usr/local/sysflow/conf/pipeline.json     deploy/pipeline.json, only if there is none yet
#   /usr/local/sysflow/resources/policies/    the shipped policy sets (policies/), refreshed in place
#   /usr/local/sysflow/resources/{plugins,handlers,actions,drivers}/   created empty
#
# The Dockerfile runs it; for a host (systemd) install see docs/deployment.md. DESTDIR, when set, is
# prepended to every path it creates (as with `make install`); the link still names the package's real
# path. Everything it creates is owned by the invoking user and not writable by others: run it as root
# and the service user (uid 1001 in the image) can read the policies and plugins but not change them.
set -eu
pkg=$(cd "$(dirname "$0")/.." && pwd -P)
root="${DESTDIR:-}/usr/local/sysflow"
umask 022
for d in bin conf resources/policies resources/plugins resources/handlers resources/actions resources/drivers; do
  mkdir -p "$root/$d"
done
cp -R "$pkg/policies/." "$root/resources/policies/"
[ -e "$root/conf/pipeline.json" ] || cp "$pkg/deploy/pipeline.json" "$root/conf/pipeline.json"
ln -sfn "$pkg/bin/sfprocessor.js" "$root/bin/sfprocessor"
