# Sourced by the .ci/*-deps.sh scripts, which set $sudo ("" or "sudo") and
# $log (a file for apt-get's output) before calling apt_get.

# apt_get runs apt-get with its output in $log, waiting up to 10 minutes
# for the package manager's locks when another install holds them:
# DPkg::Lock::Timeout makes apt-get wait for dpkg's locks, and a failure on
# a lock it does not wait for (apt-get update's lists lock, on some apt
# versions) is retried until the same deadline.
apt_get() {
	local deadline=$((SECONDS + 600))
	while ! $sudo apt-get -o DPkg::Lock::Timeout=600 "$@" >"$log" 2>&1; do
		if ! grep -qE 'Could not get lock|Unable to lock|Unable to acquire the dpkg frontend lock' "$log" || [ "$SECONDS" -ge "$deadline" ]; then
			return 1
		fi
		sleep 5
	done
}
