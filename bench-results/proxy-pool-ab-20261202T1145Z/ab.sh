#!/bin/bash
# connects per request and proxy CPU-us/req for two builds, interleaved (A B A B), c=100, 5 s
L=/work/wt17b/target/release/loadgen
for round in 1 2 3; do
for b in old new; do
S=/tmp/demo17b/server-$b
taskset -c 0 /tmp/demo17b/server-old --listen 127.0.0.1:19100 --workers 1 >/dev/null 2>&1 & B=$!
taskset -c 0 $S --listen 127.0.0.1:19101 --workers 1 --proxy /=http://127.0.0.1:19100 --upstream-keepalive 64 >/dev/null 2>/tmp/demo17b/churn-$b.err & P=$!
sleep 0.5
taskset -c 1 $L -t1 -c100 -d5s --no-progress --server-pid $P --json /tmp/demo17b/churn-$b-$round.json http://127.0.0.1:19101/plaintext >/dev/null 2>&1
kill -INT $P; wait $P; kill -INT $B; wait $B
python3 - "$b" "$round" <<'PY'
import json,sys,re
b,r=sys.argv[1],sys.argv[2]
j=json.load(open(f"/tmp/demo17b/churn-{b}-{r}.json"))
err=open(f"/tmp/demo17b/churn-{b}.err").read()
m=re.search(r"proxied (\d+) \(upstream connects (\d+)",err)
def find(d,k):
    if isinstance(d,dict):
        for kk,v in d.items():
            if kk==k: return v
            x=find(v,k)
            if x is not None: return x
    return None
print(b, r, "rps", round(find(j,"rps") or find(j,"requests_per_sec") or 0), "cpu_us_per_req", find(j,"cpu_us_per_request") or find(j,"server_cpu_us_per_req"), "connects/req", round(int(m.group(2))/int(m.group(1)),3))
PY
done; done
