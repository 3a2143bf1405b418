// Copies the page's static files next to the compiled scripts (dist/page): part of `npm run build`.
import fs from 'node:fs';
import path from 'node:path';

const here = import.meta.dirname;
const out = path.join(here, '..', 'dist', 'page');
fs.mkdirSync(out, { recursive: true });
for (const name of ['index.html', 'style.css']) fs.copyFileSync(path.join(here, name), path.join(out, name));
