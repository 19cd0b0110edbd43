# What the load suites share (sourced by scripts/load.sh, scripts/load/wrk.sh,
# scripts/load/collections.sh and scripts/load/instructions.sh): the bench
# gateway's config and value, CPU ticks of a process, a bounded measured run,
# and alternating order.

CLK_TCK=$(getconf CLK_TCK)

# bench_setup DIR LISTEN ADMIN: a new HS256 key k1 in DIR/k1.secret, and
# DIR/config.toml serving cache `bench` on LISTEN (admin on ADMIN) from the
# memory backend; DIR/value is the 100-byte value every suite reads.
bench_setup() {
  "$BIN" keygen > "$1/k1.secret"
  cat > "$1/config.toml" <<CONF
[server]
listen = "$2"
[admin]
listen = "$3"
[[keys]]
kid = "k1"
alg = "HS256"
secret_file = "k1.secret"
signing = true
[[caches]]
name = "bench"
CONF
  head -c 100 /dev/zero | tr '\0' 'v' > "$1/value"
}

# CPU ticks (utime + stime, fields 14 and 15 of /proc/PID/stat; the fields are
# counted after the command name, which may hold spaces) of one process so far.
proc_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }

# wmeasure NAME "LABEL=PID ..." CMD...: runs CMD, bounded by LIMIT, output to
# $work/w_NAME.out; writes $work/w_NAME.cpu: "clk_tck N" then "LABEL TICKS"
# for every process over the run.
wmeasure() {
  local name=$1 procs=$2 p i=0 before=()
  shift 2
  echo "  $name ..." >&2
  for p in $procs; do before+=("$(proc_ticks "${p#*=}")"); done
  timeout "$LIMIT" "$@" > "$work/w_$name.out" 2> "$work/w_$name.err"
  {
    echo "clk_tck $CLK_TCK"
    for p in $procs; do
      echo "${p%%=*} $(($(proc_ticks "${p#*=}") - ${before[$i]}))"
      i=$((i + 1))
    done
  } > "$work/w_$name.cpu"
}

# in_order ROUND FIRST SECOND...: runs the commands (strings) in order in odd
# rounds and in reverse order in even rounds.
in_order() {
  local round=$1 cmds=() i c
  shift
  if ((round % 2)); then cmds=("$@"); else for ((i = $#; i > 0; i--)); do cmds+=("${!i}"); done; fi
  for c in "${cmds[@]}"; do eval "$c"; done
}
