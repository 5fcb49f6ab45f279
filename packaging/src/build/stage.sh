#!/bin/bash
# Stages the Debian package's files for jdeb (packaging/pom.xml, prepare-package):
#   stage.sh MAVEN_VERSION MAINTAINER REPO_ROOT TARGET_DIR
# Reads TARGET_DIR/generated-docs (AsciiDoc man pages and bash completion from vmafs.packaging.Docs)
# and writes TARGET_DIR/deb/control/control and TARGET_DIR/deb/root/, the tree the package installs.
# Man pages and the changelog are gzip'd with -9n (no name, no timestamp), as lintian wants them.
set -euo pipefail
version=$1 maintainer=$2 repo=$3 target=$4
src=$repo/packaging/src/deb
gen=$target/generated-docs
stage=$target/deb
# Debian sorts '~' before anything, so 0.1.0~SNAPSHOT < 0.1.0 (jdeb's [[version]] does the same).
deb_version=${version//-/\~}

command -v asciidoctor >/dev/null || {
  echo "stage.sh: asciidoctor renders the man pages; install it: apt-get install asciidoctor" >&2
  exit 1
}

rm -rf "$stage"
root=$stage/root
doc=$root/usr/share/doc/vmafs
mkdir -p "$stage/control" "$stage/man" "$root/usr/bin" "$root/usr/share/vmafs" "$root/usr/share/man/man1" \
  "$root/usr/share/bash-completion/completions" "$doc/examples"

install -m 755 "$repo/cli/src/main/sh/vmafs" "$root/usr/bin/vmafs"
install -m 644 "$repo/cli/target/vmafs.jar" "$root/usr/share/vmafs/vmafs.jar"
# Sourced by bash-completion, not run: without picocli's '#!' line (lintian: bash-completion-with-hashbang).
sed '1{/^#!/d}' "$gen/vmafs.bash-completion" >"$root/usr/share/bash-completion/completions/vmafs"
chmod 644 "$root/usr/share/bash-completion/completions/vmafs"

# One page per command (vmafs.1, vmafs-mount.1, ...), dated like the build for reproducibility.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || date +%s)}
asciidoctor -b manpage -a reproducible -D "$stage/man" "$gen"/man/*.adoc
for page in "$stage"/man/*.1; do
  gzip -9n <"$page" >"$root/usr/share/man/man1/$(basename "$page").gz"
done

install -m 644 "$src/copyright" "$doc/copyright"
install -m 644 "$src/examples/vmafs@.service" "$src/examples/fstab" "$doc/examples/"
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo "no git metadata")
sed -e "s|@DEB_VERSION@|$deb_version|" -e "s|@MAINTAINER@|$maintainer|" -e "s|@COMMIT@|commit $commit|" \
  -e "s|@DATE@|$(date -R -u -d "@$SOURCE_DATE_EPOCH")|" "$src/changelog.in" | gzip -9n >"$doc/changelog.gz"

sed -e "s|@DEB_VERSION@|$deb_version|" -e "s|@MAINTAINER@|$maintainer|" "$src/control.in" >"$stage/control/control"
