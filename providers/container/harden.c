/* SPDX-License-Identifier: MIT */
/*
 * What a container may not do, applied by PID 1 before den-init starts
 * anything (docs/container.md lists it all):
 * - capabilities: Docker's default set less CAP_MKNOD (den has no device
 *   cgroup) and, on den's own network, CAP_NET_RAW (ping works through
 *   ping_group_range, set in net.c), every other one dropped from the
 *   bounding set, so not even root inside can regain them;
 * - a seccomp filter refusing (EPERM) module loading, kexec, reboot,
 *   mount and namespace calls, keyrings, clock and swap changes, bpf,
 *   perf, open_by_handle_at and similar;
 * - no_new_privs only when asked: sudo, which every den box relies on,
 *   is a setuid program and stops working under it.
 */
#include "providers/container/container-internal.h"

#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const int keep_caps[] = {
	CAP_CHOWN,	 CAP_DAC_OVERRIDE, CAP_FOWNER,	CAP_FSETID,	      CAP_KILL,
	CAP_SETGID,	 CAP_SETUID,	   CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
	CAP_AUDIT_WRITE, CAP_SETFCAP,
};

static const char *const denied[] = {
	"init_module",
	"finit_module",
	"delete_module",
	"kexec_load",
	"kexec_file_load",
	"reboot",
	"keyctl",
	"add_key",
	"request_key",
	"mount",
	"umount2",
	"pivot_root",
	"move_mount",
	"open_tree",
	"fsopen",
	"fsconfig",
	"fsmount",
	"fspick",
	"mount_setattr",
	"setns",
	"unshare",
	"swapon",
	"swapoff",
	"syslog",
	"acct",
	"settimeofday",
	"clock_settime",
	"clock_adjtime",
	"adjtimex",
	"iopl",
	"ioperm",
	"bpf",
	"perf_event_open",
	"userfaultfd",
	"open_by_handle_at",
	"lookup_dcookie",
	"nfsservctl",
	"uselib",
	"quotactl",
	"vm86",
	"vm86old",
	"create_module",
	"get_kernel_syms",
	"query_module",
	"io_uring_setup",
	"io_uring_enter",
	"io_uring_register",
};

/*
 * A box's own init halts with reboot(2), which in a pid namespace other
 * than the host's only ends that namespace (the kernel refuses every other
 * command there): it keeps CAP_SYS_BOOT and the call.
 */
static bool system_init, host_network;

static bool kept(int cap)
{
	for (size_t i = 0; i < sizeof(keep_caps) / sizeof(keep_caps[0]); i++)
		if (keep_caps[i] == cap)
			return true;
	/* Raw sockets only where the user chose the host's network outright. */
	return (cap == CAP_SYS_BOOT && system_init) || (cap == CAP_NET_RAW && host_network);
}

static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
	int n = CAP_LAST_CAP;

	if (f != NULL) {
		if (fscanf(f, "%d", &n) != 1)
			n = CAP_LAST_CAP;
		fclose(f);
	}
	return n;
}

static int drop_caps(struct den_err *err)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	for (int cap = 0; cap <= last_cap(); cap++)
		if (!kept(cap) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return den_err_set(err, errno, "cannot drop capability %d", cap);
	memset(data, 0, sizeof(data));
	for (int c = 0; c <= last_cap() && c < 64; c++) {
		if (!kept(c))
			continue;
		data[c / 32].effective |= 1u << (c % 32);
		data[c / 32].permitted |= 1u << (c % 32);
		data[c / 32].inheritable |= 1u << (c % 32);
	}
	if (syscall(SYS_capset, &hdr, data) < 0)
		return den_err_set(err, errno, "cannot set the container's capabilities");
	return 0;
}

static int load_seccomp(bool nnp, struct den_err *err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int rc;

	if (ctx == NULL)
		return den_err_set(err, ENOMEM, "cannot build the seccomp filter");
	/* Without no_new_privs the filter needs CAP_SYS_ADMIN: load it before the drop. */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, nnp ? 1 : 0);
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		int nr = seccomp_syscall_resolve_name(denied[i]);
		if (nr == __NR_SCMP_ERROR || (system_init && strcmp(denied[i], "reboot") == 0))
			continue; /* not on this architecture */
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0)) < 0) {
			seccomp_release(ctx);
			return den_err_set(err, -rc, "cannot filter %s", denied[i]);
		}
	}
	/* No device nodes: without a device cgroup, one would open the host's disks. */
	for (int t = 0; t < 2; t++) {
		unsigned type = t == 0 ? S_IFCHR : S_IFBLK;
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mknod), 1,
				      SCMP_A1(SCMP_CMP_MASKED_EQ, S_IFMT, type));
		if (rc == 0)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mknodat), 1,
					      SCMP_A2(SCMP_CMP_MASKED_EQ, S_IFMT, type));
		if (rc < 0) {
			seccomp_release(ctx);
			return den_err_set(err, -rc, "cannot filter mknod");
		}
	}
	/* New user namespaces are the usual way around everything above. */
	rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
			      SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
	/* clone3 passes its flags in memory a filter cannot read: make libc use clone. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0)
		return den_err_set(err, -rc, "cannot load the seccomp filter");
	return 0;
}

int ctr_harden(const struct ctr_spec *s, struct den_err *err)
{
	system_init = s->system_init;
	host_network = s->host_network;
	if (s->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return den_err_set(err, errno, "cannot set no_new_privs");
	if (load_seccomp(s->no_new_privs, err) < 0 || drop_caps(err) < 0)
		return -1;
	return 0;
}
