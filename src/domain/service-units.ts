/** Service definitions that run `alice watch` at login: a systemd user unit and a launchd agent. Pure. */

export interface ServiceSpec {
  /** Absolute path of the node binary. */
  node: string;
  /** Absolute path of alice's CLI entry (dist/cli/main.js). */
  cli: string;
  home: string;
  /** Settings file to pass as ALICE_CONFIG, when one was used. */
  configFile: string | null;
  logDir: string;
  path: string;
}

/**
 * A temporary or project-local folder must never end up in a service definition: npx runs a
 * package from a cache folder (`~/.npm/_npx/<hash>/`) that npm may delete at any time.
 */
const TEMPORARY_DIR_RE =
  /(^|\/)(_npx|_cacache|\.npm|node_modules)(\/|$)|^\/tmp\/|^\/var\/folders\/|^\/private\/var\/folders\//;

/** True when an installed entry point lies in npx's cache or a temp folder (it may vanish). */
export function isTemporaryInstall(file: string): boolean {
  return /(^|\/)(_npx|_cacache)(\/|$)|^\/tmp\/|^\/var\/folders\/|^\/private\/var\/folders\//.test(file);
}

/** True when `dir` lies in npx's cache, a node_modules/.bin, or a temp folder. */
export function isTemporaryDir(dir: string): boolean {
  return TEMPORARY_DIR_RE.test(dir);
}

/**
 * The PATH a service runs with: node's own folder first, then the user's absolute PATH entries
 * that are not temporary (npx cache, node_modules/.bin, temp folders), then the system folders,
 * each once. Tools alice runs (perl for exiftool, ffprobe) are looked up there.
 */
export function servicePath(userPath: string, nodeBin: string, platform: string): string {
  const nodeDir = nodeBin.slice(0, Math.max(1, nodeBin.lastIndexOf('/')));
  const system =
    platform === 'darwin'
      ? ['/opt/homebrew/bin', '/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin']
      : ['/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin'];
  const user = userPath
    .split(':')
    .map((d) => d.replace(/\/+$/, '') || '/')
    .filter((d) => d.startsWith('/') && !isTemporaryDir(d));
  const out: string[] = [];
  for (const d of [...(isTemporaryDir(nodeDir) ? [] : [nodeDir]), ...user, ...system])
    if (!out.includes(d)) out.push(d);
  return out.join(':');
}

export const LAUNCHD_LABEL = 'com.alice.agent';
export const SYSTEMD_UNIT = 'alice.service';

function systemdQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@+-]+$/.test(s) ? s : `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function systemdUnit(spec: ServiceSpec): string {
  const env = [`ALICE_HOME=${spec.home}`, `PATH=${spec.path}`];
  if (spec.configFile !== null) env.push(`ALICE_CONFIG=${spec.configFile}`);
  return [
    '[Unit]',
    'Description=alice agent: keeps the AI media library indexed (alice watch)',
    'After=default.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${systemdQuote(spec.node)} ${systemdQuote(spec.cli)} watch`,
    ...env.map((e) => `Environment=${systemdQuote(e)}`),
    'Restart=on-failure',
    'RestartSec=5',
    'KillSignal=SIGTERM',
    'TimeoutStopSec=15',
    'UMask=0077',
    'Nice=5',
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n');
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function launchdPlist(spec: ServiceSpec): string {
  const env: [string, string][] = [
    ['ALICE_HOME', spec.home],
    ['PATH', spec.path],
  ];
  if (spec.configFile !== null) env.push(['ALICE_CONFIG', spec.configFile]);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    '<dict>',
    '  <key>Label</key>',
    `  <string>${LAUNCHD_LABEL}</string>`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    `    <string>${xml(spec.node)}</string>`,
    `    <string>${xml(spec.cli)}</string>`,
    '    <string>watch</string>',
    '  </array>',
    '  <key>EnvironmentVariables</key>',
    '  <dict>',
    ...env.flatMap(([k, v]) => [`    <key>${k}</key>`, `    <string>${xml(v)}</string>`]),
    '  </dict>',
    '  <key>RunAtLoad</key>',
    '  <true/>',
    '  <key>KeepAlive</key>',
    '  <dict>',
    '    <key>SuccessfulExit</key>',
    '    <false/>',
    '  </dict>',
    '  <key>ThrottleInterval</key>',
    '  <integer>10</integer>',
    '  <key>ProcessType</key>',
    '  <string>Background</string>',
    '  <key>ExitTimeOut</key>',
    '  <integer>15</integer>',
    '  <key>StandardOutPath</key>',
    `  <string>${xml(`${spec.logDir}/launchd.out.log`)}</string>`,
    '  <key>StandardErrorPath</key>',
    `  <string>${xml(`${spec.logDir}/launchd.err.log`)}</string>`,
    '</dict>',
    '</plist>',
    '',
  ].join('\n');
}
