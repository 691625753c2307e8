#!/usr/bin/env bash
# Kannel 1.4.5 on loopback, for the tests of the Kannel SMS sender (Debian's packages `kannel`
# and `kannel-extras`): a bearerbox with one fake SMSC, an smsbox whose sendsms interface has one
# user, and Kannel's test SMSC (fakesmsc) connected to the bearerbox. fakesmsc prints every
# message that reaches the SMSC, so its output file shows exactly what a phone would have got.
#
#   kannel.sh install    install the packages if a program is missing (needs root and apt-get)
#   kannel.sh start DIR  write the configuration to DIR (created), start the three programs on
#                        free loopback ports, wait until a message can go through, and print
#                        KEY=VALUE lines (also kept in DIR/kannel.env); nothing new if DIR's
#                        programs are running already
#   kannel.sh stop DIR   stop what `start DIR` started (by the pids in DIR); nothing if none
#   kannel.sh mo DIR FROM TO TEXT
#                        a text from the phone FROM to TO, into the SMSC; with KANNEL_MO_URL set
#                        at `start`, the smsbox calls it with `&from=…&to=…&text=…` appended
#
# With KANNEL_WATCH_PID set, `start` also leaves a watcher that stops the programs when that
# process ends, so that a test process killed before its clean-up leaves nothing running.
#
# Exit codes: 0 done, 1 failed, 3 Kannel is not installed and cannot be installed here.
#
# Kannel runs as whoever starts it, root included; it needs only writable log paths, which are
# all in DIR. Every listener is bound to 127.0.0.1 and admits 127.0.0.1 only.
set -euo pipefail

readonly BEARERBOX=/usr/sbin/bearerbox
readonly SMSBOX=/usr/sbin/smsbox
readonly FAKESMSC=/usr/lib/kannel/test/fakesmsc
readonly SENDSMS_USER=eventmanager
readonly READY_SECONDS=15

die() {
  echo "kannel.sh: $*" >&2
  exit 1
}

installed() {
  [[ -x $BEARERBOX && -x $SMSBOX && -x $FAKESMSC ]]
}

cmd_install() {
  installed && return 0
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    echo "kannel.sh: Kannel is not installed, and installing it needs root and apt-get:" \
      "apt-get install kannel kannel-extras" >&2
    exit 3
  fi
  echo "kannel.sh: installing kannel and kannel-extras" >&2
  # No recommends: the test needs the programs, not the documentation or a database client.
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      kannel kannel-extras; } >&2; then
    echo "kannel.sh: apt-get could not install kannel and kannel-extras" >&2
    exit 3
  fi
  installed || { echo "kannel.sh: installed, but $FAKESMSC is missing" >&2; exit 3; }
}

# A TCP port on 127.0.0.1 that nothing listens on, and not in "$@". Connecting is the test: a
# refused connection means free. A port taken between this check and the bind makes a program
# exit at start, and `start` tries again with new ports. The port is below the kernel's
# ephemeral range: a port in it may be the source port of any connection (another Kannel's
# boxes connecting to their bearerbox, a test's database connections), which no listener shows
# and which makes the bind fail (seen with six Kannels starting at once).
free_port() {
  local port taken low=32768
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
  ((low > 11000)) || low=32768
  while :; do
    port=$((10000 + (RANDOM * 32768 + RANDOM) % (low - 10000)))
    taken=0
    for used in "$@"; do [[ $used == "$port" ]] && taken=1; done
    ((taken)) && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
}

# Whether process PID exists and has not exited. Not `kill -0`: a process that has exited stays a
# zombie until its parent reaps it, and the parent that adopts ours once this script is gone may
# never do so.
living() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ -n $stat && ${stat%% *} != [ZX] ]]
}

alive() {
  local pid_file=$1 pid
  [[ -f $pid_file ]] || return 1
  pid=$(<"$pid_file")
  [[ -n $pid ]] && living "$pid"
}

# Waits until `grep -q PATTERN FILE` succeeds, or the program of PID_FILE has died, or time is up.
wait_for() {
  local file=$1 pattern=$2 pid_file=$3 deadline=$((SECONDS + READY_SECONDS))
  while ((SECONDS < deadline)); do
    grep -q -- "$pattern" "$file" 2>/dev/null && return 0
    alive "$pid_file" || return 1
    sleep 0.1
  done
  return 1
}

write_config() {
  local dir=$1 admin=$2 smsbox=$3 smsc=$4 sendsms=$5 password=$6
  cat >"$dir/kannel.conf" <<EOF
group = core
admin-port = $admin
admin-interface = 127.0.0.1
admin-password = $password
admin-allow-ip = 127.0.0.1
smsbox-port = $smsbox
smsbox-interface = 127.0.0.1
box-deny-ip = "*.*.*.*"
box-allow-ip = 127.0.0.1
log-file = "$dir/bearerbox.log"
log-level = 0
access-log = "$dir/access.log"

group = smsc
smsc = fake
smsc-id = FAKE
port = $smsc
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
sendsms-port = $sendsms
sendsms-interface = 127.0.0.1
log-file = "$dir/smsbox.log"
log-level = 0

# Three segments are the most the service sends; concatenated, so that phones show one text.
group = sendsms-user
username = $SENDSMS_USER
password = $password
user-allow-ip = 127.0.0.1
max-messages = 3
concatenation = true
EOF
  # Texts from phones (through fakesmsc's standard input, `kannel.sh mo`) go to KANNEL_MO_URL,
  # as an operator's gateway would call the service; nothing is sent back.
  if [[ -n ${KANNEL_MO_URL:-} ]]; then
    cat >>"$dir/kannel.conf" <<EOF

group = sms-service
keyword = default
catch-all = true
get-url = "$KANNEL_MO_URL&from=%p&to=%P&text=%a"
max-messages = 0
EOF
  fi
}

# Starts PROGRAM ARGS... in the background with its output in DIR/NAME.out and its pid in
# DIR/NAME.pid. No descriptor of ours stays open in it: whoever reads our output sees its end.
launch() {
  local dir=$1 name=$2
  shift 2
  "$@" >"$dir/$name.out" 2>&1 </dev/null &
  echo $! >"$dir/$name.pid"
}

# Whether PID is a living process running PROGRAM.
runs() {
  living "$1" && grep -qa -- "$2" "/proc/$1/cmdline" 2>/dev/null
}

stop_one() {
  local pid_file=$1 program=$2 pid
  [[ -f $pid_file ]] || return 0
  pid=$(<"$pid_file")
  rm -f "$pid_file"
  [[ -n $pid ]] || return 0
  # The pid is ours only while it still runs our program: never signal a process that reused it.
  runs "$pid" "$program" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do
    runs "$pid" "$program" || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

# Sends TEXT from the phone FROM to TO through the fake SMSC, as a text a person sends.
cmd_mo() {
  local dir=${1:?usage: kannel.sh mo DIR FROM TO TEXT} from=${2:?} to=${3:?} text=${4:?}
  alive "$dir/fakesmsc.pid" || die "fakesmsc is not running in $dir"
  printf '%s %s text %s\n' "$from" "$to" "$text" >"$dir/mo.fifo"
}

cmd_stop() {
  local dir=${1:?usage: kannel.sh stop DIR}
  [[ -d $dir ]] || return 0
  # The watcher first, so that it does not race this stop.
  stop_one "$dir/watcher.pid" "kannel.sh"
  # The boxes before the bearerbox: a bearerbox going down waits for its boxes.
  stop_one "$dir/smsbox.pid" "$SMSBOX"
  stop_one "$dir/fakesmsc.pid" "$FAKESMSC"
  stop_one "$dir/bearerbox.pid" "$BEARERBOX"
}

print_env() {
  local dir=$1
  cat "$dir/kannel.env"
}

# One try at starting the three programs on new ports; fails (with everything stopped) when one
# of them does not come up.
try_start() {
  local dir=$1 admin smsbox smsc sendsms password
  admin=$(free_port)
  smsbox=$(free_port "$admin")
  smsc=$(free_port "$admin" "$smsbox")
  sendsms=$(free_port "$admin" "$smsbox" "$smsc")
  password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
  rm -f "$dir"/*.log "$dir"/*.out "$dir/kannel.env"
  write_config "$dir" "$admin" "$smsbox" "$smsc" "$sendsms" "$password"

  launch "$dir" bearerbox "$BEARERBOX" -v 2 "$dir/kannel.conf"
  wait_for "$dir/bearerbox.log" "Start-up done" "$dir/bearerbox.pid" || return 1
  # Interactive mode: it prints what arrives, and sends as from a phone each line written to
  # DIR/mo.fifo (`kannel.sh mo`). The FIFO is opened read-write, so that it never reads its end.
  rm -f "$dir/mo.fifo"
  mkfifo "$dir/mo.fifo"
  "$FAKESMSC" -H 127.0.0.1 -r "$smsc" <>"$dir/mo.fifo" >"$dir/fakesmsc.out" 2>&1 &
  echo $! >"$dir/fakesmsc.pid"
  wait_for "$dir/bearerbox.log" "Fakesmsc client connected" "$dir/fakesmsc.pid" || return 1
  launch "$dir" smsbox "$SMSBOX" -v 2 "$dir/kannel.conf"
  wait_for "$dir/smsbox.log" "Set up send sms service" "$dir/smsbox.pid" || return 1
  wait_for "$dir/smsbox.log" "Connected to bearerbox" "$dir/smsbox.pid" || return 1

  cat >"$dir/kannel.env" <<EOF
KANNEL_SENDSMS_PORT=$sendsms
KANNEL_SENDSMS_URL=http://127.0.0.1:$sendsms/cgi-bin/sendsms
KANNEL_USER=$SENDSMS_USER
KANNEL_PASSWORD=$password
KANNEL_ADMIN_PORT=$admin
KANNEL_SMSC_ID=FAKE
KANNEL_FAKESMSC_LOG=$dir/fakesmsc.out
EOF
}

watch_parent() {
  local dir=$1 parent=$2
  while living "$parent"; do sleep 1; done
  rm -f "$dir/watcher.pid"
  cmd_stop "$dir"
}

cmd_start() {
  local dir=${1:?usage: kannel.sh start DIR}
  installed || { echo "kannel.sh: Kannel is not installed (kannel.sh install)" >&2; exit 3; }
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if alive "$dir/bearerbox.pid" && alive "$dir/smsbox.pid" && alive "$dir/fakesmsc.pid" &&
    [[ -f $dir/kannel.env ]]; then
    print_env "$dir"
    return 0
  fi
  cmd_stop "$dir"
  local attempt
  for attempt in 1 2 3; do
    if try_start "$dir"; then
      if [[ -n ${KANNEL_WATCH_PID:-} ]]; then
        watch_parent "$dir" "$KANNEL_WATCH_PID" >/dev/null 2>&1 </dev/null &
        echo $! >"$dir/watcher.pid"
      fi
      print_env "$dir"
      return 0
    fi
    echo "kannel.sh: Kannel did not come up (attempt $attempt); its output:" >&2
    tail -n 5 "$dir"/*.out "$dir"/bearerbox.log "$dir"/smsbox.log >&2 2>/dev/null || true
    cmd_stop "$dir"
  done
  die "Kannel did not come up in $dir"
}

case ${1:-} in
  install) cmd_install ;;
  mo) shift; cmd_mo "$@" ;;
  start) cmd_start "${2:-}" ;;
  stop) cmd_stop "${2:-}" ;;
  *)
    echo "usage: kannel.sh install | start DIR | stop DIR | mo DIR FROM TO TEXT" >&2
    exit 2
    ;;
esac
