#!/bin/bash
# simultaneous A/B: both servers on CPU0, both loadgens on CPU1 at once.
set -u
B=/work/main/target/release
R=${R:-20} D=${D:-500ms} C=${C:-64} MODE=${MODE:-sim}
cd /tmp/sim; rm -f b*.json h*.json
taskset -c 0 $B/server --listen 127.0.0.1:18001 --workers 1 --root /tmp/sim/docs >/dev/null 2>&1 & P1=$!
taskset -c 0 $B/server --listen 127.0.0.1:18002 --workers 1 --root /tmp/sim/docs >/dev/null 2>&1 & P2=$!
sleep 0.5
for i in $(seq 1 $R); do
  if [ $MODE = sim ]; then
    taskset -c 1 $B/loadgen -t1 -c$C -d$D --warmup 200ms --no-progress --server-pid $P1 --json b$i.json http://127.0.0.1:18001/plaintext >/dev/null 2>&1 & L1=$!
    taskset -c 1 $B/loadgen -t1 -c$C -d$D --warmup 200ms --no-progress --server-pid $P2 --json h$i.json http://127.0.0.1:18002/plaintext >/dev/null 2>&1 & L2=$!
    wait $L1 $L2
  else
    taskset -c 1 $B/loadgen -t1 -c$C -d$D --warmup 200ms --no-progress --server-pid $P1 --json b$i.json http://127.0.0.1:18001/plaintext >/dev/null 2>&1
    taskset -c 1 $B/loadgen -t1 -c$C -d$D --warmup 200ms --no-progress --server-pid $P2 --json h$i.json http://127.0.0.1:18002/plaintext >/dev/null 2>&1
  fi
done
kill $P1 $P2; wait 2>/dev/null
python3 - <<'PY'
import json,math,statistics as st
R=int(__import__('os').environ.get('R','20'))
lr=[];bs=[];hs=[]
for i in range(1,R+1):
    b=json.load(open(f'/tmp/sim/b{i}.json'))['target']['cpu_us_per_request']
    h=json.load(open(f'/tmp/sim/h{i}.json'))['target']['cpu_us_per_request']
    bs.append(b);hs.append(h);lr.append(math.log(h/b))
print('base',[round(x,2) for x in bs]); print('head',[round(x,2) for x in hs])
print('paired mean %.2f%% sd %.2f%% median %.2f%%'%(100*st.mean(lr),100*st.stdev(lr),100*st.median(lr)))
PY
