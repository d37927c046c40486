#!/bin/bash
# ours on CPU0, loadgen on CPU1, 1m.bin c16, N rounds
B=/work/main/target/release
taskset -c 0 $B/server --listen 127.0.0.1:0 --workers 1 --root /tmp/exp > /tmp/exp/srv.out 2>&1 &
SP=$!
sleep 0.5
PORT=$(grep -o '127.0.0.1:[0-9]*' /tmp/exp/srv.out | head -1 | cut -d: -f2)
for i in $(seq 1 ${1:-6}); do
  taskset -c 1 $B/loadgen -t1 -c16 -d1s --no-progress --server-pid $SP http://127.0.0.1:$PORT/1m.bin 2>&1 | grep -E "Requests/sec|Target CPU"
done
kill $SP
