import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { launchdPlist, systemdUnit, type ServiceSpec } from '../../src/domain/service-units.js';
import { installService, uninstallService } from '../../src/services/os-service/service-install.service.js';

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
