#!/usr/bin/env bash
# A private single-node Slurm cluster that lives entirely under one directory.
#
# As a library (bash):
#   source tests/slurm/slurm_cluster.sh
#   slurm_up DIR      # start munged, slurmctld, slurmd; wait for the node to be idle;
#                     # exports SLURM_CONF=DIR/slurm.conf (so sbatch, squeue, scontrol, ... use it)
#   ...               # sbatch / squeue / scontrol against the private cluster
#   slurm_down DIR    # cancel leftover jobs, stop exactly the daemons slurm_up started
#
# As a command:
#   tests/slurm/slurm_cluster.sh up DIR     # same as slurm_up; the daemons keep running
#   tests/slurm/slurm_cluster.sh env DIR    # prints `export SLURM_CONF=...` for eval
#   tests/slurm/slurm_cluster.sh down DIR   # same as slurm_down
#
# DIR must be absent or empty; slurm_up creates it, with mode 0755: munged insists that every
# directory above its socket is searchable by all (so DIR must not be below a 0700 directory). Everything the cluster writes goes into
# DIR: the munge key, socket and log, slurm.conf, the controller's state, slurmd's spool,
# pid and log files. slurm_down deletes nothing; whoever made DIR removes it (the logs are
# worth a look when something failed).
#
# Needs root (munged, slurmd and slurmstepd run as root here; SlurmUser=root) and Debian's
# slurm-wlm and munge (tools/install-deps.sh). No systemd, no cgroups (proctrack/linuxproc,
# task/none), no accounting database: finished jobs are visible through `scontrol show job`
# for MinJobAge seconds. slurm_up returns 77 when not root, 1 when the cluster does not come up
# (with the tails of the daemons' logs on stderr).
#
# Tunables (environment): LPUSIM_SLURM_UP_TIMEOUT (seconds to wait for an idle node, default 60).

_slurm_log() { echo "slurm_cluster: $*" >&2; }

# A TCP port in [20000, 32000) (below Linux's default ephemeral range, so no outgoing
# connection takes it meanwhile) that no socket on this machine uses, in any state, and that
# is none of the arguments.
_slurm_free_port() {
  local used port tries fields addr
  used=$(while read -r -a fields; do
           addr=${fields[1]:-}
           [[ $addr == *:* ]] && printf '%d\n' "0x${addr##*:}" 2>/dev/null
         done < <(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null) | sort -un)
  for ((tries = 0; tries < 200; tries++)); do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
    [[ " $* " == *" $port "* ]] && continue
    if ! grep -qx "$port" <<<"$used"; then
      echo "$port"
      return 0
    fi
  done
  _slurm_log "no free TCP port found in [20000, 32000)"
  return 1
}

# Is PID alive and one of this cluster's daemons (its command line names DIR)?
_slurm_is_ours() {
  local pid=$1 dir=$2
  [[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | grep -qF -- "$dir/"
}

_slurm_dump_logs() {
  local dir=$1 f
  for f in "$dir"/log/*; do
    [[ -s $f ]] || continue
    echo "----- tail of $f" >&2
    tail -n 25 "$f" >&2
  done
}

# Starts one daemon in the background with its output in DIR/log/NAME.out (stdin and stdout
# detached from the caller, so a caller reading our output through a pipe does not wait for
# the daemons), and records its pid in DIR/pids/NAME.
_slurm_start() {
  local dir=$1 name=$2
  shift 2
  "$@" </dev/null >>"$dir/log/$name.out" 2>&1 &
  echo $! >"$dir/pids/$name"
}

# Waits up to $2 seconds (in 0.1 s steps) for the command "${@:3}" to succeed; fails early
# when the daemon recorded in DIR/pids/$1 has died.
_slurm_wait_for() {
  local daemon=$1 timeout=$2 dir=$_slurm_wait_dir i
  shift 2
  for ((i = 0; i < timeout * 10; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    if ! _slurm_is_ours "$(cat "$dir/pids/$daemon" 2>/dev/null)" "$dir"; then
      _slurm_log "$daemon exited during start-up"
      return 1
    fi
    sleep 0.1
  done
  _slurm_log "timed out after ${timeout}s waiting for: $*"
  return 1
}

_slurm_node_idle() {
  [[ $(sinfo -h -N -o %T 2>/dev/null) == idle ]]
}

slurm_up() {
  local dir=${1:?usage: slurm_up DIR}
  if [[ $(id -u) -ne 0 ]]; then
    _slurm_log "needs root to start munged/slurmctld/slurmd (running as uid $(id -u))"
    return 77
  fi
  local cmd
  for cmd in munged mungekey munge unmunge slurmctld slurmd sinfo scontrol; do
    if ! command -v "$cmd" >/dev/null; then
      _slurm_log "$cmd not found: install Debian's slurm-wlm and munge (tools/install-deps.sh)"
      return 1
    fi
  done
  if [[ -e $dir ]] && [[ -n $(ls -A "$dir" 2>/dev/null) || ! -d $dir ]]; then
    _slurm_log "$dir exists and is not an empty directory"
    return 1
  fi
  mkdir -p "$dir" && dir=$(cd "$dir" && pwd -P) || return 1
  chmod 0755 "$dir"
  # munged refuses a socket below a directory that is not searchable by all.
  local up=$dir
  while [[ $up != / ]]; do
    up=$(dirname "$up")
    if [[ $(( 0$(stat -c %a "$up") & 01 )) -eq 0 ]]; then
      _slurm_log "$up is not searchable by all (mode $(stat -c %a "$up")); munged would refuse a socket below it"
      return 1
    fi
  done
  mkdir -m 0755 "$dir"/munge "$dir"/log "$dir"/pids "$dir"/run "$dir"/state "$dir"/spool || return 1

  local timeout=${LPUSIM_SLURM_UP_TIMEOUT:-60}
  local _slurm_wait_dir=$dir
  local sock=$dir/munge/munge.socket

  # munge: a fresh key, and a daemon that listens only on our socket.
  mungekey --create --keyfile="$dir/munge/munge.key" || return 1
  _slurm_start "$dir" munged munged --foreground --socket="$sock" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/run/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed"
  # shellcheck disable=SC2016  # $1 is the inner shell's argument
  if ! _slurm_wait_for munged 15 bash -c 'munge -S "$1" -n | unmunge -S "$1"' _ "$sock"; then
    _slurm_dump_logs "$dir"
    slurm_down "$dir"
    return 1
  fi

  # slurm.conf: this machine as the only node, as slurmd itself sees it.
  local host node_hw ctld_port slurmd_port
  host=$(hostname -s)
  node_hw=$(slurmd -C 2>/dev/null | head -n 1 | tr ' ' '\n' |
            grep -E '^(CPUs|Boards|SocketsPerBoard|CoresPerSocket|ThreadsPerCore|RealMemory)=' | tr '\n' ' ')
  if [[ $node_hw != *CPUs=* ]]; then
    node_hw="CPUs=$(nproc) RealMemory=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)"
  fi
  if ! ctld_port=$(_slurm_free_port) || ! slurmd_port=$(_slurm_free_port "$ctld_port"); then
    slurm_down "$dir"
    return 1
  fi
  : >"$dir/plugstack.conf"  # so that /etc/slurm/plugstack.conf is not read
  cat >"$dir/slurm.conf" <<EOF
# Generated by tests/slurm/slurm_cluster.sh: a private single-node cluster under $dir.
ClusterName=lpusim
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$dir/plugstack.conf
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
MinJobAge=600
KillWait=5
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=60
NodeName=lpusim1 NodeHostname=$host NodeAddr=127.0.0.1 ${node_hw}State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF=$dir/slurm.conf

  # -D keeps each daemon in the foreground, so the pid we record is the daemon's own.
  # slurmctld -c: a fresh cluster, no state to recover.
  _slurm_start "$dir" slurmctld slurmctld -D -c -f "$SLURM_CONF"
  if ! _slurm_wait_for slurmctld "$timeout" scontrol ping; then
    _slurm_dump_logs "$dir"
    slurm_down "$dir"
    return 1
  fi
  _slurm_start "$dir" slurmd slurmd -D -N lpusim1 -f "$SLURM_CONF"
  if ! _slurm_wait_for slurmd "$timeout" _slurm_node_idle; then
    sinfo -N -l >&2 || true
    _slurm_dump_logs "$dir"
    slurm_down "$dir"
    return 1
  fi
  return 0
}

slurm_down() {
  local dir=${1:?usage: slurm_down DIR}
  [[ -d $dir ]] || return 0
  dir=$(cd "$dir" && pwd -P)
  local conf=$dir/slurm.conf name pid i
  # Jobs first, while the controller is up: their slurmstepd processes are slurmd's children,
  # not ours, so let Slurm end them.
  if _slurm_is_ours "$(cat "$dir/pids/slurmctld" 2>/dev/null)" "$dir" && [[ -f $conf ]]; then
    if [[ -n $(SLURM_CONF=$conf squeue -h -o %i 2>/dev/null) ]]; then
      SLURM_CONF=$conf scancel --full --quiet --user=root 2>/dev/null || true
      for ((i = 0; i < 150; i++)); do
        [[ -z $(SLURM_CONF=$conf squeue -h -o %i 2>/dev/null) ]] && break
        sleep 0.1
      done
    fi
  fi
  for name in slurmd slurmctld munged; do
    pid=$(cat "$dir/pids/$name" 2>/dev/null) || continue
    if _slurm_is_ours "$pid" "$dir"; then
      kill -TERM "$pid" 2>/dev/null
      for ((i = 0; i < 100; i++)); do
        _slurm_is_ours "$pid" "$dir" || break
        sleep 0.1
      done
      if _slurm_is_ours "$pid" "$dir"; then
        _slurm_log "$name (pid $pid) ignored SIGTERM for 10 s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null
      fi
    fi
    # Reap it when it is our shell's child (library use), so no zombie is left.
    wait "$pid" 2>/dev/null || true
    rm -f "$dir/pids/$name"
  done
  # slurmstepd processes that outlived the cancel (their step sockets are in our spool).
  local sock_left
  sock_left=$(find "$dir/spool" -maxdepth 1 -type s 2>/dev/null | head -n 1)
  [[ -z $sock_left ]] || _slurm_log "warning: a job step socket is left in $dir/spool ($sock_left)"
  [[ ${SLURM_CONF:-} == "$conf" ]] && unset SLURM_CONF
  return 0
}

# Run as a command rather than sourced.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -uo pipefail
  case ${1:-} in
    up)   [[ -n ${2:-} ]] || { echo "usage: $0 up DIR" >&2; exit 2; }
          slurm_up "$2"; rc=$?
          [[ $rc -eq 0 ]] && echo "export SLURM_CONF=$(cd "$2" && pwd -P)/slurm.conf"
          exit $rc ;;
    down) [[ -n ${2:-} ]] || { echo "usage: $0 down DIR" >&2; exit 2; }
          slurm_down "$2" ;;
    env)  [[ -f ${2:-}/slurm.conf ]] || { echo "usage: $0 env DIR (a cluster's directory)" >&2; exit 2; }
          echo "export SLURM_CONF=$(cd "$2" && pwd -P)/slurm.conf" ;;
    *)    echo "usage: $0 up DIR | env DIR | down DIR" >&2; exit 2 ;;
  esac
fi
