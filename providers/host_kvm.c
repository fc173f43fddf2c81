/* SPDX-License-Identifier: MIT */
#include "providers/host_kvm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool kvm_host_usable_at(const char *sys_module, const char *dev_kvm, char *why, size_t len)
{
	char pvm[4096];
	struct stat st;

	snprintf(pvm, sizeof(pvm), "%s/kvm_pvm", sys_module);
	if (stat(pvm, &st) == 0) {
		snprintf(why, len,
			 "this host's /dev/kvm is KVM's PVM backend, which cannot boot a stock "
			 "Linux kernel (it hangs entering 64-bit mode)");
		return false;
	}
	if (access(dev_kvm, R_OK | W_OK) < 0) {
		snprintf(why, len,
			 "%s is not usable here (%s): kvm_intel or kvm_amd is not loaded, "
			 "or den's user is not in the kvm group",
			 dev_kvm, strerror(errno));
		return false;
	}
	return true;
}

bool kvm_host_usable(char *why, size_t len)
{
	return kvm_host_usable_at("/sys/module", "/dev/kvm", why, len);
}
