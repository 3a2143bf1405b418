/** Tiny DOM and API helpers for the page: element builder, JSON fetch with the CSRF header. */

type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | number | boolean | ((ev: Event) => void) | undefined>;

/** Creates an element; `on*` attributes become listeners, text children become text nodes. */
export function h(tag: string, attrs: Attrs = {}, ...children: (Child | Child[])[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

const csrf = document.querySelector<HTMLMetaElement>('meta[name=csrf]')?.content ?? '';

export class ApiError extends Error {}

async function answer<T>(res: Response): Promise<T> {
  const body = (await res.json()) as T & { error?: { message: string; hint?: string } };
  if (!res.ok) {
    const e = body.error;
    throw new ApiError(
      e === undefined ? `HTTP ${res.status}` : `${e.message}${e.hint ? ` (${e.hint})` : ''}`,
    );
  }
  return body;
}

export async function getJson<T>(url: string): Promise<T> {
  return answer<T>(await fetch(url, { headers: { accept: 'application/json' } }));
}

/** A changing request: always with this session's CSRF token. */
export async function postJson<T>(url: string, body: unknown): Promise<T> {
  return answer<T>(
    await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-alice-csrf': csrf },
      body: JSON.stringify(body),
    }),
  );
}

export function thumb(hash: string, alt: string, badge?: string): HTMLElement {
  return h(
    'a',
    { class: 'cell', href: `/asset/${hash}`, 'data-hash': hash, title: alt },
    h('img', { src: `/thumb/${hash}`, alt, loading: 'lazy', decoding: 'async' }),
    badge === undefined ? null : h('span', { class: 'badge' }, badge),
  );
}

export function fail(where: HTMLElement, err: unknown): void {
  where.replaceChildren(h('p', { class: 'error' }, err instanceof Error ? err.message : String(err)));
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
