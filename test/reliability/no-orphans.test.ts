/**
 * No orphans: when the agent dies by `kill -9` (only its own pid, not its process group, as an
 * OOM kill would), its `exiftool -stay_open` processes and any ffmpeg/ffprobe it was running exit
 * within 5 s. The ffprobe here is a stand-in on PATH that records its pid and hangs, so it is
 * certainly running at the moment of the kill.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killAllAgents, startAgent, waitFor } from '../helpers/agent.js';
import { runAlice } from '../helpers/cli.js';
import { writeImage, writeMp4 } from '../helpers/fixtures.js';
import { cleanupWorkspaces, workspace } from './helpers.js';

afterEach(async () => {
  await killAllAgents();
});
afterAll(() => cleanupWorkspaces());

/** Pids of the exiftool processes started by the agent `agentPid` (named in their environment). */
function exiftoolsOf(agentPid: number): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (!cmd.includes('exiftool')) continue;
      const env = fs.readFileSync(`/proc/${name}/environ`, 'utf8').split('\0');
      if (env.includes(`ALICE_EXIFTOOL_PARENT=${agentPid}`)) out.push(Number(name));
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return out;
}

/** Running (a zombie waiting for init to reap it has exited: it holds no resources, runs nothing). */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

describe('no orphans', { timeout: 120_000 }, () => {
  it.skipIf(process.platform !== 'linux')(
    'kill -9 of the agent: no exiftool or ffmpeg process of it remains after 5 s',
    async () => {
      const ws = workspace(['lib']);
      const [lib] = ws.roots as [string];
      const bin = path.join(ws.dir, 'fake-bin');
      const pids = path.join(ws.dir, 'ffprobe.pids');
      fs.mkdirSync(bin);
      for (const tool of ['ffmpeg', 'ffprobe']) {
        const script = path.join(bin, tool);
        fs.writeFileSync(
          script,
          `#!/bin/sh\nif [ "$1" = "-version" ]; then echo "${tool} version fake"; exit 0; fi\necho $$ >> ${pids}\nexec sleep 600\n`,
        );
        fs.chmodSync(script, 0o755);
      }
      for (let i = 0; i < 3; i++) await writeImage(path.join(lib, `o-${i}.png`), { seed: 300 + i, size: 24 });
      const withFakes = { ...ws, env: { ...ws.env, PATH: `${bin}:${process.env['PATH'] ?? ''}` } };
      const agent = await startAgent(withFakes, { timeoutMs: 90_000 });
      // A tag edit embeds into the file: the agent starts its exiftool.
      const tag = await runAlice(['tag', 'add', path.join(lib, 'o-0.png'), '--tag', 'mood:calm', '--json'], {
        env: withFakes.env,
      });
      expect(tag.code, tag.stdout + tag.stderr).toBe(0);
      const exiftools = await waitFor(
        () => {
          const found = exiftoolsOf(agent.pid);
          return found.length > 0 ? found : undefined;
        },
        {
          timeoutMs: 30_000,
          what: 'an exiftool process of the agent',
        },
      );
      writeMp4(path.join(lib, 'clip.mp4'), 2);
      const hung = await waitFor(() => (fs.existsSync(pids) ? fs.readFileSync(pids, 'utf8').trim() : ''), {
        timeoutMs: 30_000,
        what: 'the agent to run ffprobe on the new video',
      });
      const ffPids = hung.split('\n').map(Number);
      expect(ffPids.every(running)).toBe(true);

      process.kill(agent.pid, 'SIGKILL'); // the agent alone, not its process group
      await agent.exited;
      const children = [...exiftools, ...ffPids];
      await waitFor(() => children.every((p) => !running(p)), {
        timeoutMs: 5_000,
        intervalMs: 100,
        what: `children ${children.join(', ')} of the killed agent to exit`,
      });
    },
  );
});
