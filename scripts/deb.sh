#!/bin/sh
# `make deb`: den's Debian package, den_VERSION_amd64.deb, into OUT (default
# build/). dpkg-buildpackage writes beside and inside the tree it builds, so
# it builds a copy of this one (without build folders), in a folder of its
# own that goes when it ends.
#   scripts/deb.sh [OUT]
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$src/build}" && cd "${1:-$src/build}" && pwd)
cd "$src"
version=$(dpkg-parsechangelog -S Version)
cmake_version=$(sed -n 's/^project(den VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
if [ "$version" != "$cmake_version" ]; then
	echo "den: debian/changelog says $version and CMakeLists.txt $cmake_version:" \
		"add a debian/changelog entry (dch -v $cmake_version)" >&2
	exit 1
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/den-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/den-$version"
tar -C "$src" --exclude='./build*' --exclude=./.git --exclude='./obj-*' \
	--exclude=./debian/.debhelper --exclude=./debian/den -cf - . | tar -C "$work/den-$version" -xf -
(cd "$work/den-$version" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 || {
	tail -n 40 "$work/build.log" >&2
	echo "den: dpkg-buildpackage failed; the end of its output is above" >&2
	exit 1
}
cp "$work/den_${version}_amd64.deb" "$out/"
echo "$out/den_${version}_amd64.deb"
