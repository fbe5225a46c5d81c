#!/bin/sh
# 23-upgrade.sh - Upgrade (WebSocket over http://): an offer for a protocol
# in access.upgrade_protocols goes to the origin, its 101 comes back with
# the origin's Upgrade and the exchange becomes a tunnel (bytes both ways,
# the origin's first bytes after the 101 too, half-close, counted, logged)
# on a connection that leaves the pool for good; a 101 without Upgrade or
# to a protocol not offered is a 502; an offer of a protocol not allowed
# is dropped.
. "$TESTS_DIR/integration/lib.sh"

start_upgrade_origin
start_ferryd log.access_log="$T/access.log"
W="http://127.0.0.1:$UPGRADE_PORT"

ws "$W/ws" websocket >"$T/ws.out"
check_eq "websocket offer: 101" 101 "$(status_of <"$T/ws.out")"
check "101 carries the origin's Upgrade" grep -qi '^Upgrade: websocket' "$T/ws.out"
check "101 says Connection: upgrade" grep -qi '^Connection: upgrade' "$T/ws.out"
check "the origin's own fields pass" grep -q '^X-Origin: peer' "$T/ws.out"
check "bytes both ways, the origin's first bytes too, then EOF" \
    sh -c 'tail -n 1 "$1" | grep -qx "hello ping"' sh "$T/ws.out"
no_tunnel_left() { [ "$(metric ferryd_tunnels_active)" = 0 ]; }
check "the tunnel ended" wait_for 10 no_tunnel_left
check_eq "counted as a tunnel" 1 "$(metric ferryd_tunnels_total)"
check_eq "101 counted" 1 "$(metric 'ferryd_requests_total{code="101"}')"
check_eq "the connection left the pool for good" 1 \
    "$(metric 'ferryd_upstream_evictions_total{reason="upgraded"}')"
check_eq "nothing idle or in use is left of it" "0 0" \
    "$(metric 'ferryd_upstream_connections{state="idle"}') $(metric 'ferryd_upstream_connections{state="in_use"}')"
check "access log: the upgraded exchange" \
    grep -q " 127.0.0.1 GET $W/ws 101 " "$T/access.log"

ws "$W/ws-bare" websocket >"$T/ws.out"
check_eq "101 without Upgrade: 502" 502 "$(status_of <"$T/ws.out")"
ws "$W/ws-other" websocket >"$T/ws.out"
check_eq "101 to a protocol not offered: 502" 502 "$(status_of <"$T/ws.out")"

# An offer of a protocol not in upgrade_protocols is not passed on.
ws "$W/plain" h2c >"$T/ws.out"
check_eq "h2c offer: an ordinary 200" 200 "$(status_of <"$T/ws.out")"
check "the origin saw no Upgrade" grep -qx 'upgrade: -' "$T/ws.out"
ws "$W/plain" "h2c, websocket" >"$T/ws.out"
check "a mixed offer goes on with the allowed protocol only" \
    grep -qx 'upgrade: websocket' "$T/ws.out"
check "clean exit" stop_ferryd

# upgrade_protocols empty: nothing is offered, so no 101 can come back.
start_ferryd access.upgrade_protocols=
ws "$W/plain" websocket >"$T/ws.out"
check "upgrade_protocols empty: the origin saw no Upgrade" \
    grep -qx 'upgrade: -' "$T/ws.out"
check "clean exit (no upgrades)" stop_ferryd

finish
