/* SPDX-License-Identifier: MIT */
/*
 * `den completion bash|zsh|fish` prints the shell's completion script;
 * `den completion --complete -- WORDS...` is what the scripts call (as
 * kubectl's and gh's do): the candidates come from den itself
 * (cmd/completion_words.c), so the scripts stay small and never go stale.
 */
#include "cmd/completion.h"

#include <stdio.h>
#include <string.h>

const struct cmd_usage cmd_usage_completion = {
	.path = "completion",
	.operands = { CMD_VALUE_SHELL },
	.opts = { CMD_OPT("complete", 0, CMD_VALUE_NONE, NULL,
			  "print the candidates for the words after -- (what the scripts call)") },
};

/* COMP_WORDBREAKS splits "--provider=qemu" and "oci:DIR"; bash-completion's helper does not. */
static const char bash_script[] =
	"# bash completion for den; made by `den completion bash`\n"
	"_den()\n"
	"{\n"
	"\tlocal cur words cword\n"
	"\tif declare -F _get_comp_words_by_ref >/dev/null 2>&1; then\n"
	"\t\t_get_comp_words_by_ref -n =: cur words cword\n"
	"\telse\n"
	"\t\tcur=\"${COMP_WORDS[COMP_CWORD]}\"\n"
	"\t\twords=(\"${COMP_WORDS[@]}\")\n"
	"\t\tcword=$COMP_CWORD\n"
	"\tfi\n"
	"\tlocal IFS=$'\\n'\n"
	"\tlocal -a out\n"
	"\tout=($(\"${words[0]}\" completion --complete -- \"${words[@]:1:cword}\" "
	"2>/dev/null)) || return 0\n"
	"\tCOMPREPLY=(\"${out[@]:1}\")\n"
	"\tcase \"${out[0]}\" in\n"
	"\tfiles) COMPREPLY+=($(compgen -f -- \"$cur\")); compopt -o filenames 2>/dev/null ;;\n"
	"\tdirs) COMPREPLY+=($(compgen -d -- \"$cur\")); compopt -o filenames 2>/dev/null ;;\n"
	"\tesac\n"
	"\t# readline replaces only what follows the last = or : of the word\n"
	"\tif [[ $cur == *=* && $COMP_WORDBREAKS == *=* ]]; then\n"
	"\t\tlocal upto=\"${cur%\"${cur##*=}\"}\"\n"
	"\t\tCOMPREPLY=(\"${COMPREPLY[@]#\"$upto\"}\")\n"
	"\tfi\n"
	"\tif declare -F __ltrim_colon_completions >/dev/null 2>&1; then\n"
	"\t\t__ltrim_colon_completions \"$cur\"\n"
	"\tfi\n"
	"}\n"
	"complete -F _den den\n";

/* Autoloaded from $fpath as _den, or sourced (then it registers itself). */
static const char zsh_script[] =
	"#compdef den\n"
	"# zsh completion for den; made by `den completion zsh`\n"
	"_den()\n"
	"{\n"
	"\tlocal -a out cands\n"
	"\tout=(\"${(@f)$(${words[1]} completion --complete -- \"${(@)words[2,CURRENT]}\" "
	"2>/dev/null)}\")\n"
	"\tcands=(\"${(@)out[2,-1]}\")\n"
	"\tcands=(${cands:#})\n"
	"\t(( ${#cands} )) && compadd -Q -- \"${cands[@]}\"\n"
	"\tcase \"$out[1]\" in\n"
	"\tfiles) _files ;;\n"
	"\tdirs) _files -/ ;;\n"
	"\tesac\n"
	"\treturn 0\n"
	"}\n"
	"if [ \"$funcstack[1]\" = \"_den\" ]; then\n"
	"\t_den \"$@\"\n"
	"else\n"
	"\tcompdef _den den\n"
	"fi\n";

static const char fish_script[] =
	"# fish completion for den; made by `den completion fish`\n"
	"function __den_complete\n"
	"\tset -l args (commandline -opc)\n"
	"\tset -l den $args[1]\n"
	"\tset -e args[1]\n"
	"\tset -l cur (commandline -ct)\n"
	"\tset -l out ($den completion --complete -- $args \"$cur\" 2>/dev/null)\n"
	"\tor return\n"
	"\tfor c in $out[2..-1]\n"
	"\t\techo $c\n"
	"\tend\n"
	"\tswitch \"$out[1]\"\n"
	"\t\tcase files\n"
	"\t\t\t__fish_complete_path \"$cur\"\n"
	"\t\tcase dirs\n"
	"\t\t\t__fish_complete_directories \"$cur\"\n"
	"\tend\n"
	"end\n"
	"complete -c den -f -a '(__den_complete)'\n";

int cmd_completion(int argc, char **argv, struct den_ctx *ctx, struct den_err *err)
{
	static const char usage[] = "usage: den completion bash|zsh|fish";

	if (argc >= 2 && strcmp(argv[1], "--complete") == 0) {
		int first = argc >= 3 && strcmp(argv[2], "--") == 0 ? 3 : 2;
		completion_words(ctx, argv + first, argc - first, stdout);
		return 0;
	}
	if (argc != 2)
		return den_err_usage(err, usage);
	if (strcmp(argv[1], "bash") == 0)
		fputs(bash_script, stdout);
	else if (strcmp(argv[1], "zsh") == 0)
		fputs(zsh_script, stdout);
	else if (strcmp(argv[1], "fish") == 0)
		fputs(fish_script, stdout);
	else
		return den_err_usage(err, "den has no completion for the shell '%s'; %s", argv[1],
				     usage);
	return 0;
}
