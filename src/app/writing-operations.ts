/**
 * The names of the operations that write the library, without importing them: the agent client
 * needs only this (a write waits between agent passes), and importing the operation table loads
 * every service, DuckDB, sharp and exiftool (about a second of CLI start-up). A test checks it
 * against each operation's own `writes` flag.
 */
export const WRITING_OPERATIONS: ReadonlySet<string> = new Set([
  'index.update',
  'index.rebuild',
  'index.repair',
  'root.forget',
  'index.prune',
  'migrate',
  'project.create',
  'project.select',
  'project.unselect',
  'project.export',
  'tag.add',
  'tag.remove',
  'tag.set',
  'asset.describe',
  'metadata.embed',
  'trash.move',
  'trash.undo',
  'asset.understand',
]);
