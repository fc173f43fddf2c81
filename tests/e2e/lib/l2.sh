# The L2 guest of the KVM-in-TCG tests: a busybox initramfs with some of
# the host kernel's modules, which den's VMM boots inside L1, and the run
# of the harness itself. Source it. Each test writes DIR/init itself:
# what the guest does is the test.

# l2_initramfs DIR KERNEL "MODULES": DIR/bin/busybox, the mount points
# proc, sys and dev, and DIR/mods/M.ko for each module M of KERNEL
# (/boot/vmlinuz-VERSION), decompressed: busybox insmod loads plain .ko
# only. A module that is built in or absent is left out, and the return
# is 1 (callers that can do without it ignore that; under set -e it stops).
l2_initramfs() {
	local dir=$1 kver=${2#/boot/vmlinuz-} m f missing=0
	mkdir -p "$dir/bin" "$dir/proc" "$dir/sys" "$dir/dev" "$dir/mods"
	cp "$(command -v busybox)" "$dir/bin/busybox"
	for m in $3; do
		f=$(modinfo -n -k "$kver" "$m" 2>/dev/null) || {
			missing=1
			continue
		}
		case "$f" in
		*.ko.xz) xz -dc "$f" > "$dir/mods/$m.ko" ;;
		*.ko.zst) zstd -qdc "$f" > "$dir/mods/$m.ko" ;;
		*.ko) cp "$f" "$dir/mods/$m.ko" ;;
		*) missing=1 ;;
		esac
	done
	return $missing
}

# l2_dhcp_script DIR: DIR/udhcpc.sh, for the guest's `udhcpc -s /udhcpc.sh`:
# busybox's udhcpc only hands the lease to a script, which sets it.
l2_dhcp_script() {
	cat > "$1/udhcpc.sh" <<'EOF'
#!/bin/busybox sh
case "$1" in
bound | renew)
	/bin/busybox ip addr add "$ip/${mask:-24}" dev "$interface"
	/bin/busybox ip route add default via "$router"
	;;
esac
EOF
	chmod 755 "$1/udhcpc.sh"
}

# l2_harness SCRIPT TIMEOUT: SCRIPT run in L1 (tests/harness/kvm-in-tcg.sh,
# TIMEOUT seconds), its output in $OUT; returns only when it ran whole. Of
# the harness's exit codes, 77 (cannot run here at all) skips the test;
# 123 (L1 itself reset, crashed or stopped: TCG's emulated SVM, now and
# then) runs it again, up to three runs in all; any other failure fails the
# test and ends it. (With one L1 CPU, L1 stopped answering in about one
# run of kvm_machine in three, each time as an L2 kernel booted, with no
# word from L1's kernel: an emulated guest mode that never exits. A real
# CPU cannot do that; den's tests cannot tell it from a den fault any
# other way, so they count on another run.) With
# lib/assert.sh (t_skip, expect_true, t_done).
l2_harness() {
	OUT=$(bash "$SRC/tests/harness/kvm-in-tcg.sh" "$1" "$2" 2>&1) && RC=0 || RC=$?
	for run in 2 3; do
		[ "$RC" = 123 ] || break
		echo "note: L1 ended by itself (a harness fault); running the harness again ($run of 3)"
		printf '%s\n' "$OUT" | grep "^L1 console: " | tail -5
		OUT=$(bash "$SRC/tests/harness/kvm-in-tcg.sh" "$1" "$2" 2>&1) && RC=0 || RC=$?
	done
	if [ "$RC" = 77 ]; then
		local why
		why=$(printf '%s\n' "$OUT" | sed -n 's/^skipped: //p' | head -1)
		t_skip "${why:-the KVM-in-TCG harness cannot run here}"
	fi
	[ -n "${DEN_TEST_DEBUG:-}" ] && printf "%s\n" "$OUT" >&2
	if [ "$RC" != 0 ]; then
		printf '%s\n' "$OUT" | tail -80
		expect_true false "the harness ran den inside L1 (exit $RC: 123 L1 failed three times, 124 L1 hung, 126 den hung)"
		t_done
		exit 1
	fi
}

# l2_pack DIR OUT: DIR as a gzipped newc cpio archive, what --initrd takes.
l2_pack() {
	(cd "$1" && find . | cpio -o -H newc 2>/dev/null | gzip -1) > "$2"
}
