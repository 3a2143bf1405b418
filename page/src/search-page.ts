/** The search page: facets to click, sorts, an infinite-scroll grid; the URL holds the whole search. */
import { fail, getJson, h, thumb } from './dom.js';

interface Result {
  content_hash: string;
  file_name: string;
  media_type: string;
}
interface Facets {
  tags: { tag: string; count: number }[];
  media_types: Record<string, number>;
  generators: Record<string, number>;
  models: Record<string, number>;
  formats: Record<string, number>;
  months: Record<string, number>;
}
interface SearchAnswer {
  results: Result[];
  total: number;
  facets?: Facets;
  seed?: string;
  /** Present while the agent builds the index: how far it is. */
  building?: { phase?: string; done?: number; total?: number | null };
}

/** "index is being built: 120 of 400 files (indexing), results may be incomplete" (as the CLI says). */
function buildingText(b: NonNullable<SearchAnswer['building']>): string {
  const of =
    typeof b.done !== 'number'
      ? ''
      : typeof b.total === 'number'
        ? `: ${b.done} of ${b.total} files`
        : `: ${b.done} files`;
  const what = typeof b.phase === 'string' && of !== '' ? ` (${b.phase})` : '';
  return `index is being built${of}${what}, results may be incomplete`;
}

const PAGE = 100;
const SORTS = ['', 'newest', 'oldest', 'name', 'size', 'relevance', 'random'];
/** URL parameters that are lists (facets toggle values in them). */
const LISTS = new Set(['tags', 'formats', 'media_type']);

function toggled(params: URLSearchParams, key: string, value: string): URLSearchParams {
  const next = new URLSearchParams(params);
  if (key === 'month') {
    const on = isOn(params, key, value);
    next.delete('since');
    next.delete('until');
    if (!on) {
      next.set('since', value);
      next.set('until', value);
    }
  } else if (LISTS.has(key)) {
    const values = next.getAll(key);
    next.delete(key);
    const kept = values.filter((v) => v !== value);
    for (const v of kept.length === values.length ? [...values, value] : kept) next.append(key, v);
  } else if (next.get(key) === value) next.delete(key);
  else next.set(key, value);
  return next;
}

function isOn(params: URLSearchParams, key: string, value: string): boolean {
  if (key === 'month') return params.get('since') === value && params.get('until') === value;
  return LISTS.has(key) ? params.getAll(key).includes(value) : params.get(key) === value;
}

export function renderSearch(main: HTMLElement): void {
  const params = new URLSearchParams(location.search);
  const input = document.querySelector<HTMLInputElement>('#q');
  if (input !== null) input.value = params.get('q') ?? '';
  const aside = h('aside');
  const info = h('span', { class: 'count' });
  const notice = h('p', { class: 'note notice', id: 'building-notice', hidden: true });
  const grid = h('div', { class: 'grid', id: 'grid' });
  const sentinel = h('div', { class: 'sentinel' });
  const sort = h(
    'select',
    {
      id: 'sort',
      onchange: (e) => go(params, 'sort', (e.target as HTMLSelectElement).value, true),
    },
    SORTS.map((s) =>
      h('option', { value: s, selected: (params.get('sort') ?? '') === s }, s === '' ? 'default order' : s),
    ),
  );
  main.replaceChildren(
    h(
      'div',
      { class: 'layout' },
      aside,
      h('section', {}, h('div', { class: 'bar' }, info, sort), notice, grid, sentinel),
    ),
  );
  let offset = 0;
  let total = Infinity;
  let loading = false;
  let seed: string | undefined;
  const load = async (): Promise<void> => {
    if (loading || offset >= total) return;
    loading = true;
    const q = new URLSearchParams(params);
    q.set('offset', String(offset));
    q.set('limit', String(PAGE));
    // Facets count over every match: asked alongside the first page, so the grid never waits for them.
    if (offset === 0) void loadFacets(aside, params);
    if (seed !== undefined) q.set('seed', seed);
    try {
      const res = await getJson<SearchAnswer>(`/api/search?${q.toString()}`);
      seed = res.seed;
      total = res.total;
      offset += res.results.length;
      if (res.results.length === 0) total = offset;
      info.textContent = `${res.total} ${res.total === 1 ? 'asset' : 'assets'}`;
      if (offset === res.results.length) {
        notice.hidden = res.building === undefined;
        notice.textContent = res.building === undefined ? '' : buildingText(res.building);
      }
      grid.append(
        ...res.results.map((r) =>
          thumb(r.content_hash, r.file_name, r.media_type === 'video' ? 'video' : undefined),
        ),
      );
      main.dataset['loaded'] = String(offset);
    } catch (err) {
      fail(grid, err);
      total = 0;
    } finally {
      loading = false;
    }
    // Keep loading while the sentinel is still on screen (a tall window, a short first page).
    if (offset < total && sentinel.getBoundingClientRect().top < window.innerHeight + 400) await load();
  };
  new IntersectionObserver(
    (entries) => {
      if (entries.some((e) => e.isIntersecting)) void load();
    },
    { rootMargin: '600px' },
  ).observe(sentinel);
  void load();
}

async function loadFacets(aside: HTMLElement, params: URLSearchParams): Promise<void> {
  const q = new URLSearchParams(params);
  q.set('facets', '1');
  q.set('limit', '0');
  try {
    const res = await getJson<SearchAnswer>(`/api/search?${q.toString()}`);
    if (res.facets !== undefined) renderFacets(aside, params, res.facets);
  } catch {
    // The grid shows the error; facets stay empty.
  }
}

function go(params: URLSearchParams, key: string, value: string, replace = false): void {
  const next = replace ? new URLSearchParams(params) : toggled(params, key, value);
  if (replace) {
    if (value === '') next.delete(key);
    else next.set(key, value);
  }
  const qs = next.toString();
  location.assign(qs === '' ? '/' : `/?${qs}`);
}

function facetList(
  title: string,
  params: URLSearchParams,
  key: string,
  entries: [string, number][],
  label = (v: string) => v,
): HTMLElement[] {
  if (entries.length === 0) return [];
  return [
    h('h3', {}, title),
    ...entries.map(([value, n]) =>
      h(
        'div',
        {
          class: `facet${isOn(params, key, value) ? ' on' : ''}`,
          'data-facet': `${key}=${value}`,
          onclick: () => go(params, key, value),
        },
        h('span', {}, label(value)),
        h('span', { class: 'n' }, String(n)),
      ),
    ),
  ];
}

function renderFacets(aside: HTMLElement, params: URLSearchParams, f: Facets): void {
  const byCategory = new Map<string, [string, number][]>();
  for (const t of f.tags) {
    const cat = t.tag.slice(0, t.tag.indexOf(':'));
    byCategory.set(cat, [...(byCategory.get(cat) ?? []), [t.tag, t.count]]);
  }
  const sorted = (r: Record<string, number>): [string, number][] =>
    Object.entries(r).sort((a, b) => b[1] - a[1]);
  aside.replaceChildren(
    ...[...byCategory.entries()].flatMap(([cat, list]) =>
      facetList(`tags: ${cat}`, params, 'tags', list, (v) => v.slice(cat.length + 1)),
    ),
    ...facetList('media type', params, 'media_type', sorted(f.media_types)),
    ...facetList('generator', params, 'source', sorted(f.generators)),
    ...facetList('model', params, 'model', sorted(f.models)),
    ...facetList('format', params, 'formats', sorted(f.formats)),
    ...facetList(
      'month',
      params,
      'month',
      Object.entries(f.months).sort((a, b) => (a[0] < b[0] ? 1 : -1)),
    ),
  );
}
