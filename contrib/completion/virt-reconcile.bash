# bash completion for virt-reconcile                       -*- shell-script -*-
#
# Completes the commands, each command's options, and what their arguments
# take: files and directories for validate, *.yaml and *.yml files for
# render, a directory for plan, apply and run, *.xml files for import
# --xml, a directory for import -o, file names for --status-file and
# --metrics-file, and a few common libvirt URIs for -c/--connect.

# COMPREPLY=($(compgen ...)) is the completion idiom: the words it splits
# are completions, which hold no blanks.
# shellcheck disable=SC2207

_virt_reconcile_commands="validate render plan apply run status import help"

# The options of each command, as its getopt table has them.
_virt_reconcile_options()
{
	case $1 in
	validate) echo "-h --help" ;;
	render) echo "-c --connect -h --help" ;;
	plan) echo "-c --connect --json --insecure-permissions -h --help" ;;
	apply) echo "-c --connect --prune --delete-nvram --shutdown-timeout --insecure-permissions -h --help" ;;
	run) echo "-c --connect --prune --delete-nvram --resync --status-file --metrics-file --insecure-permissions --shutdown-timeout -h --help" ;;
	status) echo "--status-file --json -h --help" ;;
	import) echo "-c --connect -o --output --force --all --xml -h --help" ;;
	esac
}

# Whether an option takes a value (the next word, or after '=').
_virt_reconcile_takes_value()
{
	case $1 in
	-c | --connect | -o | --output | --shutdown-timeout | --resync | --status-file | --metrics-file) return 0 ;;
	esac
	return 1
}

# File names (no argument), directories (-d), *.yaml and *.yml files and
# directories (-y), or *.xml files and directories (-x); with
# bash-completion's helpers, or without them when they are not loaded.
_virt_reconcile_files()
{
	local IFS=$'\n'
	if declare -F _filedir >/dev/null; then
		case $1 in
		-d) _filedir -d ;;
		-y) _filedir '@(yaml|yml)' ;;
		-x) _filedir xml ;;
		*) _filedir ;;
		esac
		return
	fi
	compopt -o filenames 2>/dev/null
	case $1 in
	-d) COMPREPLY=($(compgen -d -- "$cur")) ;;
	-y) COMPREPLY=($(compgen -d -- "$cur") $(compgen -f -X '!*.yaml' -- "$cur")
		$(compgen -f -X '!*.yml' -- "$cur")) ;;
	-x) COMPREPLY=($(compgen -d -- "$cur") $(compgen -f -X '!*.xml' -- "$cur")) ;;
	*) COMPREPLY=($(compgen -f -- "$cur")) ;;
	esac
}

_virt_reconcile()
{
	local cur prev words cword split=false
	if declare -F _init_completion >/dev/null; then
		# -n : keeps "qemu:///system" one word
		_init_completion -s -n : || return
	else
		# the words up to the cursor, split at blanks only, as
		# _init_completion -n : would
		local line=${COMP_LINE:0:COMP_POINT}
		read -ra words <<<"$line"
		[[ -z $line || $line == *[[:blank:]] ]] && words+=("")
		cword=$((${#words[@]} - 1))
		cur=${words[cword]}
		prev=${words[cword - 1]}
		if [[ $cur == --*=* ]]; then
			prev=${cur%%=*}
			cur=${cur#*=}
			split=true
		fi
	fi

	# The command: the first word after the program that is not a global
	# option.
	local i cmd="" cmd_at=0
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-*) ;;
		*)
			cmd=${words[i]}
			cmd_at=$i
			break
			;;
		esac
	done

	if [[ -z $cmd ]]; then
		case $prev in
		-V | --version) return ;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "-h --help -V --version" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$_virt_reconcile_commands" -- "$cur"))
		fi
		return
	fi

	if [[ $cmd == help ]]; then
		((cword == cmd_at + 1)) &&
			COMPREPLY=($(compgen -W "${_virt_reconcile_commands% help}" -- "$cur"))
		return
	fi

	# The value of an option.
	case $prev in
	-c | --connect)
		COMPREPLY=($(compgen -W "qemu:///system qemu:///session test:///default" -- "$cur"))
		# readline replaces only what follows the last ':'
		if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
			local colon=${cur%"${cur##*:}"} k
			for k in "${!COMPREPLY[@]}"; do
				COMPREPLY[k]=${COMPREPLY[k]#"$colon"}
			done
		fi
		return
		;;
	--status-file | --metrics-file)
		_virt_reconcile_files
		return
		;;
	-o | --output)
		_virt_reconcile_files -d
		return
		;;
	--shutdown-timeout | --resync)
		return
		;;
	esac
	$split && return

	# Options come before the operands: after the first operand, only more
	# operands (validate) or nothing.
	local operands=0
	for ((i = cmd_at + 1; i < cword; i++)); do
		if [[ ${words[i]} == -* ]]; then
			[[ ${words[i]} != *=* ]] &&
				_virt_reconcile_takes_value "${words[i]}" && ((i++))
		else
			((operands++))
		fi
	done

	if [[ $cur == -* ]] && ((operands == 0)); then
		COMPREPLY=($(compgen -W "$(_virt_reconcile_options "$cmd")" -- "$cur"))
		return
	fi

	case $cmd in
	validate) _virt_reconcile_files -y ;;
	render) ((operands == 0)) && _virt_reconcile_files -y ;;
	plan | apply | run) ((operands == 0)) && _virt_reconcile_files -d ;;
	import)
		# domain names are libvirt's to know; --xml takes files
		for ((i = cmd_at + 1; i < cword; i++)); do
			[[ ${words[i]} == --xml ]] && _virt_reconcile_files -x
		done
		;;
	esac
}

complete -F _virt_reconcile virt-reconcile

# ex: filetype=sh
