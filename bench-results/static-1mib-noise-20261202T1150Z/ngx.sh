#!/bin/bash
B=/work/main/target/release
taskset -c 0 nginx -p /tmp/exp/ngx -c /tmp/exp/ngx/nginx.conf -e /tmp/exp/ngx/logs/error.log
sleep 0.5
W=$(pgrep -P $(cat /tmp/exp/ngx/nginx.pid))
for i in $(seq 1 ${1:-6}); do
  taskset -c 1 $B/loadgen -t1 -c16 -d1s --no-progress --server-pid $W http://127.0.0.1:18080/1m.bin 2>&1 | grep -E "Target CPU"
done
kill $(cat /tmp/exp/ngx/nginx.pid)
