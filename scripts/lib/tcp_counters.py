"""The kernel's TCP counters that show a connect storm overrunning a listener, read from
/proc/net/netstat and /proc/net/snmp (system-wide: run nothing else meanwhile).
usage: tcp_counters.py  -> one JSON object, counter name -> value"""
import json

NAMES = [
    "TcpExtListenOverflows",  # accept queue full: a handshake's last ACK (or a SYN) dropped
    "TcpExtListenDrops",
    "TcpExtTCPReqQFullDrop",  # SYN queue full and no SYN cookies: SYN dropped
    "TcpExtTCPReqQFullDoCookies",  # SYN queue full: answered with a SYN cookie instead
    "TcpExtTCPSynRetrans",  # SYNs the client had to send again
    "TcpRetransSegs",
]


def read():
    values = {}
    for path in ("/proc/net/netstat", "/proc/net/snmp"):
        lines = open(path).read().splitlines()
        for names, numbers in zip(lines[::2], lines[1::2]):
            kind, _, names = names.partition(":")
            _, _, numbers = numbers.partition(":")
            for name, number in zip(names.split(), numbers.split()):
                values[kind + name] = int(number)
    return {name: values.get(name, 0) for name in NAMES}


if __name__ == "__main__":
    print(json.dumps(read()))
