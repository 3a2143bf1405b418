/** The page's entry: picks the view from the path. Plain TypeScript compiled by tsc; no framework. */
import { renderAsset } from './asset-page.js';
import { renderDupes } from './dupes-page.js';
import { h } from './dom.js';
import { renderSearch } from './search-page.js';
import { renderStatus } from './status-page.js';

function start(): void {
  const main = document.querySelector<HTMLElement>('#main');
  if (main === null) return;
  const path = location.pathname;
  const asset = /^\/asset\/([0-9a-f]{64})$/.exec(path);
  if (path === '/') renderSearch(main);
  else if (asset?.[1] !== undefined) void renderAsset(main, asset[1]);
  else if (path === '/dupes') void renderDupes(main);
  else if (path === '/status') renderStatus(main);
  else main.replaceChildren(h('p', {}, 'not found'));
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
