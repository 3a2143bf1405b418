/**
 * Loopback stub vision servers for the understanding tests, one per protocol: they record every
 * request (path, headers, parsed body) and answer from a queue of scripted replies.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StubRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export type StubReply =
  | { kind: 'answer'; text: string; input: number; output: number }
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string };

export interface VisionStub {
  readonly baseUrl: string;
  readonly requests: StubRequest[];
  /** Replies used in order; when empty, `fallback` answers. */
  readonly queue: StubReply[];
  fallback: StubReply;
  /** Holds every answer (requests are still recorded) until the returned function is called. */
  hold(): () => void;
  close(): Promise<void>;
}

function answerBody(
  protocol: 'openai' | 'anthropic',
  r: { text: string; input: number; output: number },
): unknown {
  if (protocol === 'anthropic') {
    return {
      id: 'msg_stub',
      type: 'message',
      role: 'assistant',
      content: [{ type: 'text', text: r.text }],
      stop_reason: 'end_turn',
      usage: { input_tokens: r.input, output_tokens: r.output },
    };
  }
  return {
    id: 'chatcmpl-stub',
    object: 'chat.completion',
    choices: [{ index: 0, message: { role: 'assistant', content: r.text }, finish_reason: 'stop' }],
    usage: { prompt_tokens: r.input, completion_tokens: r.output, total_tokens: r.input + r.output },
  };
}

export async function startVisionStub(
  protocol: 'openai' | 'anthropic',
  fallback: StubReply,
): Promise<VisionStub> {
  const requests: StubRequest[] = [];
  let gate: Promise<void> = Promise.resolve();
  const queue: StubReply[] = [];
  const stub = { requests, queue, fallback };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        // recorded as an empty body; the test's checks on it then fail
      }
      requests.push({ path: req.url ?? '', headers: req.headers, body });
      void gate.then(() => respond());
    });
    const respond = (): void => {
      const reply = queue.shift() ?? stub.fallback;
      if (reply.kind === 'status') {
        res.writeHead(reply.status, { 'content-type': 'application/json', ...(reply.headers ?? {}) });
        res.end(reply.body ?? '{"error":{"message":"stub"}}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answerBody(protocol, reply)));
    };
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    queue,
    get fallback() {
      return stub.fallback;
    },
    set fallback(r: StubReply) {
      stub.fallback = r;
    },
    hold: () => {
      let release: () => void = () => undefined;
      gate = new Promise<void>((resolve) => (release = resolve));
      return release;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
