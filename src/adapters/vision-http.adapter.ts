/**
 * Vision model clients over the two protocols that cover the field, with global fetch:
 * - `openai`: POST `<base_url>/chat/completions`, the image as an `image_url` data: URL,
 *   `Authorization: Bearer <key>` (OpenAI, Ollama's /v1, LM Studio, vLLM, OpenRouter);
 * - `anthropic`: POST `<base_url>/messages`, the image as a base64 `image` source,
 *   `x-api-key` and `anthropic-version` headers.
 * Each request has a timeout; 429 and 5xx (and network errors) are retried with exponential backoff,
 * honouring `Retry-After`. Outcomes are values, never exceptions. The key is never put in a result,
 * a log line or an error message (any echo of it is redacted).
 */
import type { VisionAnswer, VisionProvider, VisionRequest } from '../ports.js';

export interface VisionHttpOptions {
  readonly provider: 'openai' | 'anthropic';
  /** e.g. `https://api.openai.com/v1`, `http://127.0.0.1:11434/v1`, `https://api.anthropic.com/v1`. */
  readonly baseUrl: string;
  readonly model: string;
  /** The key itself (read from the environment by the caller); undefined sends no auth header. */
  readonly apiKey: string | undefined;
  /** Per-attempt timeout. Default 120 s (a local model on a CPU is slow). */
  readonly timeoutMs: number;
  /** Attempts after the first on 429/5xx/network errors. Default 4. */
  readonly retries: number;
  /** First backoff delay; doubles per attempt. Default 1 s. */
  readonly backoffMs: number;
  /** Longest wait honoured from Retry-After. Default 60 s. */
  readonly maxRetryAfterMs: number;
  /** Injectable for tests. */
  readonly sleep: (ms: number) => Promise<void>;
}

export const DEFAULT_VISION_HTTP_OPTIONS = Object.freeze({
  timeoutMs: 120_000,
  retries: 4,
  backoffMs: 1000,
  maxRetryAfterMs: 60_000,
  sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
});

export const ANTHROPIC_VERSION = '2023-06-01';

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0;
}

function openaiBody(req: VisionRequest, model: string): Json {
  return {
    model,
    max_tokens: req.maxTokens,
    temperature: 0.2,
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: req.prompt },
          ...req.images.map((jpeg) => ({
            type: 'image_url',
            image_url: { url: `data:image/jpeg;base64,${jpeg.toString('base64')}` },
          })),
        ],
      },
    ],
  };
}

function anthropicBody(req: VisionRequest, model: string): Json {
  return {
    model,
    max_tokens: req.maxTokens,
    messages: [
      {
        role: 'user',
        content: [
          ...req.images.map((jpeg) => ({
            type: 'image',
            source: { type: 'base64', media_type: 'image/jpeg', data: jpeg.toString('base64') },
          })),
          { type: 'text', text: req.prompt },
        ],
      },
    ],
  };
}

/** The reply text and token usage of either protocol's response body. */
export function readReply(provider: 'openai' | 'anthropic', body: unknown): VisionAnswer | undefined {
  if (!isObject(body)) return undefined;
  const usage = isObject(body['usage']) ? body['usage'] : {};
  const parts = (content: unknown): string | undefined => {
    if (typeof content === 'string') return content;
    if (!Array.isArray(content)) return undefined;
    return content.map((c) => (isObject(c) && typeof c['text'] === 'string' ? c['text'] : '')).join('');
  };
  if (provider === 'anthropic') {
    const text = parts(body['content']);
    if (text === undefined) return undefined;
    return {
      text,
      usage: { input_tokens: num(usage['input_tokens']), output_tokens: num(usage['output_tokens']) },
    };
  }
  const choices: unknown = body['choices'];
  const choice: unknown = Array.isArray(choices) ? (choices as unknown[])[0] : undefined;
  const message = isObject(choice) && isObject(choice['message']) ? choice['message'] : undefined;
  const text = message === undefined ? undefined : parts(message['content']);
  if (text === undefined) return undefined;
  return {
    text,
    usage: { input_tokens: num(usage['prompt_tokens']), output_tokens: num(usage['completion_tokens']) },
  };
}

/** Retry-After as milliseconds: delta seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value.trim()) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export class VisionHttpClient implements VisionProvider {
  private readonly o: VisionHttpOptions;

  constructor(
    opts: Pick<VisionHttpOptions, 'provider' | 'baseUrl' | 'model' | 'apiKey'> & Partial<VisionHttpOptions>,
  ) {
    this.o = { ...DEFAULT_VISION_HTTP_OPTIONS, ...opts };
  }

  private redact(text: string): string {
    const key = this.o.apiKey;
    return key === undefined || key === '' ? text : text.split(key).join('[redacted]');
  }

  private request(req: VisionRequest): { url: string; init: RequestInit } {
    const base = this.o.baseUrl.replace(/\/+$/, '');
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const key = this.o.apiKey;
    if (this.o.provider === 'anthropic') {
      headers['anthropic-version'] = ANTHROPIC_VERSION;
      if (key !== undefined && key !== '') headers['x-api-key'] = key;
      return {
        url: `${base}/messages`,
        init: { method: 'POST', headers, body: JSON.stringify(anthropicBody(req, this.o.model)) },
      };
    }
    if (key !== undefined && key !== '') headers['authorization'] = `Bearer ${key}`;
    return {
      url: `${base}/chat/completions`,
      init: { method: 'POST', headers, body: JSON.stringify(openaiBody(req, this.o.model)) },
    };
  }

  async describe(
    req: VisionRequest,
  ): Promise<({ ok: true } & VisionAnswer) | { ok: false; reason: string; status?: number }> {
    const { url, init } = this.request(req);
    let last = 'no attempt made';
    let lastStatus: number | undefined;
    for (let attempt = 0; attempt <= this.o.retries; attempt++) {
      let wait = this.o.backoffMs * 2 ** attempt;
      try {
        const res = await fetch(url, { ...init, signal: AbortSignal.timeout(this.o.timeoutMs) });
        const text = await res.text();
        if (res.ok) {
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            return {
              ok: false,
              reason: 'the provider answered with something that is not JSON',
              status: res.status,
            };
          }
          const reply = readReply(this.o.provider, body);
          return reply === undefined
            ? { ok: false, reason: 'the provider response has no message text', status: res.status }
            : { ok: true, ...reply };
        }
        lastStatus = res.status;
        last = `HTTP ${res.status}: ${this.redact(text.slice(0, 300)).replace(/\s+/g, ' ').trim()}`;
        if (res.status !== 429 && res.status < 500) return { ok: false, reason: last, status: res.status };
        const after = retryAfterMs(res.headers.get('retry-after'));
        if (after !== undefined) wait = Math.min(after, this.o.maxRetryAfterMs);
      } catch (err) {
        const name = err instanceof Error ? err.name : '';
        last =
          name === 'TimeoutError'
            ? `no answer within ${Math.round(this.o.timeoutMs / 1000)} s`
            : this.redact(
                `cannot reach ${this.o.baseUrl}: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`,
              );
        lastStatus = undefined;
      }
      if (attempt < this.o.retries) await this.o.sleep(wait);
    }
    return {
      ok: false,
      reason: `${last} (after ${this.o.retries + 1} attempts)`,
      ...(lastStatus === undefined ? {} : { status: lastStatus }),
    };
  }
}
