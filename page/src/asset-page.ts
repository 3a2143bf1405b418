/** The asset page: large preview (video plays), prompt, generation settings, tags edited in place, similar row. */
import { bytes, fail, getJson, h, postJson, thumb } from './dom.js';

interface TagRow {
  category: string;
  value: string;
  source: string | null;
}
interface AssetRecord {
  content_hash: string;
  index: {
    file_name: string;
    file_size: number;
    media_type: string;
    format: string | null;
    width: number | null;
    height: number | null;
    duration: number | null;
    prompt: string | null;
    negative_prompt: string | null;
    description: string | null;
    source: string | null;
    model: string | null;
    created_at: string | null;
    first_seen: string | null;
    status: string;
  } | null;
  locations: { path: string; present: boolean }[];
  tags: TagRow[];
  sidecar: { generation?: Record<string, unknown> | null } | null;
}
interface Similar {
  results: { content_hash: string; file_name: string; distance: number }[];
}
interface Project {
  name: string;
}

function settingsOf(gen: Record<string, unknown> | null | undefined): [string, string][] {
  if (gen === null || gen === undefined) return [];
  return Object.entries(gen)
    .filter(
      ([k, v]) =>
        !['raw', 'raw_truncated', 'prompt', 'negative_prompt'].includes(k) && v !== null && v !== undefined,
    )
    .map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]);
}

function tagsBlock(rec: AssetRecord, reload: () => void): HTMLElement {
  const byCat = new Map<string, TagRow[]>();
  for (const t of rec.tags) byCat.set(t.category, [...(byCat.get(t.category) ?? []), t]);
  const status = h('span', { class: 'note', id: 'tag-status' });
  const change = async (body: { add?: string[]; remove?: string[] }): Promise<void> => {
    status.textContent = 'saving…';
    try {
      await postJson('/api/tags', { hash: rec.content_hash, ...body });
      reload();
    } catch (err) {
      status.textContent = err instanceof Error ? err.message : String(err);
    }
  };
  const input = h('input', {
    type: 'text',
    id: 'tag-input',
    placeholder: 'category:value',
  }) as HTMLInputElement;
  return h(
    'section',
    { id: 'tags' },
    h('h3', {}, 'Tags'),
    [...byCat.entries()].map(([cat, list]) =>
      h(
        'div',
        { class: 'tag-cat' },
        h('span', { class: 'note' }, `${cat}: `),
        list.map((t) =>
          h(
            'span',
            { class: 'chip', 'data-tag': `${t.category}:${t.value}` },
            t.value,
            h(
              'button',
              { title: 'remove', onclick: () => void change({ remove: [`${t.category}:${t.value}`] }) },
              '×',
            ),
          ),
        ),
      ),
    ),
    h(
      'form',
      {
        id: 'tag-form',
        onsubmit: (e) => {
          e.preventDefault();
          const v = input.value.trim();
          if (v !== '') void change({ add: [v] });
        },
      },
      input,
      ' ',
      h('button', { type: 'submit' }, 'Add tag'),
      ' ',
      status,
    ),
  );
}

async function projectBlock(hash: string): Promise<HTMLElement> {
  const projects = await getJson<Project[]>('/api/projects').catch(() => [] as Project[]);
  const out = h('span', { class: 'note' });
  if (projects.length === 0)
    return h(
      'section',
      {},
      h('h3', {}, 'Project'),
      h('p', { class: 'note' }, 'no projects yet (`alice project create NAME`)'),
    );
  const select = h(
    'select',
    { id: 'project-name' },
    projects.map((p) => h('option', { value: p.name }, p.name)),
  ) as HTMLSelectElement;
  const why = h('input', {
    type: 'text',
    id: 'project-why',
    placeholder: 'why this one',
  }) as HTMLInputElement;
  return h(
    'section',
    {},
    h('h3', {}, 'Select into a project'),
    h(
      'form',
      {
        onsubmit: (e) => {
          e.preventDefault();
          postJson('/api/project/select', { name: select.value, hashes: [hash], why: why.value })
            .then(() => (out.textContent = `selected into ${select.value}`))
            .catch((err: unknown) => (out.textContent = err instanceof Error ? err.message : String(err)));
        },
      },
      select,
      ' ',
      why,
      ' ',
      h('button', { type: 'submit' }, 'Select'),
      ' ',
      out,
    ),
  );
}

export async function renderAsset(main: HTMLElement, hash: string): Promise<void> {
  let rec: AssetRecord;
  try {
    rec = await getJson<AssetRecord>(`/api/asset/${hash}`);
  } catch (err) {
    fail(main, err);
    return;
  }
  const a = rec.index;
  const reload = (): void => void renderAsset(main, hash);
  const preview =
    a?.media_type === 'video'
      ? h('video', {
          src: `/file/${hash}`,
          controls: true,
          preload: 'metadata',
          poster: `/thumb/${hash}?s=large`,
        })
      : h('img', { src: `/thumb/${hash}?s=large`, alt: a?.file_name ?? hash });
  const gen = rec.sidecar?.generation;
  const facts: [string, string | null | undefined][] = [
    ['file', a?.file_name],
    ['size', a === null ? null : `${a.width ?? '?'}×${a.height ?? '?'}, ${bytes(a.file_size)}`],
    ['format', a?.format],
    ['duration', a?.duration === null || a?.duration === undefined ? null : `${a.duration.toFixed(1)} s`],
    ['generator', a?.source],
    ['model', a?.model],
    ['made', a?.created_at],
    ['first seen', a?.first_seen],
    ['status', a?.status],
    ['hash', hash],
  ];
  const similar = h('div', { class: 'row', id: 'similar' }, h('span', { class: 'note' }, 'looking…'));
  main.replaceChildren(
    h(
      'div',
      { class: 'asset', 'data-hash': hash },
      h(
        'div',
        { class: 'preview' },
        preview,
        h('p', {}, h('a', { href: `/file/${hash}` }, 'open the original')),
      ),
      h(
        'div',
        {},
        h('h2', {}, a?.file_name ?? hash),
        h('h3', {}, 'Prompt'),
        h('div', { class: 'prompt', id: 'prompt' }, a?.prompt ?? '(none)'),
        a?.negative_prompt
          ? [
              h('h3', {}, 'Negative prompt'),
              h('div', { class: 'prompt', id: 'negative-prompt' }, a.negative_prompt),
            ]
          : null,
        h('h3', {}, 'Generation settings'),
        h(
          'dl',
          { id: 'generation' },
          settingsOf(gen).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
        ),
        tagsBlock(rec, reload),
        h('h3', {}, 'Description'),
        h('p', { id: 'description' }, a?.description ?? '(none)'),
        h('h3', {}, 'Details'),
        h(
          'dl',
          {},
          facts
            .filter(([, v]) => v !== null && v !== undefined)
            .flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v ?? '')]),
        ),
        h('h3', {}, 'Locations'),
        h(
          'ul',
          { id: 'locations' },
          rec.locations.map((l) =>
            h('li', { class: l.present ? '' : 'note' }, `${l.path}${l.present ? '' : ' (missing)'}`),
          ),
        ),
        await projectBlock(hash),
      ),
    ),
    h('h3', {}, 'Similar'),
    similar,
  );
  getJson<Similar>(`/api/similar/${hash}?limit=24`)
    .then((s) =>
      similar.replaceChildren(
        ...(s.results.length === 0
          ? [h('span', { class: 'note' }, 'nothing similar')]
          : s.results.map((r) => thumb(r.content_hash, r.file_name, `d ${r.distance}`))),
      ),
    )
    .catch((err: unknown) =>
      similar.replaceChildren(h('span', { class: 'note' }, err instanceof Error ? err.message : String(err))),
    );
}
