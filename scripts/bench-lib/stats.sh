# shellcheck shell=bash
# Number crunching for scripts/bench, in awk so the script needs nothing beyond iproute2 and
# coreutils. Every timestamp is Unix time in seconds (with a fraction) or nanoseconds; `ip -ts
# monitor` prints local time, so scripts/bench runs everything with TZ=UTC.

# The awk function that turns `[2026-11-25T14:16:36.736098]` (UTC) into Unix seconds. mawk has
# no mktime, so the civil date is converted by hand (Howard Hinnant's days_from_civil).
BENCH_AWK_TS='
function ts_epoch(s,   y, mo, d, h, mi, sec, era, yoe, doy, doe, days) {
  gsub(/[\[\]]/, "", s)
  y = substr(s, 1, 4) + 0; mo = substr(s, 6, 2) + 0; d = substr(s, 9, 2) + 0
  h = substr(s, 12, 2) + 0; mi = substr(s, 15, 2) + 0; sec = substr(s, 18) + 0
  if (mo <= 2) y -= 1
  era = int(y / 400)
  yoe = y - era * 400
  doy = int((153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5) + d - 1
  doe = yoe * 365 + int(yoe / 4) - int(yoe / 100) + doy
  days = era * 146097 + doe - 719468
  return days * 86400 + h * 3600 + mi * 60 + sec
}'

# pct FILE P: the P-th percentile (nearest rank) of the numbers in FILE, one per line.
pct() {
  sort -g "$1" | awk -v p="$2" '{ v[NR] = $1 } END {
    if (NR == 0) { print "nan"; exit }
    r = int(p / 100 * NR + 0.999999); if (r < 1) r = 1; if (r > NR) r = NR
    print v[r] }'
}

# count FILE: how many numbers FILE holds.
count() { grep -c . "$1" || true; }

# fmt NUMBER DECIMALS
fmt() { awk -v x="$1" -v d="$2" 'BEGIN { if (x == "nan" || x == "") print "n/a"; else printf "%.*f\n", d, x }'; }

# pair_monitor MONFILE PREFIX GW: from one `ip -ts monitor route` log, the delay (ms) between each
# deletion of PREFIX and the next time PREFIX via GW is there again, one per line.
pair_monitor() {
  awk -v pfx="$2" -v gw="$3" "$BENCH_AWK_TS"'
    $2 == "Deleted" && $3 == pfx { del = ts_epoch($1); next }
    $2 == pfx && $3 == "via" && $4 == gw && del != "" { printf "%.3f\n", (ts_epoch($1) - del) * 1000; del = "" }
  ' "$1"
}

# first_adds MONFILE: "<unix seconds> <prefix>" for the first time each prefix was added.
first_adds() {
  awk "$BENCH_AWK_TS"'
    $2 != "Deleted" && $3 == "via" && !($2 in seen) { seen[$2] = 1; printf "%.6f %s\n", ts_epoch($1), $2 }
  ' "$1"
}

# nth_add MONFILE N PROTO: Unix seconds of the N-th route added with protocol PROTO (empty if fewer).
nth_add() {
  awk -v n="$2" -v proto="$3" "$BENCH_AWK_TS"'
    $2 != "Deleted" && / proto / { for (i = 3; i < NF; i++) if ($i == "proto" && $(i + 1) == proto) { c++; if (c == n) { printf "%.6f\n", ts_epoch($1); exit } } }
  ' "$1"
}

# target_state MEASURED GOAL atmost|atleast: "met", "missed by X% (within 20%)" or
# "MISSED by X%"; the exit status is 1 only for a miss of more than 20%.
target_state() {
  awk -v m="$1" -v g="$2" -v kind="$3" 'BEGIN {
    if (m == "" || m == "nan" || m == "n/a") { print "not measured"; exit 0 }
    miss = (kind == "atmost") ? (m - g) / g : (g - m) / g
    if (miss <= 0) { print "met"; exit 0 }
    if (miss <= 0.20) { printf "missed by %.0f%% (within 20%%)\n", miss * 100; exit 0 }
    printf "MISSED by %.0f%%\n", miss * 100; exit 1 }'
}
