# The host's iperf3 for machines of den's benches (source it): no package
# in the guest, only a synced folder.
#   iperf_tools DIR: /usr/bin/iperf3 and the libraries Debian 12's guests lack, into DIR.
#   iperf_gbits: Gbit/s received, from `iperf3 -J` on stdin.
iperf_tools() {
	mkdir -p "$1"
	for f in /usr/bin/iperf3 $(ldd /usr/bin/iperf3 | awk '/=> \// { print $3 }' | grep -E 'libiperf|libsctp'); do
		cp "$f" "$1/"
	done
}
iperf_gbits() {
	python3 -c 'import json, sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))'
}
