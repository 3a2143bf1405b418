import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  isTemporaryInstall,
  launchdPlist,
  servicePath,
  systemdUnit,
  type ServiceSpec,
} from '../../src/domain/service-units.js';
import {
  controlService,
  installService,
  serviceLogs,
  serviceStatus,
  uninstallService,
  type ServiceDeps,
} from '../../src/services/os-service/service-install.service.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'alice-service-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const spec: ServiceSpec = {
  node: process.execPath,
  cli: path.resolve('dist/cli/main.js'),
  home: path.join(tmp, 'home with space'),
  configFile: path.join(tmp, 'settings.yaml'),
  logDir: path.join(tmp, 'logs'),
  path: '/usr/local/bin:/usr/bin:/bin',
};

const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

function verifyUnit(file: string): { status: number | null; stderr: string } {
  const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

function parsePlist(file: string): Record<string, unknown> {
  const out = execFileSync(
    'python3',
    ['-c', 'import plistlib,json,sys; print(json.dumps(plistlib.load(open(sys.argv[1],"rb"))))', file],
    { encoding: 'utf8' },
  );
  return JSON.parse(out) as Record<string, unknown>;
}

describe('service definitions', () => {
  it.skipIf(!hasSystemdAnalyze)(
    'the shipped systemd unit passes systemd-analyze verify and runs `alice watch`',
    () => {
      const r = verifyUnit('systemd/alice.service');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(fs.readFileSync('systemd/alice.service', 'utf8')).toMatch(
        /^ExecStart=\/usr\/bin\/env alice watch$/m,
      );
    },
  );

  it.skipIf(!hasSystemdAnalyze)(
    'a generated unit with real paths (and spaces) passes systemd-analyze verify',
    () => {
      const file = path.join(tmp, 'alice.service');
      fs.writeFileSync(file, systemdUnit(spec));
      const r = verifyUnit(file);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const text = fs.readFileSync(file, 'utf8');
      expect(text).toContain(`ExecStart=${process.execPath} ${spec.cli} watch`);
      expect(text).toContain(`Environment="ALICE_HOME=${spec.home}"`);
      expect(text).toContain('Restart=on-failure');
    },
  );

  it.skipIf(!hasSystemdAnalyze)('systemd-analyze rejects a broken unit (the check can fail)', () => {
    const file = path.join(tmp, 'broken.service');
    fs.writeFileSync(file, systemdUnit({ ...spec, node: '/nonexistent/node' }));
    expect(verifyUnit(file).status).not.toBe(0);
  });

  it('the shipped and the generated plists parse as property lists and run `alice watch`', () => {
    const shipped = parsePlist('launchd/com.alice.agent.plist');
    expect(shipped['Label']).toBe('com.alice.agent');
    expect(shipped['ProgramArguments']).toEqual(['/usr/bin/env', 'alice', 'watch']);
    expect(shipped['KeepAlive']).toEqual({ SuccessfulExit: false });
    const file = path.join(tmp, 'agent.plist');
    fs.writeFileSync(file, launchdPlist({ ...spec, home: `${spec.home} & <more>` }));
    const generated = parsePlist(file);
    expect(generated['ProgramArguments']).toEqual([process.execPath, spec.cli, 'watch']);
    expect((generated['EnvironmentVariables'] as Record<string, string>)['ALICE_HOME']).toBe(
      `${spec.home} & <more>`,
    );
  });
});

describe('alice service install/uninstall', () => {
  it('writes the unit under the user config and runs systemctl --user, then removes it', async () => {
    const calls: string[] = [];
    const deps = {
      platform: 'linux' as const,
      homeDir: path.join(tmp, 'user'),
      uid: 1000,
      run: (cmd: string, args: readonly string[]) => {
        calls.push([cmd, ...args].join(' '));
        return Promise.resolve({ ok: true, code: 0, stdout: '', stderr: '' });
      },
    };
    const r = await installService(deps, spec, false);
    expect(r.file).toBe(path.join(tmp, 'user', '.config', 'systemd', 'user', 'alice.service'));
    expect(fs.readFileSync(r.file, 'utf8')).toBe(systemdUnit(spec));
    expect(calls).toEqual(['systemctl --user daemon-reload', 'systemctl --user enable --now alice.service']);
    const u = await uninstallService(deps);
    expect(u.removed).toBe(true);
    expect(fs.existsSync(r.file)).toBe(false);
  });

  it('says how to start it when no user systemd answers', async () => {
    const deps = {
      platform: 'linux' as const,
      homeDir: path.join(tmp, 'user2'),
      uid: 1000,
      run: () => Promise.resolve({ ok: false, code: 1, stdout: '', stderr: 'Failed to connect to bus' }),
    };
    const r = await installService(deps, spec, false);
    expect(r.written).toBe(true);
    expect(r.hint).toContain('systemctl --user');
  });

  it('on macOS bootstraps the LaunchAgent into gui/<uid>', async () => {
    const calls: string[] = [];
    const deps = {
      platform: 'darwin' as const,
      homeDir: path.join(tmp, 'mac'),
      uid: 501,
      run: (cmd: string, args: readonly string[]) => {
        calls.push([cmd, ...args].join(' '));
        return Promise.resolve({ ok: true, code: 0, stdout: '', stderr: '' });
      },
    };
    const r = await installService(deps, spec, false);
    expect(r.file).toBe(path.join(tmp, 'mac', 'Library', 'LaunchAgents', 'com.alice.agent.plist'));
    expect(calls).toContain(`launchctl bootstrap gui/501 ${r.file}`);
  });

  it('--dry-run writes nothing', async () => {
    const deps = {
      platform: 'linux' as const,
      homeDir: path.join(tmp, 'dry'),
      uid: 1,
      run: () => Promise.reject(new Error('must not run')),
    };
    const r = await installService(deps, spec, true);
    expect(r.written).toBe(false);
    expect(fs.existsSync(path.join(tmp, 'dry'))).toBe(false);
    expect(r.definition).toContain('watch');
  });
});

describe('the service PATH and entry point', () => {
  const npxPath = [
    '/home/u/.npm/_npx/1a2b3c/node_modules/.bin',
    '/home/u/project/node_modules/.bin',
    '/home/u/.local/bin',
    'relative/bin',
    '/tmp/xyz',
    '/usr/bin',
    '/usr/bin/',
  ].join(':');

  it('drops npx cache, node_modules/.bin, relative and temp folders; node first, system folders after', () => {
    const p = servicePath(npxPath, '/opt/node-20/bin/node', 'linux');
    const parts = p.split(':');
    expect(parts[0]).toBe('/opt/node-20/bin');
    expect(p).not.toMatch(/_npx|node_modules|relative|\/tmp\//);
    expect(parts).toContain('/home/u/.local/bin');
    expect(parts).toContain('/usr/bin');
    expect(parts.filter((d) => d === '/usr/bin')).toHaveLength(1);
    expect(parts).toContain('/bin');
    expect(servicePath('', '/usr/local/bin/node', 'darwin').split(':')).toContain('/opt/homebrew/bin');
  });

  it.skipIf(!hasSystemdAnalyze)(
    'a unit generated from an npx PATH has a clean PATH, an absolute node, and passes systemd-analyze verify',
    () => {
      const file = path.join(tmp, 'npx.service');
      fs.writeFileSync(file, systemdUnit({ ...spec, path: servicePath(npxPath, process.execPath, 'linux') }));
      const r = verifyUnit(file);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const env = fs.readFileSync(file, 'utf8').match(/^Environment="?PATH=([^"\n]*)"?$/m)?.[1] ?? '';
      expect(env).not.toContain('_npx');
      expect(env.split(':')[0]).toBe(path.dirname(process.execPath));
      expect(fs.readFileSync(file, 'utf8')).toMatch(new RegExp(`^ExecStart=${process.execPath} `, 'm'));
    },
  );

  it('recognises an entry point run from npx or a temp folder, not a global install', () => {
    expect(isTemporaryInstall('/home/u/.npm/_npx/1a2b/node_modules/alice/dist/cli/main.js')).toBe(true);
    expect(isTemporaryInstall('/tmp/alice/dist/cli/main.js')).toBe(true);
    expect(isTemporaryInstall('/usr/local/lib/node_modules/alice/dist/cli/main.js')).toBe(false);
    expect(isTemporaryInstall('/home/u/src/alice/dist/cli/main.js')).toBe(false);
  });

  it('`alice service install --dry-run` writes a unit with a clean PATH even when run with an npx PATH', async () => {
    const { runAlice } = await import('../helpers/cli.js');
    const home = path.join(tmp, 'cli-home');
    const r = await runAlice(['service', 'install', '--dry-run', '--json'], {
      env: {
        HOME: home,
        ALICE_HOME: path.join(home, '.alice'),
        PATH: `${npxPath}:${process.env['PATH'] ?? ''}`,
      },
    });
    expect(r.code, r.stderr).toBe(0);
    const def = r.json<{ definition: string }>().definition;
    expect(def).not.toContain('_npx');
    expect(def).not.toContain('node_modules/.bin');
    expect(def).toContain(fs.realpathSync(process.execPath));
  });
});

/** Service deps whose commands answer from a table: `cmd args…` → result. */
function fakeDeps(
  platform: 'linux' | 'darwin',
  homeDir: string,
  answers: Record<string, { ok: boolean; code: number | null; stdout: string; stderr: string }>,
  calls: string[] = [],
): ServiceDeps {
  return {
    platform,
    homeDir,
    uid: 501,
    run: (cmd, args) => {
      const line = [cmd, ...args].join(' ');
      calls.push(line);
      return Promise.resolve(answers[line] ?? { ok: true, code: 0, stdout: '', stderr: '' });
    },
  };
}

describe('alice service start/stop/restart/status/logs', () => {
  const isActive = 'systemctl --user is-active alice.service';

  it('status: running, not running (exit 3) and cannot tell (exit 2) from what systemctl says', async () => {
    const home = path.join(tmp, 'st');
    const active = await serviceStatus(
      fakeDeps('linux', home, { [isActive]: { ok: true, code: 0, stdout: 'active\n', stderr: '' } }),
    );
    expect(active.state).toBe('running');
    const inactive = await serviceStatus(
      fakeDeps('linux', home, { [isActive]: { ok: false, code: 3, stdout: 'inactive\n', stderr: '' } }),
    );
    expect(inactive.state).toBe('stopped');
    // Installed, but no user bus answered: it cannot tell.
    await installService(fakeDeps('linux', home, {}), spec, false);
    const noBus = await serviceStatus(
      fakeDeps('linux', home, {
        [isActive]: { ok: false, code: 1, stdout: '', stderr: 'Failed to connect to bus: No medium found' },
      }),
    );
    expect(noBus.state).toBe('unknown');
    expect(noBus.hint).toContain('systemctl --user');
    const mac = path.join(tmp, 'st-mac');
    const print = 'launchctl print gui/501/com.alice.agent';
    expect(
      (
        await serviceStatus(
          fakeDeps('darwin', mac, {
            [print]: { ok: true, code: 0, stdout: '\tstate = running\n', stderr: '' },
          }),
        )
      ).state,
    ).toBe('running');
    expect(
      (
        await serviceStatus(
          fakeDeps('darwin', mac, {
            [print]: { ok: false, code: 113, stdout: '', stderr: 'Could not find service' },
          }),
        )
      ).state,
    ).toBe('stopped');
  });

  it('start, stop and restart drive systemctl --user and launchctl; not installed is an error with a hint', async () => {
    const home = path.join(tmp, 'ctl');
    await expect(controlService(fakeDeps('linux', home, {}), 'start')).rejects.toThrow(/not installed/);
    await installService(fakeDeps('linux', home, {}), spec, false);
    const calls: string[] = [];
    for (const a of ['start', 'stop', 'restart'] as const)
      await controlService(fakeDeps('linux', home, {}, calls), a);
    expect(calls).toEqual([
      'systemctl --user start alice.service',
      'systemctl --user stop alice.service',
      'systemctl --user restart alice.service',
    ]);
    const mac = path.join(tmp, 'ctl-mac');
    await installService(fakeDeps('darwin', mac, {}), spec, false);
    const macCalls: string[] = [];
    await controlService(fakeDeps('darwin', mac, {}, macCalls), 'stop');
    await controlService(fakeDeps('darwin', mac, {}, macCalls), 'restart');
    expect(macCalls).toContain('launchctl kill SIGTERM gui/501/com.alice.agent');
    expect(macCalls).toContain('launchctl kickstart -k gui/501/com.alice.agent');
    const failed = await controlService(
      fakeDeps('linux', home, {
        'systemctl --user start alice.service': {
          ok: false,
          code: 1,
          stdout: '',
          stderr: 'Failed to connect to bus',
        },
      }),
      'start',
    );
    expect(failed.hint).toContain('alice service logs');
  });

  it('the commands exist: status exits 3 when not installed, start says how to install', async () => {
    const { runAlice } = await import('../helpers/cli.js');
    const home = path.join(tmp, 'cli-status');
    const env = { HOME: home, ALICE_HOME: path.join(home, '.alice') };
    const st = await runAlice(['service', 'status'], { env });
    expect(st.code, st.stderr).toBe(3);
    expect(st.stdout).toContain('not installed');
    const start = await runAlice(['service', 'start'], { env });
    expect(start.code).toBe(2);
    expect(start.stderr).toContain('alice service install');
    const help = await runAlice(['service', '--help'], { env });
    for (const c of ['install', 'uninstall', 'start', 'stop', 'restart', 'status', 'logs'])
      expect(help.stdout).toMatch(new RegExp(`^\\s+${c}\\b`, 'm'));
  });

  it('logs: the last lines of the newest log file', async () => {
    const dir = path.join(tmp, 'logs-dir');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'alice-old.log'), 'old\n');
    const older = new Date(Date.now() - 60_000);
    fs.utimesSync(path.join(dir, 'alice-old.log'), older, older);
    fs.writeFileSync(
      path.join(dir, 'alice-new.log'),
      Array.from({ length: 10 }, (_, i) => `line ${i}`).join('\n') + '\n',
    );
    const r = await serviceLogs(dir, 3);
    expect(r.file).toBe(path.join(dir, 'alice-new.log'));
    expect(r.lines).toEqual(['line 7', 'line 8', 'line 9']);
    expect(await serviceLogs(path.join(tmp, 'none'), 3)).toEqual({ file: null, lines: [] });
  });
});
