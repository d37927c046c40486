#!/bin/bash
B=/work/main/target/release
cal() { awk '/CAL:|RES:/{printf "%s %s %s ", $1, $2, $3}' /proc/interrupts; }
taskset -c 0 $B/server --listen 127.0.0.1:0 --workers 1 --root /tmp/exp > /tmp/exp/srv.out 2>&1 &
SP=$!; sleep 0.5
PORT=$(grep -o '127.0.0.1:[0-9]*' /tmp/exp/srv.out | head -1 | cut -d: -f2)
taskset -c 0 nginx -p /tmp/exp/ngx -c /tmp/exp/ngx/nginx.conf -e /tmp/exp/ngx/logs/error.log; sleep 0.5
NP=$(pgrep -P $(cat /tmp/exp/ngx/nginx.pid))
for i in $(seq 1 ${ROUNDS:-4}); do
 for who in ours ngx; do
  if [ $who = ours ]; then P=$SP; PO=$PORT; else P=$NP; PO=18080; fi
  a=$(cal)
  r=$(taskset -c 1 $B/loadgen -t1 -c16 -d1s --no-progress --server-pid $P http://127.0.0.1:$PO/1m.bin 2>&1 | grep -E "Requests/sec|Target CPU" | tr '\n' ' ')
  echo "$who $r | before $a | after $(cal)"
 done
done
kill $SP; kill $(cat /tmp/exp/ngx/nginx.pid)
