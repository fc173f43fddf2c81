# What a KVM-in-TCG test prints inside L1 when a machine of den's VMM did
# not come up: enough to tell a guest that is stuck (its vCPUs still enter
# and leave the guest: a device or interrupt of den's VMM) from one that
# no longer runs at all (L1's KVM under TCG's emulated SVM). Sourced by a
# test's L1 script, from the host's tree L1 sees read-only.

# l1_vm_diag MACHINE_DIR: the console's and the VMM's last lines, L1's
# kernel's, the VMM's threads (state, kernel stack) and three seconds of
# L1's KVM trace events for it, counted by kind.
l1_vm_diag() {
	local dir=$1 pid t trace=/sys/kernel/tracing
	tail -25 "$dir/console.log" | sed 's/^/console: /'
	tail -8 "$dir/vmm.log" | sed 's/^/vmm.log: /'
	# L1's kernel on a VMM that died (a fault, the OOM killer), as the console's loglevel hides it.
	dmesg | tail -12 | sed 's/^/dmesg: /'
	pid=$(pgrep -f "vmm run.*$dir/control.sock" | head -1)
	[ -n "$pid" ] || {
		echo "diag: no VMM running for $dir"
		return 0
	}
	for t in /proc/"$pid"/task/*; do
		echo "diag: thread $(cat "$t/comm") $(cut -d' ' -f3 "$t/stat") in $(cat "$t/wchan" 2>/dev/null)"
		head -6 "$t/stack" 2>/dev/null | sed 's/^/diag:     /'
	done
	mountpoint -q $trace || mount -t tracefs nodev $trace 2>/dev/null || return 0
	echo >$trace/trace
	for e in kvm_entry kvm_exit kvm_inj_virq kvm_apic_accept_irq kvm_set_irq kvm_pio; do
		echo 1 >"$trace/events/kvm/$e/enable" 2>/dev/null || true
	done
	sleep 3
	echo 0 >$trace/tracing_on
	echo "diag: $(grep -vc '^#' $trace/trace) KVM events in 3 s"
	grep -v '^#' $trace/trace | sed -E 's/^.*: (kvm_[a-z_]+): *(reason [A-Za-z_0-9]+|vcpu [0-9]+|pio_[a-z]+ at 0x[0-9a-f]+|irq [0-9]+|vec [0-9]+)?.*$/\1 \2/' |
		sort | uniq -c | sort -rn | head -15 | sed 's/^/diag: /'
	grep -v '^#' $trace/trace | grep kvm_exit | tail -5 | sed 's/^/diag: last: /'
	echo 1 >$trace/tracing_on
	echo >$trace/trace
}
