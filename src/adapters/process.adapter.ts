/** Runs a system command (systemctl, launchctl) with an argument list: no shell, bounded output. */
import { execFile } from 'node:child_process';

export interface CommandResult {
  ok: boolean;
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCommand(cmd: string, args: readonly string[], timeoutMs = 20_000): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(cmd, [...args], { timeout: timeoutMs, maxBuffer: 1024 * 1024 }, (err, stdout, stderr) => {
      const code =
        err === null
          ? 0
          : typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : null;
      resolve({
        ok: err === null,
        code,
        stdout: String(stdout),
        stderr: err !== null && stderr === '' ? err.message : String(stderr),
      });
    });
  });
}
