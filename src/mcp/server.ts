/**
 * `alice mcp`: the Model Context Protocol server (official SDK) over stdio. Tools describe their
 * inputs with JSON Schema (from zod shapes); every failure comes back as a tool result with
 * `isError` and a message with the error code and hint, never as a crash of the server. This is
 * the only file that imports the MCP SDK's server side.
 */
import type { Readable, Writable } from 'node:stream';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { errorMessage, isAliceError } from '../domain/errors.js';
import { VERSION } from '../version.js';
import type { McpEnv } from './mcp-env.js';
import { TOOLS, type ToolSpec } from './tool-specs.js';
import type { ToolReply } from './tools.js';

/** What an assistant is told about this server when it connects. */
const INSTRUCTIONS =
  'alice keeps a library of AI-generated images and videos. Use search_images to find assets by ' +
  'tags, prompt words, generator, model or date (ask for thumbnails to see them), find_similar for ' +
  'look-alikes, get_asset for everything known about one asset, tag_asset to change its tags, and ' +
  'list_projects / select_for_project to collect assets for a project. Paths must lie inside the ' +
  "library's configured roots; assets are best named by content_hash.";

function bigintSafe(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? Number(v) : v;
}

/** The error as the assistant reads it: code, message, details and the hint, as the CLI prints them. */
export function errorText(err: unknown): string {
  if (!isAliceError(err)) return `error [INTERNAL]: ${errorMessage(err)}`;
  const lines = [`error [${err.code}]: ${err.message}`, ...err.details.map((d) => `  - ${d}`)];
  if (err.hint !== undefined) lines.push(`hint: ${err.hint}`);
  return lines.join('\n');
}

function resultOf(reply: ToolReply): CallToolResult {
  return {
    content: [{ type: 'text', text: JSON.stringify(reply.data, bigintSafe) }, ...(reply.extra ?? [])],
  };
}

async function callTool<S extends z.ZodRawShape>(
  env: McpEnv,
  spec: ToolSpec<S>,
  args: z.infer<z.ZodObject<S>>,
): Promise<CallToolResult> {
  const started = Date.now();
  try {
    const reply = await spec.run(env, args);
    env.log('debug', `${spec.name}: ok in ${Date.now() - started} ms`);
    return resultOf(reply);
  } catch (err) {
    if (isAliceError(err)) env.log('debug', `${spec.name}: ${err.code}: ${err.message}`);
    else
      env.log(
        'error',
        `${spec.name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
    return { isError: true, content: [{ type: 'text', text: errorText(err) }] };
  }
}

function registerSpec(server: McpServer, env: McpEnv, spec: ToolSpec<z.ZodRawShape>): void {
  // Strict: an unknown argument (a typo, a filter this tool does not have) is an error, never
  // silently dropped so that the call answers as if it had not been given.
  const shape = spec.input(env.settings);
  const known = Object.keys(shape).join(', ');
  const inputSchema = z.strictObject(shape, {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? `unknown argument ${iss.keys.map((k) => `"${k}"`).join(', ')}; hint: ${spec.name} takes ${known === '' ? 'no arguments' : known}`
        : undefined,
  });
  server.registerTool(
    spec.name,
    {
      title: spec.title,
      description: spec.description,
      inputSchema,
      annotations: {
        title: spec.title,
        readOnlyHint: !spec.changes,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    // The SDK has validated `args` against the shape before it calls this.
    (args) => callTool(env, spec, args),
  );
}

/** An MCP server with every alice tool registered; connect it to a transport to serve. */
export function createMcpServer(env: McpEnv): McpServer {
  const server = new McpServer({ name: 'alice', version: VERSION }, { instructions: INSTRUCTIONS });
  for (const spec of TOOLS) registerSpec(server, env, spec);
  return server;
}

/**
 * Serves MCP on stdin/stdout until the client closes stdin or `stop` aborts. Nothing else may
 * write to `stdout`: it carries only protocol messages.
 */
export async function serveStdio(
  env: McpEnv,
  opts: { stdin?: Readable; stdout?: Writable; stop?: AbortSignal } = {},
): Promise<void> {
  const stdin = opts.stdin ?? process.stdin;
  const server = createMcpServer(env);
  const closed = new Promise<void>((resolve) => (server.server.onclose = resolve));
  const stop = (): void => void server.close().catch((err: unknown) => env.log('warn', errorMessage(err)));
  stdin.once('end', stop);
  opts.stop?.addEventListener('abort', stop, { once: true });
  try {
    await server.connect(new StdioServerTransport(stdin, opts.stdout ?? process.stdout));
    env.log('debug', 'MCP server ready on stdio');
    await closed;
  } finally {
    stdin.off('end', stop);
    opts.stop?.removeEventListener('abort', stop);
  }
}
