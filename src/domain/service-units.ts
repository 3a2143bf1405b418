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
