#!/usr/bin/env bash
# How much memory a 1 GiB proxied download and upload cost our proxy (issue 17, figure 3).
#
# A backend (our server, --root with a 1 GiB sparse file) for the download, and a sink (a
# small Python upstream that reads a Content-Length body and answers 200) for the upload;
# our proxy in front of both (--max-body-bytes 1 GiB), everything on loopback. curl moves
# 1 GiB each way through the proxy; the proxy's VmHWM (peak RSS) and VmRSS from
# /proc/PID/status before and after say how much it grew.
#
# Usage: scripts/proxy-rss.sh [--out DIR]   (run it under flock /tmp/bench.lock)
# Writes DIR/proxy-rss.json and proxy-rss.md (default target/bench-runs/proxy-rss-<time>/).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib/common.sh
source "$ROOT/scripts/lib/common.sh"
OUT=""
while [ $# -gt 0 ]; do
  case $1 in
    --out) OUT=${2:?}; shift 2 ;;
    *) echo "proxy-rss.sh: unknown option '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
done
require curl curl
make_workdir
cargo build --release -p server --manifest-path "$ROOT/Cargo.toml" >&2
mkdir -p "$WORK/docs"
truncate -s 1G "$WORK/docs/big.bin" "$WORK/upload.bin"
start_our_server 0 --workers 1 --root "$WORK/docs"
BACKEND_PORT=$SERVER_PORT CMD_PID=$SERVER_PID
SINK_PORT=$(free_port)
python3 - "$SINK_PORT" >"$WORK/sink.log" 2>&1 <<'PY' &
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()
def serve(c):
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = c.recv(65536)
        if not data:
            return  # a probe (wait_port) or a client gone
        buf += data
    head, rest = buf.split(b"\r\n\r\n", 1)
    n = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0])
    got = len(rest)
    while got < n:
        data = c.recv(1 << 20)
        if not data:
            return
        got += len(data)
    body = str(got).encode()
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
while True:
    c, _ = s.accept()
    try:
        serve(c)
    finally:
        c.close()
PY
SINK_PID=$!
trap 'kill "$SINK_PID" 2>/dev/null; cleanup_workdir' EXIT
wait_port "$SINK_PORT"
start_our_server 0 --workers 1 --max-body-bytes 1073741824 \
  --proxy "/big.bin=http://127.0.0.1:$BACKEND_PORT" --proxy "/sink=http://127.0.0.1:$SINK_PORT"
kb() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }
curl -fsS "http://127.0.0.1:$SERVER_PORT/big.bin" -r 0-0 -o /dev/null # warm: one exchange done
hwm0=$(kb "$SERVER_PID" VmHWM) rss0=$(kb "$SERVER_PID" VmRSS)
down=$(taskset -c 1 curl -fsS -o /dev/null -w '%{size_download} %{time_total}' "http://127.0.0.1:$SERVER_PORT/big.bin")
hwm1=$(kb "$SERVER_PID" VmHWM)
up=$(taskset -c 1 curl -fsS -T "$WORK/upload.bin" -w ' %{size_upload} %{time_total}' "http://127.0.0.1:$SERVER_PORT/sink")
hwm2=$(kb "$SERVER_PID" VmHWM) rss2=$(kb "$SERVER_PID" VmRSS)
OUT=${OUT:-$ROOT/target/bench-runs/proxy-rss-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
python3 - "$OUT" "$hwm0" "$rss0" "$hwm1" "$hwm2" "$rss2" "$down" "$up" <<'PY'
import json, sys
out, hwm0, rss0, hwm1, hwm2, rss2 = sys.argv[1], *map(int, sys.argv[2:7])
down_bytes, down_s = sys.argv[7].split()
sink_said, up_bytes, up_s = sys.argv[8].split()
r = {
    "rig": "our server --workers 1 as proxy (--max-body-bytes 1 GiB) and backend on CPU 0, curl on CPU 1, loopback; the upload sink is a Python upstream",
    "command": "scripts/proxy-rss.sh",
    "download": {"bytes": int(down_bytes), "seconds": float(down_s), "peak_rss_growth_kib": hwm1 - hwm0},
    "upload": {"bytes": int(up_bytes), "upstream_received": int(sink_said), "seconds": float(up_s), "peak_rss_growth_kib": hwm2 - hwm1},
    "proxy_kib": {"vmhwm_before": hwm0, "vmrss_before": rss0, "vmhwm_after": hwm2, "vmrss_after": rss2},
}
json.dump(r, open(f"{out}/proxy-rss.json", "w"), indent=2)
md = f"""# Proxy memory: 1 GiB through it each way

Rig: {r['rig']}. Command: `{r['command']}`.

| transfer | bytes | seconds | proxy peak RSS growth |
|---|---|---|---|
| download (backend's 1 GiB file) | {down_bytes} | {float(down_s):.2f} | {hwm1 - hwm0} KiB |
| upload (to the sink, which counted {sink_said}) | {up_bytes} | {float(up_s):.2f} | {hwm2 - hwm1} KiB |

Proxy VmHWM {hwm0} KiB before, {hwm2} KiB after; VmRSS {rss0} KiB before, {rss2} KiB after.
"""
open(f"{out}/proxy-rss.md", "w").write(md)
print(md)
PY
