#!/bin/sh
# The .debs of ansible-core and everything it depends on, into DIR (default
# /var/cache/den-test/debs), for the test of ansible_local's `install: true`:
# the test serves them to a machine as a local apt repository, so that the
# machine installs Ansible without reaching the Debian archive. `make test`
# runs it; it does nothing when DIR is filled already.
set -eu
DIR=${1:-/var/cache/den-test/debs}
[ -f "$DIR/.complete" ] && exit 0
mkdir -p "$DIR"
pkgs=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
	--no-breaks --no-replaces --no-enhances ansible-core | grep '^[a-z0-9]' | sort -u)
echo "den: downloading ansible-core and its dependencies for the tests into $DIR"
(cd "$DIR" && apt-get download -q -o APT::Sandbox::User=root $pkgs >/dev/null)
touch "$DIR/.complete"
