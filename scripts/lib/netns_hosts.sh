# shellcheck shell=bash
# shellcheck disable=SC2034 # the HOST_* arrays are for the scripts that source this
# Test hosts on one machine (bash; source this file): each a network
# namespace joined to this one by a veth link on a /30 of its own, with a
# hostname of its own where `unshare --uts` works. Used by
# scripts/cluster_faults.sh and bench/cluster_hosts.sh. Needs root.
#
#   . scripts/lib/netns_hosts.sh
#   trap hosts_remove EXIT                 # safe before hosts_make, and twice
#   hosts_make 3 || exit 77                # says why on stderr
#   pg_start "$work/pg" "${HOST_SERVER_ADDR[@]}"
#   host_run 2 lrtune study worker ... &   # in host 2 (0 = this namespace)
#   ip link set "${HOST_VETH[2]}" down     # cut host 2 off
#
# hosts_make N
#   Makes hosts 1..N: namespace lrt-PID-hI, link lrtPIDhI (this side,
#   10.A.B.4I+1/30, in HOST_SERVER_ADDR[I]) to lrtPIDhIn (its side,
#   10.A.B.4I+2/30, in HOST_CLIENT_ADDR[I]), lo up; A.B from the shell's pid,
#   moved on while an address of this machine is in 10.A.B.0/24. Sets
#   HOST_NS, HOST_VETH, HOST_SERVER_ADDR, HOST_CLIENT_ADDR (indexed by I) and
#   HOST_SUBNET (10.A.B.0/24). Returns 1, saying why, when not root, without
#   `ip`, or when a namespace or link cannot be made. Call it in the script's
#   own shell, not in $(...): the arrays are set there.
# host_run I COMMAND...
#   Runs COMMAND in host I's namespace under the hostname lrt-PID-hI (where
#   unshare --uts works), or here for I = 0; exec's, so `&` and `$!` give
#   the command's own pid.
# hosts_remove
#   SIGKILLs every process left in the hosts' namespaces, deletes the
#   namespaces and links. Never fails: fit for an EXIT trap.

HOST_NS=() HOST_VETH=() HOST_SERVER_ADDR=() HOST_CLIENT_ADDR=() HOST_SUBNET=
_hosts_own_name=0

hosts_make() {
  local n=$1 a b i ns v err
  if ((EUID != 0)); then echo "network namespaces need root (running as uid $EUID)" >&2; return 1; fi
  command -v ip >/dev/null || { echo "no ip command (iproute2)" >&2; return 1; }
  a=$((16 + ($$ >> 8) % 224)) b=$(($$ % 256))
  for _ in {1..256}; do
    ip -4 -o addr show | grep -q " 10\.$a\.$b\." || break
    b=$(((b + 1) % 256))
  done
  HOST_SUBNET=10.$a.$b.0/24
  for ((i = 1; i <= n; i++)); do
    ns=lrt-$$-h$i v=lrt$$h$i
    err=$(ip netns add "$ns" 2>&1) || { echo "cannot create network namespaces (ip netns add: $err)" >&2; return 1; }
    HOST_NS[i]=$ns
    err=$(ip link add "$v" type veth peer name "${v}n" 2>&1) || { echo "cannot create veth links (ip link add: $err)" >&2; return 1; }
    HOST_VETH[i]=$v
    ip link set "${v}n" netns "$ns"
    ip addr add "10.$a.$b.$((4 * i + 1))/30" dev "$v"
    ip link set "$v" up
    ip -n "$ns" addr add "10.$a.$b.$((4 * i + 2))/30" dev "${v}n"
    ip -n "$ns" link set "${v}n" up
    ip -n "$ns" link set lo up
    HOST_SERVER_ADDR[i]=10.$a.$b.$((4 * i + 1))
    HOST_CLIENT_ADDR[i]=10.$a.$b.$((4 * i + 2))
  done
  unshare --uts -- true 2>/dev/null && _hosts_own_name=1
  return 0
}

host_run() {
  local i=$1
  shift
  if ((i == 0)); then
    exec "$@"
  elif ((_hosts_own_name)); then
    # shellcheck disable=SC2016 # sh expands them
    exec ip netns exec "${HOST_NS[i]}" unshare --uts -- sh -c 'hostname "$1" && shift && exec "$@"' \
      sh "${HOST_NS[i]}" "$@"
  else
    exec ip netns exec "${HOST_NS[i]}" "$@"
  fi
}

hosts_remove() {
  local ns v p
  for ns in "${HOST_NS[@]}"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  for v in "${HOST_VETH[@]}"; do ip link del "$v" 2>/dev/null || true; done
  HOST_NS=() HOST_VETH=()
  return 0
}
