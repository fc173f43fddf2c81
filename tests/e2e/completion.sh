#!/bin/bash
# Shell completion: `den completion bash|zsh|fish` in each real shell, with
# bash-completion loaded as a user has it, completing a real project's
# machines and steps, the store's boxes and den's templates.
. "$(dirname "$0")/lib/assert.sh"
. "$SRC/tests/e2e/lib/boxes.sh"

export DEN_HOME="$T_DIR/home"
mkdir -p "$T_DIR/p"
cat > "$T_DIR/p/Envfile" <<'EOF'
den: 1
defaults:
  box: test/tiny
machines:
  web:
    provision:
      - shell: { inline: "true", name: setup }
      - shell: { inline: "true", name: seed }
  db: {}
  test:
    matrix:
      cpus: [1, 2]
EOF
make_box "$T_DIR/tiny.box" container
run box add "$T_DIR/tiny.box" --name test/tiny
expect_rc 0 "a box in the store"

# The candidates den itself gives: first what the shell adds, then words.
cands() { (cd "$T_DIR/p" && "$DEN" completion --complete -- "$@" | tr '\n' ' ' | sed 's/ $//'); }
expect_true '[ "$(cands "")" = "words $(run help; echo "$OUT" | awk "/^   [a-z]/ {print \$1}" | tr "\n" " " | sed "s/ $//")" ]' "every command, in den help's order"
expect_true '[ "$(cands up "")" = "words web db test test-1 test-2" ]' "up: the machines, the matrix's name first (got: $(cands up ""))"
expect_true '[ "$(cands up w)" = "words web" ]' "up w: only what begins with w"
expect_true '[ "$(cands -C "$T_DIR/p" status d)" = "words db" ]' "-C DIR: that project's machines"
expect_true '[ "$(cd / && "$DEN" completion --complete -- -C "$T_DIR/p" status d | tr "\n" " ")" = "words db " ]' "-C DIR from elsewhere"
expect_true '[ "$(cd / && "$DEN" completion --complete -- status "" | tr "\n" " ")" = "words " ]' "no Envfile: nothing, and no error"
expect_true '[ "$(cands up --provider "")" = "words kvm qemu container lxd" ]' "--provider: the providers"
expect_true '[ "$(cands up --provider=q)" = "words --provider=qemu" ]' "--provider=q in one word"
expect_true '[ "$(cands provision --provision-with setup,s)" = "words setup,setup setup,seed" ]' "steps after a comma"
expect_true 'cands up --n | grep -qw -- "--no-provision"' "up's options"
expect_true 'cands up --n | grep -qw -- "--no-parallel"' "a parallel command's options"
expect_true 'cands halt - | grep -qw -- "--force"' "halt's options"
expect_true '[ "$(cands box "")" = "words add list remove outdated update prune build publish package push warm" ]' "box: its sub-commands"
expect_true '[ "$(cands box remove "")" = "words test/tiny" ]' "box remove: the store's boxes"
expect_true '[ "$(cands init --box "")" = "words test/tiny" ]' "init --box: the store's boxes"
expect_true '[ "$(cands init "")" = "words default matrix multi" ]' "init: the templates"
expect_true '[ "$(cands box build "" | cut -d" " -f1)" = files ]' "box build: recipes, and files"
expect_true 'cands box build "" | grep -qw debian-12' "box build: the built-in recipes"
expect_true '[ "$(cands vmm run --kernel "")" = files ]' "a file option: the shell completes paths"
expect_true '[ "$(cands help up)" = "words up upload" ]' "help: commands"
expect_true '[ "$(cands completion "")" = "words bash zsh fish" ]' "completion: the shells"
expect_true '[ "$(cands exec web -- "")" = files ]' "after --: the shell's business"
expect_true '[ "$(cands nosuch "")" = words ]' "not a command: nothing"
expect_true '[ "$(cands upload ./x "")" = words ]' "upload's destination: free text"
expect_true '[ "$(cands upload ./x /tmp "")" = "words web db test-1 test-2" ]' "upload's third word: one machine, so no matrix's name"

# bash, as a user has it: bash-completion loaded, then den's script.
run completion bash
expect_rc 0 "den completion bash"
echo "$OUT" > "$T_DIR/den.bash"
in_bash() {
	(cd "$T_DIR/p" && bash --norc --noprofile -c '
		. /usr/share/bash-completion/bash_completion
		. "$1"; shift
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		read -ra COMP_WORDS <<< "$COMP_LINE"
		[ "${COMP_LINE: -1}" = " " ] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_den den "${COMP_WORDS[COMP_CWORD]}"
		printf "%s\n" "${COMPREPLY[@]}"' bash "$T_DIR/den.bash" "$@")
}
expect_true 'bash --norc -c ". \"$T_DIR/den.bash\"; complete -p den" | grep -qx "complete -F _den den"' "complete -p den after sourcing"
export PATH="$(dirname "$DEN"):$PATH"
expect_true '[ "$(in_bash "den up " | tr "\n" " ")" = "web db test test-1 test-2 " ]' "bash: den up <TAB> lists the machines (got: $(in_bash "den up " | tr "\n" " "))"
expect_true '[ "$(in_bash "den box re" | tr "\n" " ")" = "remove " ]' "bash: den box re<TAB>"
expect_true 'in_bash "den snapshot restore " | grep -qx web' "bash: snapshot restore <TAB>: machines"
expect_true 'in_bash "den box build " | grep -qx Envfile' "bash: box build <TAB> adds files"
COMP_SPLIT_OUT=$(cd "$T_DIR/p" && bash --norc --noprofile -c '
	. /usr/share/bash-completion/bash_completion; . "$1"
	COMP_LINE="den up --provider=q"; COMP_POINT=${#COMP_LINE}
	COMP_WORDS=(den up --provider = q); COMP_CWORD=4
	_den; printf "%s\n" "${COMPREPLY[@]}"' bash "$T_DIR/den.bash")
expect_true '[ "$COMP_SPLIT_OUT" = qemu ]' "bash: --provider=q<TAB> (readline's = split) (got: $COMP_SPLIT_OUT)"

# zsh: the script is valid, and its function asks den (compadd and _files stood in for).
run completion zsh
echo "$OUT" > "$T_DIR/_den"
expect_true 'zsh -n "$T_DIR/_den"' "zsh: the script parses"
expect_true 'head -1 "$T_DIR/_den" | grep -qx "#compdef den"' "zsh: #compdef den, for fpath"
ZOUT=$(cd "$T_DIR/p" && zsh -f -c '
	compdef() { :; }
	compadd() { while [[ $1 == -* ]]; do [[ $1 == -- ]] && { shift; break }; shift; done; print -l -- "$@"; }
	_files() { print FILES; }
	source "$1"
	words=(den up ""); CURRENT=3; _den
	words=(den box build x); CURRENT=4; _den' zsh "$T_DIR/_den" | tr '\n' ' ')
expect_true '[ "$ZOUT" = "web db test test-1 test-2 FILES " ]' "zsh: den up <TAB>, then box build's files (got: $ZOUT)"

# fish: its own completion engine, through complete -C.
run completion fish
echo "$OUT" > "$T_DIR/den.fish"
FOUT=$(cd "$T_DIR/p" && fish --no-config -c "source '$T_DIR/den.fish'; complete -C 'den up '" | tr '\n' ' ')
expect_true '[ "$FOUT" = "db test test-1 test-2 web " ]' "fish: den up <TAB> (fish sorts) (got: $FOUT)"
FOUT=$(cd "$T_DIR/p" && fish --no-config -c "source '$T_DIR/den.fish'; complete -C 'den halt --f'" | tr '\n' ' ')
expect_true '[ "$FOUT" = "--force " ]' "fish: den halt --f<TAB> (got: $FOUT)"

run completion tcsh
expect_rc 2 "a shell den has no script for"
expect_err "den has no completion for the shell 'tcsh'" "says which"

t_done
