#!/usr/bin/python3
# The KVM-in-TCG harness's look into L1 through QEMU's human monitor
# (tests/harness/kvm-in-tcg.sh), when L1 has gone quiet:
#   l1_monitor.py SOCKET state   L1's CPU registers (RIP, HLT), its local
#                                APIC (timer mode and count, IRR, ISR)
#   l1_monitor.py SOCKET wake    a key press: an interrupt for an L1 that
#                                waits for a timer interrupt that never came
import re
import socket
import sys
import time


def read_prompt(s):
    out = b""
    end = time.time() + 5
    while time.time() < end and not out.rstrip().endswith(b"(qemu)"):
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        if not d:
            break
        out += d
    # The monitor echoes with terminal escapes; keep the words.
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", out.decode(errors="replace"))


def ask(s, command, keep):
    s.sendall((command + "\n").encode())
    lines = read_prompt(s).splitlines()
    return [line for line in lines if keep(line)]


def main():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(3)
    s.connect(sys.argv[1])
    read_prompt(s)
    if sys.argv[2] == "wake":
        ask(s, "sendkey shift", lambda line: False)
        return
    regs = ask(s, "info registers", lambda line: line.startswith(("RIP", "RAX", "CR0", "EFER")))
    apic = ask(s, "info lapic", lambda line: line.split("\t")[0] in ("LVTT", "Timer", "ISR", "IRR")
               or line.startswith(("APR", "LVTT", "Timer", "ISR", "IRR")))
    code = ask(s, "x/2i $pc", lambda line: line.startswith("0x"))
    for line in regs + apic + code:
        print(line.strip())


if __name__ == "__main__":
    main()
