# tests/load/lib.sh: what tests/load/bench and tests/load/audit-bench share.
# shellcheck shell=bash
# Sourced, not run.  The caller sets NAME (its name in messages) first.
#
# Words: "ticks" are the clock ticks of /proc/PID/stat (CLK_TCK a second);
# a process's CPU is its utime + stime.  A PostgreSQL backend's CPU is read
# there while it lives; once it has exited and the postmaster has reaped it,
# it is in the postmaster's cutime + cstime (so is that of every other
# child that exited meanwhile: autovacuum and pg_cron workers, other
# people's short sessions).

CLK_TCK=$(getconf CLK_TCK)
BG=() # background processes to end on the way out (by pid)
PGBENCH=$(command -v pgbench || echo /usr/lib/postgresql/15/bin/pgbench)

say() { printf '%s: %s\n' "$NAME" "$*" >&2; }
die() {
	say "$*"
	exit 1
}

# load_env FILE: the stack's variables (deploy/dev's dev.env), exported.
load_env() {
	[ -f "$1" ] || die "$1 not found (run deploy/dev up)"
	set -a
	# shellcheck source=/dev/null
	. "$1"
	set +a
	unset PGOPTIONS
}

# sql [PSQL ARGS...]: psql as the stack's superuser, unaligned, no headers.
sql() {
	psql -X -q -v ON_ERROR_STOP=1 -tA -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" -d "$PGDATABASE" "$@"
}

# end_background: TERM the processes of BG that are still this shell's
# children (a pid that was reused by someone else's process is left alone).
end_background() {
	local pid line f
	for pid in "${BG[@]}"; do
		{ read -r line </proc/"$pid"/stat; } 2>/dev/null || continue
		read -r -a f <<<"${line##*) }"
		[ "${f[1]}" = "$$" ] && kill -TERM "$pid" 2>/dev/null
	done
	return 0
}

# ticks_of PID: REPLY = utime + stime of PID, 0 when it is gone.  No fork:
# the bench samples with it every 50 ms while pgbench runs.
ticks_of() {
	local line f
	REPLY=0
	{ read -r line </proc/"$1"/stat; } 2>/dev/null || return 0
	read -r -a f <<<"${line##*) }"
	REPLY=$((f[11] + f[12]))
}

# proc_ticks PID...: utime + stime of the processes, summed.
proc_ticks() {
	local total=0 pid
	for pid in "$@"; do
		ticks_of "$pid"
		total=$((total + REPLY))
	done
	echo "$total"
}

# reaped_ticks PID: cutime + cstime of PID (the postmaster: its exited children).
reaped_ticks() {
	local line f
	read -r line </proc/"$1"/stat || return 1
	read -r -a f <<<"${line##*) }"
	echo $((f[13] + f[14]))
}

# postmaster_pid: the pid of the stack's postmaster (first line of postmaster.pid).
postmaster_pid() {
	local dir pid
	dir=$(sql -c 'SHOW data_directory') || return 1
	read -r pid <"$dir/postmaster.pid" || return 1
	echo "$pid"
}

# us_per TICKS COUNT: microseconds of CPU per request or transaction.
us_per() {
	awk -v t="$1" -v n="$2" -v hz="$CLK_TCK" 'BEGIN { if (n > 0) printf "%.1f\n", t * 1e6 / hz / n }'
}

# pgbench_measure APPNAME OUT PGBENCH-ARGS...: run pgbench with its sessions
# named APPNAME and write to OUT its report followed by "ticks=" (the CPU
# of its backends) and "ticks_how=": "reaped" when the postmaster's reaped
# CPU and a sampling of the backends' own /proc/PID/stat every 50 ms agree
# within 10 % (the exact figure then), else "sampled" (a lower bound: it
# misses the last 50 ms of each backend, but nobody else's backends).
# Returns pgbench's status.
pgbench_measure() {
	local app=$1 out=$2 pm r0 r1 pids=() pid p rc=0 sampled=0 i clients=1 prev=''
	local -A seen=()
	shift 2
	for p in "$@"; do
		[ "$prev" = -c ] && clients=$p
		prev=$p
	done
	pm=$(postmaster_pid) || return 1
	sleep 0.2 # let the backends of earlier psql calls be reaped first
	r0=$(reaped_ticks "$pm")
	PGAPPNAME=$app "$PGBENCH" "$@" >"$out" 2>&1 &
	pid=$!
	BG+=("$pid")
	# Its backends, once all its clients are connected (5 s at most).
	for ((i = 0; i < 50 && ${#pids[@]} < clients; i++)); do
		sleep 0.1
		mapfile -t pids < <(sql -c "SELECT pid FROM pg_stat_activity WHERE application_name = '$app'")
	done
	while kill -0 "$pid" 2>/dev/null; do
		for p in "${pids[@]}"; do
			ticks_of "$p"
			[ "$REPLY" -gt "${seen[$p]:-0}" ] && seen[$p]=$REPLY
		done
		sleep 0.05
	done
	wait "$pid" || rc=$?
	for p in "${pids[@]}"; do
		sampled=$((sampled + ${seen[$p]:-0}))
	done
	for ((i = 0; i < 50; i++)); do
		[ "$(proc_ticks "${pids[@]}")" = 0 ] && break
		sleep 0.05
	done
	sleep 0.1
	r1=$(reaped_ticks "$pm")
	if [ $((r1 - r0)) -ge "$sampled" ] && [ $(((r1 - r0) * 10)) -le $((sampled * 11 + 10)) ]; then
		printf 'ticks=%s\nticks_how=reaped\n' $((r1 - r0)) >>"$out"
	else
		printf 'ticks=%s\nticks_how=sampled\n' "$sampled" >>"$out"
	fi
	return "$rc"
}

# pgbench_value OUT KEY: tps | tx | failed | ticks | ticks_how from pgbench_measure's OUT.
pgbench_value() {
	case $2 in
	tps) awk '/^tps = / { v = $3 } END { if (v == "") exit 1; print v }' "$1" ;;
	tx) awk -F': ' '/^number of transactions actually processed/ { split($2, a, "/"); print a[1] }' "$1" ;;
	failed) awk -F': ' '/^number of failed transactions/ { split($2, a, " "); v = a[1] } END { print v + 0 }' "$1" ;;
	ticks | ticks_how) sed -n "s/^$2=//p" "$1" ;;
	esac
}
