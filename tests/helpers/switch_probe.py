#!/usr/bin/env python3
"""A machine of den's tests on a private network's switch (docs/networks.md).

    switch_probe.py CONTROL_SOCKET NAME ADDRESS

Joins the switch as machine NAME at ADDRESS (den's MAC for it, a
SOCK_SEQPACKET pair passed with the attach request), prints "joined", and
answers ARP requests for ADDRESS and ICMP echo requests to it until killed:
a peer that needs no VM or container to prove frames cross the switch.
"""
import json
import socket
import sys


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total & 0xFFFF).to_bytes(2, "big")


def main():
    control, name, address = sys.argv[1:4]
    ip = socket.inet_aton(address)
    mac = b"\x52\x54" + ip
    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ctl.connect(control)
    request = {"cmd": "attach", "name": name, "mac": ":".join("%02x" % b for b in mac)}
    socket.send_fds(ctl, [json.dumps(request).encode() + b"\n"], [theirs.fileno()])
    reply = json.loads(ctl.makefile().readline())
    if not reply.get("ok"):
        sys.exit("the switch refused: %s" % reply)
    theirs.close()
    ctl.close()
    print("joined", flush=True)
    while True:
        f = mine.recv(1 << 17)
        if len(f) < 14 + 20:
            continue
        src, kind, body = f[6:12], f[12:14], f[14:]
        if kind == b"\x08\x06" and body[6:8] == b"\x00\x01" and body[24:28] == ip:
            # An ARP request for ADDRESS: ADDRESS is at MAC.
            arp = b"\x00\x01\x08\x00\x06\x04\x00\x02" + mac + ip + body[8:14] + body[14:18]
            mine.send(src + mac + b"\x08\x06" + arp)
        elif kind == b"\x08\x00" and body[9] == 1 and body[16:20] == ip:
            ihl = (body[0] & 15) * 4
            total = int.from_bytes(body[2:4], "big")
            icmp = bytearray(body[ihl:total])
            if not icmp or icmp[0] != 8:
                continue
            icmp[0] = 0  # echo reply
            icmp[2:4] = b"\0\0"
            icmp[2:4] = checksum(bytes(icmp))
            head = bytearray(body[:ihl])
            head[12:16], head[16:20] = body[16:20], body[12:16]
            head[10:12] = b"\0\0"
            head[10:12] = checksum(bytes(head))
            mine.send(src + mac + b"\x08\x00" + bytes(head) + bytes(icmp))


if __name__ == "__main__":
    main()
