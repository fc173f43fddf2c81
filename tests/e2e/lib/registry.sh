# A registry for den's tests: Debian's docker-registry (the CNCF
# distribution registry) on 127.0.0.1 at a free port, over TLS with a
# certificate made here, with htpasswd auth. Needs $T_DIR.
#   start_registry   sets REG_DIR, REG_HOST (127.0.0.1:PORT), REG_CA (its
#                    certificate), REG_USER, REG_PASSWORD, REG_PID; its log
#                    is $REG_DIR/log (one line a request)
#   stop_registry    ends it, by its pid
#   start_proxy      a misbehaving front for it (lib/registry_proxy.py) in
#                    plain HTTP on 127.0.0.1: sets PROXY_HOST, PROXY_PID;
#                    its log is $REG_DIR/proxy.log
#   proxy_mode MODE  pass, corrupt, cut, cutall, busy or bearer
#   stop_proxy       ends it, by its pid

start_registry() {
	REG_DIR="$T_DIR/registry"
	mkdir -p "$REG_DIR/data"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=den test registry" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		-keyout "$REG_DIR/key.pem" -out "$REG_DIR/cert.pem" 2>/dev/null || return 1
	REG_CA="$REG_DIR/cert.pem"
	REG_USER=den
	REG_PASSWORD="den-test-$RANDOM$RANDOM"
	htpasswd -Bbn "$REG_USER" "$REG_PASSWORD" > "$REG_DIR/htpasswd" 2>/dev/null || return 1
	local port
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	REG_HOST="127.0.0.1:$port"
	cat > "$REG_DIR/config.yml" <<EOF2
version: 0.1
log: { level: info, accesslog: { disabled: false } }
storage:
  filesystem: { rootdirectory: $REG_DIR/data }
  delete: { enabled: true }
http:
  addr: $REG_HOST
  tls: { certificate: $REG_DIR/cert.pem, key: $REG_DIR/key.pem }
auth:
  htpasswd: { realm: den-test, path: $REG_DIR/htpasswd }
EOF2
	# The registry reads REGISTRY_* variables as its configuration:
	# podman's REGISTRY_AUTH_FILE, set for den, would be its auth's "file".
	env -u REGISTRY_AUTH_FILE docker-registry serve "$REG_DIR/config.yml" > "$REG_DIR/log" 2>&1 &
	REG_PID=$!
	local code
	for _ in $(seq 100); do
		code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$REG_CA" "https://$REG_HOST/v2/" 2>/dev/null)
		[ "$code" = 401 ] && return 0
		kill -0 "$REG_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "the test registry did not start; its log:" >&2
	tail -20 "$REG_DIR/log" >&2
	return 1
}

stop_registry() {
	[ -n "${REG_PID:-}" ] || return 0
	kill "$REG_PID" 2>/dev/null
	wait "$REG_PID" 2>/dev/null
	REG_PID=
	return 0
}

start_proxy() {
	rm -f "$REG_DIR/proxy.port"
	python3 "$(dirname "${BASH_SOURCE[0]}")/registry_proxy.py" "$REG_DIR/proxy.port" \
		"$REG_DIR/proxy.log" "$REG_HOST" "$REG_CA" "$REG_USER" "$REG_PASSWORD" \
		>"$REG_DIR/proxy.err" 2>&1 &
	PROXY_PID=$!
	for _ in $(seq 100); do
		[ -s "$REG_DIR/proxy.port" ] && break
		sleep 0.05
	done
	[ -s "$REG_DIR/proxy.port" ] || { cat "$REG_DIR/proxy.err" >&2; return 1; }
	PROXY_HOST="127.0.0.1:$(cat "$REG_DIR/proxy.port")"
}

proxy_mode() {
	[ "$(curl -s "http://$PROXY_HOST/_mode?m=$1")" = "$1" ]
}

stop_proxy() {
	[ -n "${PROXY_PID:-}" ] || return 0
	kill "$PROXY_PID" 2>/dev/null
	wait "$PROXY_PID" 2>/dev/null
	PROXY_PID=
	return 0
}
