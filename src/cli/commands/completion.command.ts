/**
 * `alice completion bash|zsh|fish`: a shell completion script for every command, subcommand and
 * option, generated from the command tree itself so it never falls behind a new option.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { CliContext } from '../context.js';
import type { Rendered } from '../render.js';

const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

interface Node {
  /** Command path below `alice`, e.g. `index rebuild`. */
  path: string[];
  description: string;
  options: { long: string; short: string | null; description: string }[];
  children: Node[];
}

function nodeOf(cmd: Command, path: string[]): Node {
  return {
    path,
    description: cmd.description(),
    options: cmd.options.flatMap((o) =>
      o.long === undefined ? [] : [{ long: o.long, short: o.short ?? null, description: o.description }],
    ),
    children: cmd.commands.map((c) => nodeOf(c, [...path, c.name()])),
  };
}

function words(node: Node, globals: Node): string {
  const opts = [...node.options, ...globals.options].flatMap((o) =>
    o.short === null ? [o.long] : [o.long, o.short],
  );
  return [...node.children.map((c) => c.path.at(-1) ?? ''), ...opts, '--help'].join(' ');
}

function flatten(node: Node): Node[] {
  return [node, ...node.children.flatMap(flatten)];
}

function bashScript(root: Node): string {
  const cases = flatten(root)
    .filter((n) => n.path.length > 0)
    .map((n) => `    "${n.path.join(' ')}") words="${words(n, root)}" ;;`)
    .join('\n');
  return `# alice completion for bash (eval "$(alice completion bash)"; zsh: alice completion zsh)
_alice() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" w i
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    case " $(_alice_words "\${path# }") " in *" $w "*) path="$path $w" ;; esac
  done
  COMPREPLY=($(compgen -W "$(_alice_words "\${path# }")" -- "$cur"))
}
_alice_words() {
  local words
  case "$1" in
    "") words="${words(root, { ...root, options: [] })}" ;;
${cases}
  esac
  echo "$words"
}
complete -o default -F _alice alice
`;
}

function zshScript(root: Node): string {
  return `# alice completion for zsh (eval "$(alice completion zsh)"): the bash completion through bashcompinit
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bashScript(root)}`;
}

const quote = (s: string): string => `'${s.replace(/'/g, "\\'")}'`;

function fishScript(root: Node): string {
  const lines = ['# alice completion for fish (alice completion fish | source)', 'complete -c alice -f'];
  for (const n of flatten(root)) {
    const seen =
      n.path.length === 0 ? '__fish_use_subcommand' : `__fish_seen_subcommand_from ${n.path.at(-1)}`;
    for (const c of n.children) {
      const cond =
        n.path.length === 0
          ? seen
          : `${seen}; and not __fish_seen_subcommand_from ${n.children.map((x) => x.path.at(-1)).join(' ')}`;
      lines.push(
        `complete -c alice -n ${quote(cond)} -a ${quote(c.path.at(-1) ?? '')} -d ${quote(c.description)}`,
      );
    }
    for (const o of n.options) {
      const cond = n.path.length === 0 ? '' : ` -n ${quote(seen)}`;
      const short = o.short === null ? '' : ` -s ${o.short.replace(/^-/, '')}`;
      lines.push(
        `complete -c alice${cond} -l ${o.long.replace(/^--/, '')}${short} -d ${quote(o.description)}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

function shellOf(value: string): Shell {
  const s = SHELLS.find((x) => x === value);
  if (s === undefined) throw new InvalidArgumentError(`one of ${SHELLS.join(', ')}`);
  return s;
}

export function registerCompletionCommand(
  program: Command,
  run: (fn: (ctx: CliContext) => Promise<Rendered>) => Promise<void>,
): void {
  program
    .command('completion')
    .argument('<shell>', 'bash, zsh or fish', shellOf)
    .description(
      'print a shell completion script: eval "$(alice completion bash)" in ~/.bashrc, the same with zsh, or `alice completion fish | source`',
    )
    .action((shell: Shell) =>
      run(() => {
        const root = nodeOf(program, []);
        const script =
          shell === 'bash' ? bashScript(root) : shell === 'zsh' ? zshScript(root) : fishScript(root);
        return Promise.resolve({ data: { shell, script }, text: [], raw: script });
      }),
    );
}
