/** Duplicate groups side by side: the keeper marked with its reason, "move the others to the trash", undo. */
import { bytes, fail, getJson, h, postJson, thumb } from './dom.js';

interface ExactGroup {
  content_hash: string;
  paths: string[];
  keeper: string;
  reason: string;
  file_size: number;
}
interface NearMember {
  content_hash: string;
  path: string | null;
  width: number | null;
  height: number | null;
  file_size: number;
  distance: number;
}
interface NearGroup {
  keeper: string;
  reason: string;
  members: NearMember[];
}
interface Dupes {
  exact: ExactGroup[];
  near: NearGroup[];
}
interface Moved {
  batch: string | null;
  moved: { from: string; to: string }[];
  skipped: { path: string; reason: string }[];
}

function trashButton(paths: string[], out: HTMLElement, reload: () => void): HTMLElement {
  const button = h(
    'button',
    { class: 'primary trash' },
    `Move the others to the trash (${paths.length})`,
  ) as HTMLButtonElement;
  button.addEventListener('click', () => {
    button.disabled = true;
    postJson<Moved>('/api/trash', { paths })
      .then((r) => {
        const undo = h('button', { class: 'undo' }, 'Undo');
        undo.addEventListener('click', () => {
          postJson('/api/trash/undo', { batch: r.batch })
            .then(reload)
            .catch((err: unknown) => (out.textContent = String(err)));
        });
        out.replaceChildren(
          `moved ${r.moved.length} to the trash`,
          ...r.skipped.map((s) => h('div', { class: 'note' }, `kept ${s.path}: ${s.reason}`)),
          ' ',
          r.batch === null ? '' : undo,
        );
      })
      .catch((err: unknown) => {
        out.textContent = err instanceof Error ? err.message : String(err);
        button.disabled = false;
      });
  });
  return button;
}

function nearGroup(g: NearGroup, reload: () => void): HTMLElement {
  const out = h('div', { class: 'trash-result' });
  const others = g.members
    .filter((m) => m.content_hash !== g.keeper && m.path !== null)
    .map((m) => m.path ?? '');
  return h(
    'div',
    { class: 'group near', 'data-keeper': g.keeper },
    h('div', {}, h('span', { class: 'tag-keeper' }, 'keeper'), `: ${g.reason}`),
    h(
      'div',
      { class: 'members' },
      g.members.map((m) =>
        h(
          'div',
          {
            class: `member${m.content_hash === g.keeper ? ' keeper' : ''}`,
            'data-hash': m.content_hash,
            'data-path': m.path ?? '',
          },
          thumb(
            m.content_hash,
            m.path ?? m.content_hash,
            m.content_hash === g.keeper ? 'keeper' : `d ${m.distance}`,
          ),
          h('div', {}, `${m.width ?? '?'}×${m.height ?? '?'}, ${bytes(m.file_size)}`),
          h('div', { class: 'note' }, m.path ?? ''),
        ),
      ),
    ),
    others.length > 0 ? trashButton(others, out, reload) : null,
    out,
  );
}

function exactGroup(g: ExactGroup, reload: () => void): HTMLElement {
  const out = h('div', { class: 'trash-result' });
  return h(
    'div',
    { class: 'group exact', 'data-keeper': g.keeper },
    h(
      'div',
      {},
      `${g.paths.length} copies of one file (${bytes(g.file_size)}); `,
      h('span', { class: 'tag-keeper' }, 'keeper'),
      `: ${g.reason}`,
    ),
    h('div', { class: 'members' }, thumb(g.content_hash, g.keeper)),
    h(
      'ul',
      {},
      g.paths.map((p) => h('li', { class: p === g.keeper ? 'tag-keeper' : '' }, p)),
    ),
    trashButton(
      g.paths.filter((p) => p !== g.keeper),
      out,
      reload,
    ),
    out,
  );
}

export async function renderDupes(main: HTMLElement): Promise<void> {
  const reload = (): void => void renderDupes(main);
  try {
    const d = await getJson<Dupes>('/api/dupes?near=1');
    main.replaceChildren(
      h('h2', {}, 'Near duplicates'),
      d.near.length === 0
        ? h('p', { class: 'note' }, 'none')
        : h(
            'div',
            { id: 'near' },
            d.near.map((g) => nearGroup(g, reload)),
          ),
      h('h2', {}, 'Exact copies'),
      d.exact.length === 0
        ? h('p', { class: 'note' }, 'none')
        : h(
            'div',
            { id: 'exact' },
            d.exact.map((g) => exactGroup(g, reload)),
          ),
    );
  } catch (err) {
    fail(main, err);
  }
}
