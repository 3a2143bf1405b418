/**
 * The exiftool configuration that defines alice's XMP namespace (`XMP-alice:ContentHash`).
 * exiftool loads `.ExifTool_config` from the directory named by `EXIFTOOL_HOME`, so alice writes
 * the file at start into a directory of its own and points the exiftool processes at it.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ALICE_XMP } from '../domain/embedded-metadata.js';

/** The file name exiftool looks for in `EXIFTOOL_HOME`. */
export const EXIFTOOL_CONFIG_NAME = '.ExifTool_config';

/** The environment variable naming the pid exiftool must outlive no longer than a second. */
export const EXIFTOOL_PARENT_ENV = 'ALICE_EXIFTOOL_PARENT';

/**
 * No orphans: `exiftool -stay_open` keeps polling its argument pipe after the end of file, so it
 * would outlive an agent killed with SIGKILL for ever. The config is Perl run inside each exiftool
 * process at start: when alice names its pid, a once-a-second alarm exits as soon as exiftool's
 * parent is another process (the agent died and exiftool was re-parented). The pid comes from the
 * environment, so an agent that died before exiftool got this far is noticed too.
 */
const PARENT_WATCHDOG = [
  `if (($ENV{${EXIFTOOL_PARENT_ENV}} // '') =~ /^(\\d+)$/) {`,
  '    my $parent = $1;',
  '    require POSIX;',
  // SA_RESTART: a plain %SIG alarm would interrupt exiftool's blocking read of its argument pipe,
  // which it takes for a broken pipe and leaves -stay_open. Deferred ("safe") delivery runs the
  // check between Perl ops: once the agent is gone the pipe is at EOF and exiftool polls it, so the
  // check runs within a second.
  '    my $act = POSIX::SigAction->new(sub { exit 1 if getppid() != $parent; alarm 1; },',
  '        POSIX::SigSet->new, &POSIX::SA_RESTART);',
  '    $act->safe(1);',
  '    POSIX::sigaction(&POSIX::SIGALRM, $act);',
  '    alarm 1;',
  '}',
];

/**
 * Perl source for exiftool's `%Image::ExifTool::UserDefined`: a new XMP namespace table with one
 * string tag. The values come from constants, never from user input.
 */
export function exiftoolConfigText(): string {
  const table = `Image::ExifTool::UserDefined::${ALICE_XMP.prefix}`;
  return [
    '# Written by alice at start; changes are overwritten. Defines the XMP namespace alice uses',
    '# to record an asset content hash in the files it embeds tags into.',
    '%Image::ExifTool::UserDefined = (',
    "    'Image::ExifTool::XMP::Main' => {",
    `        ${ALICE_XMP.prefix} => { SubDirectory => { TagTable => '${table}' } },`,
    '    },',
    ');',
    `%${table} = (`,
    `    GROUPS    => { 0 => 'XMP', 1 => '${ALICE_XMP.group}', 2 => 'Image' },`,
    `    NAMESPACE => { '${ALICE_XMP.prefix}' => '${ALICE_XMP.uri}' },`,
    "    WRITABLE  => 'string',",
    `    ${ALICE_XMP.hashTag} => { },`,
    ');',
    ...PARENT_WATCHDOG,
    '1;  # end',
    '',
  ].join('\n');
}

/** Where the config lives and how to remove it again. */
export interface ExiftoolHome {
  /** The directory to pass as `EXIFTOOL_HOME`. */
  readonly dir: string;
  /** Removes the directory when alice created it as a temporary one; otherwise does nothing. */
  readonly dispose: () => Promise<void>;
}

/**
 * Writes the config into `<stateDir>/exiftool/` when a state directory is given (kept between
 * runs), else into a fresh temporary directory that `dispose()` removes.
 */
export async function prepareExiftoolHome(stateDir?: string): Promise<ExiftoolHome> {
  const temporary = stateDir === undefined;
  const dir = temporary
    ? await mkdtemp(path.join(os.tmpdir(), 'alice-exiftool-'))
    : path.join(stateDir, 'exiftool');
  if (!temporary) await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(path.join(dir, EXIFTOOL_CONFIG_NAME), exiftoolConfigText(), { mode: 0o600 });
  return {
    dir,
    dispose: async () => {
      if (temporary) await rm(dir, { recursive: true, force: true });
    },
  };
}
