/**
 * What the web layer needs from the rest of alice, as small ports: `app/web-server.ts` wires them
 * (the agent's socket or an in-process container per call, the thumbnail service, the status file),
 * so routes open nothing themselves and work the same inside the agent and in `alice serve`.
 */
import type { GuardPolicy } from './guard.js';

export interface WebRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export type WebResponse =
  | { readonly status: number; readonly headers?: Record<string, string>; readonly body: string | Buffer }
  | {
      readonly status: 200;
      readonly headers?: Record<string, string>;
      readonly file: string;
      readonly size: number;
    };

/** Runs a library operation as a remote caller (paths confined to the roots). */
export type WebInvoke = (
  op: string,
  params: Record<string, unknown>,
) => Promise<{
  result: unknown;
  via: string;
  /** Facts about the answer from the agent, e.g. `building` while it builds the index. */
  meta?: Record<string, unknown> | undefined;
}>;

export type ThumbAnswer =
  { ok: true; file: string; size: number } | { ok: false; reason: string; busy: boolean };

export interface WebEnv {
  readonly invoke: WebInvoke;
  /** A cached (or freshly made) thumbnail of an indexed asset's present copy. */
  readonly thumbnail: (req: {
    hash: string;
    mediaType: string;
    file: string;
    size: 'small' | 'large';
  }) => Promise<ThumbAnswer>;
  /** The agent's status (from its status file) and whether it runs. */
  readonly agentStatus: () => Promise<unknown>;
  /** Size of a file, or null when it is gone. */
  readonly fileSize: (file: string) => Promise<number | null>;
  /** The built page (`dist/page`): file name → bytes, read once at start. */
  readonly page: ReadonlyMap<string, Buffer>;
  readonly policy: GuardPolicy;
  readonly log: (level: 'warn' | 'error', message: string) => void;
}
