#!/bin/bash
# Provisioners on real machines (container provider, debian-12 box): shell
# inline/path/args/env/privileged/run once|always|never/reboot, file with
# a folder, ansible with groups across two machines in one run,
# ansible_local, failure reporting, provisioned.json, den provision,
# --provision-with, den upload.
. "$(dirname "$0")/lib/assert.sh"

. "$(dirname "$0")/lib/machines.sh"
require_root "the container provider"
add_debian_box

P="$T_DIR/project"
mkdir -p "$P/scripts" "$P/conf/sub" "$P/ansible/templates"
cd "$P"
trap '"$DEN" -C "$P" destroy -f >/dev/null 2>&1; rm -rf "$T_DIR"' EXIT
cat > scripts/args.sh <<'EOF2'
#!/bin/bash
echo "count=$#"
for a in "$@"; do printf '<%s>\n' "$a"; done
echo "MODE=$MODE QUOTE=$QUOTE user=$(id -un)"
EOF2
printf 'echo "no shebang: ${BASH_VERSION%%%%.*}"\n' > scripts/plain.sh
echo "hello conf" > conf/app.conf
echo "nested" > conf/sub/n.txt
# A package to install: a .deb made here (installing from Debian's archive
# would send the guest's traffic off this machine).
mkdir -p "$T_DIR/pkg/DEBIAN" "$T_DIR/pkg/usr/share/den-hello"
printf 'Package: den-hello\nVersion: 1.0\nArchitecture: all\nMaintainer: den <den@localhost>\nDescription: den test package\n' > "$T_DIR/pkg/DEBIAN/control"
echo "hello package" > "$T_DIR/pkg/usr/share/den-hello/hello"
dpkg-deb --build "$T_DIR/pkg" ansible/den-hello.deb >/dev/null
cat > ansible/site.yml <<'EOF2'
- hosts: all
  become: true
  tasks:
    - name: copy a package in
      copy: { src: den-hello.deb, dest: /tmp/den-hello.deb }
    - name: install it with the apt module
      apt: { deb: /tmp/den-hello.deb }
    - name: template a file
      template: { src: templates/motd.j2, dest: /etc/den-motd, mode: "0644" }
EOF2
# A role from a galaxy role file (a local tarball: no network), and tags.
mkdir -p rolesrc/myrole/tasks rolesrc/myrole/meta
echo '- copy: { content: "role ran\n", dest: /tmp/den-role }' > rolesrc/myrole/tasks/main.yml
printf 'galaxy_info: { author: den, description: t, license: MIT, min_ansible_version: "2.9" }\n' > rolesrc/myrole/meta/main.yml
tar -czf ansible/myrole.tar.gz -C rolesrc myrole
printf -- '- src: ./ansible/myrole.tar.gz\n  name: myrole\n' > ansible/requirements.yml
cat > ansible/roles.yml <<'EOF3'
- hosts: all
  roles: [myrole]
  tasks:
    - { copy: { content: "tagged\n", dest: /tmp/den-tagged }, tags: [t1] }
    - { copy: { content: "skipped\n", dest: /tmp/den-skipped }, tags: [t2] }
    - copy: { content: "gathering={{ lookup('config', 'DEFAULT_GATHERING') }}\n", dest: /tmp/den-cfg }
EOF3
printf '[defaults]\ngathering = explicit\n' > ansible/ansible.cfg
echo 'Hello from {{ inventory_hostname }}, role {{ role }}, in {{ group_names | join(",") }} ({{ tier | default("-") }})' > ansible/templates/motd.j2
cat > ansible/local.yml <<'EOF2'
- hosts: all
  tasks:
    - copy: { content: "local {{ inventory_hostname }} {{ x }}\n", dest: /tmp/den-local }
EOF2
cat > Envfile <<'EOF2'
den: 1
defaults:
  box: den/debian-12
  provider: container
  provision:
    - shell: echo "inline as $(id -un)"
    - shell:
        name: args
        path: scripts/args.sh
        args: ["two words", "it's", "$(id -u)", "back\\slash", "line1\nline2", "`date`"]
        env: { MODE: dev, QUOTE: "a'b\"c $HOME" }
        privileged: false
    - shell: { name: plain, path: scripts/plain.sh }
    - file: { name: conf, source: conf, destination: /etc/app }
    - file: { name: home, source: conf/app.conf, destination: ~/deep/app.conf }
    - ansible:
        playbook: ansible/site.yml
        extra_vars: { role: dev }
        groups: { servers: [web, db], "servers:vars": { tier: backend } }
    - shell: { name: every, inline: "date +%s%N >> /root/every", run: always }
    - shell: { name: later, inline: "echo later > /root/later", run: never }
machines:
  web:
    provision:
      - ansible:
          name: roles
          playbook: ansible/roles.yml
          galaxy_role_file: ansible/requirements.yml
          config_file: ansible/ansible.cfg
          skip_tags: t2
  db:
    provision:
      - shell: { name: reboot, inline: "touch /dev/shm/before", reboot: true }
EOF2
SD=$(state_dir)

run up
expect_rc 0 "den up provisions both machines"
expect_out "web: inline as root" "inline shell runs with sudo, output prefixed with the machine"
expect_out "db: inline as root" "on each machine"
expect_out "web: count=6" "args arrive as six words"
for a in "<two words>" "<it's>" '<$(id -u)>' '<back\slash>' "<line1" "line2>" '<`date`>'; do
	expect_out "web: $a" "argument $a arrives verbatim"
done
expect_out "MODE=dev QUOTE=a'b\"c \$HOME user=den" "env values arrive verbatim; privileged: false runs as the SSH user"
expect_out "web: no shebang: 5" "a script without #! runs with bash"
expect_true '[ "$(printf "%s\n" "$ERR" | grep -c "running ansible .ansible-")" = 1 ]' "one run of the shared ansible step for both machines"
expect_err "also for db" "and it says so"
run ssh web -c 'cat /etc/app/app.conf /etc/app/sub/n.txt ~/deep/app.conf; stat -c %U /etc/app/app.conf; cat /etc/den-motd'
expect_out "nested" "a folder is copied recursively"
expect_true '[ "$(printf "%s\n" "$OUT" | grep -c "hello conf")" = 2 ]' "file to /etc (through sudo) and to ~ (created folders)"
expect_out "root" "files placed outside the home belong to root"
expect_out "Hello from web, role dev, in servers (backend)" "ansible templated a file with extra_vars and group vars"
run ssh web -c 'cat /tmp/den-role /tmp/den-tagged /tmp/den-cfg; test ! -e /tmp/den-skipped && echo not-skipped-file'
expect_out "role ran" "a role from galaxy_role_file ran"
expect_out "tagged" "tagged tasks run"
expect_out "not-skipped-file" "skip_tags skips"
expect_out "gathering=explicit" "config_file is the run's ansible.cfg"
run ssh db -c 'cat /etc/den-motd; dpkg-query -W -f="\${Status}\n" den-hello; cat /usr/share/den-hello/hello'
expect_out "Hello from db" "ansible ran on db in the same run"
expect_out "install ok installed" "the playbook installed a package"
expect_out "hello package" "its files are there"
expect_true '[ -f "$SD/machines/web/provisioned.json" ]' "provisioned.json is written"
expect_true 'python3 -c "import json; s = json.load(open(\"$SD/machines/web/provisioned.json\"))[\"steps\"]; assert s[\"args\"][\"result\"] == \"ok\" and len(s[\"args\"][\"checksum\"]) == 64 and \"later\" not in s"' "it records each step's result and checksum, and not run: never"
run ssh db -c 'test ! -e /dev/shm/before && echo rebooted'
expect_out "rebooted" "reboot: true restarts the machine and den waits for it"

run up
expect_rc 0 "den up again"
expect_no_out "inline as root" "run: once steps do not run again"
run ssh web -c 'sudo cat /root/every | wc -l'
expect_out "2" "run: always steps run at every up"

run provision web --provision-with later
expect_rc 0 "--provision-with runs a run: never step"
run ssh web -c 'sudo cat /root/later'
expect_out "later" "it ran"
run provision web
expect_out "web: inline as root" "den provision runs once steps again"
expect_no_out "db:" "only on the machine named"
run reload web --provision
expect_rc 0 "den reload --provision"
expect_out "web: inline as root" "runs every step after the restart"
run provision --provision-with nosuch
expect_rc 2 "an unknown step name is a usage error"
expect_err "no machine here has a step of that name" "that says so"

# A failing step stops that machine's provisioning with its name, exit code and last lines.
cat >> Envfile <<'EOF2'
  bad:
    provision:
      - shell: { name: breaks, inline: "echo first; echo second >&2; exit 3" }
      - shell: { name: after-break, inline: "echo must-not-run" }
EOF2
run up bad
expect_rc 1 "den up exits 1 when a step fails"
expect_err "step 'breaks' (shell) failed with exit code 3" "the error names the step and the exit code"
expect_err "second" "and shows the last lines"
expect_no_out "must-not-run" "later steps of that machine do not run"
run destroy -f bad

# ansible_local: ansible-playbook inside the machine (the host's Ansible, bound in).
cat >> Envfile <<'EOF2'
  local:
    synced_folders:
      - { host: /usr/lib/python3/dist-packages, guest: /usr/lib/python3/dist-packages, mount_options: [ro] }
      - { host: /usr/bin/ansible-playbook, guest: /usr/local/bin/ansible-playbook, mount_options: [ro] }
      - { host: ./ansible, guest: /work/ansible }
    provision:
      - ansible_local: { playbook: local.yml, provisioning_path: /work/ansible, extra_vars: { x: 42 } }
EOF2
run up local
expect_rc 0 "ansible_local runs ansible-playbook inside the machine"
run ssh local -c 'cat /tmp/den-local'
expect_out "local local 42" "the playbook ran there, with extra_vars"
cat >> Envfile <<'EOF2'
  noansible:
    provision:
      - ansible_local: { playbook: /nowhere.yml, install: false }
EOF2
run up noansible
expect_rc 1 "ansible_local without Ansible in the machine"
expect_err "set install: true" "says how to get it"
run destroy -f local noansible

# install: true, from a local apt repository of ansible-core and its
# dependencies (scripts/test-debs.sh) that the machine reaches through
# den's network at 10.0.2.2: no traffic leaves this machine.
python3 "$SRC/tests/helpers/aptrepo.py" /var/cache/den-test/debs "$T_DIR/repo"
RPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$T_DIR/repo" && exec python3 -m http.server --bind 127.0.0.1 "$RPORT" >/dev/null 2>&1) &
REPO_PID=$!
trap 'kill $REPO_PID 2>/dev/null; "$DEN" -C "$P" destroy -f >/dev/null 2>&1; rm -rf "$T_DIR"' EXIT
cat >> Envfile <<EOF2
  inst:
    host_loopback: true
    synced_folders:
      - { host: ./ansible, guest: /work/ansible }
    provision:
      - shell:
          name: local-apt
          inline: |
            rm -f /etc/apt/sources.list.d/*
            echo "deb [trusted=yes] http://10.0.2.2:$RPORT/ ./" > /etc/apt/sources.list
      - ansible_local:
          name: install-ansible
          playbook: local.yml
          provisioning_path: /work/ansible
          install: true
          extra_vars: { x: 7 }
EOF2
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$RPORT/Release" >/dev/null && break; sleep 0.1; done
run up inst --provision-with local-apt,install-ansible
expect_rc 0 "ansible_local with install: true installs Ansible in the machine"
expect_out "inst: installing Ansible in the machine" "and says so"
run ssh inst -c 'cat /tmp/den-local; command -v ansible-playbook'
expect_out "local inst 7" "then runs the playbook with it"
run destroy -f inst
kill $REPO_PID 2>/dev/null

echo "uploaded" > "$T_DIR/up.txt"
run upload "$T_DIR/up.txt" "~/in/up.txt" web
expect_rc 0 "den upload SRC DST MACHINE"
run ssh web -c 'cat ~/in/up.txt'
expect_out "uploaded" "the file is in the machine"
run upload "$P/conf" /tmp/conf-copy web
run ssh web -c 'cat /tmp/conf-copy/sub/n.txt'
expect_out "nested" "den upload copies folders"
t_done
