/** The MCP tools alice offers: name, description for the model, input shape and handler. */
import type { z } from 'zod';
import type { McpEnv, McpSettings } from './mcp-env.js';
import { ASSET_INPUT, SELECT_INPUT, TAG_INPUT, searchInput, similarInput } from './tool-inputs.js';
import {
  findSimilar,
  getAsset,
  indexStatus,
  listProjects,
  searchImages,
  selectForProject,
  tagAsset,
  type ToolReply,
} from './tools.js';

export interface ToolSpec<S extends z.ZodRawShape> {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  /** The input shape; a function because limits in the descriptions come from the settings. */
  readonly input: (settings: McpSettings) => S;
  /** True when the tool changes files or project selections. */
  readonly changes: boolean;
  readonly run: (env: McpEnv, args: z.infer<z.ZodObject<S>>) => Promise<ToolReply>;
}

/** Erases the shape type so specs of different shapes fit in one list. */
function spec<S extends z.ZodRawShape>(s: ToolSpec<S>): ToolSpec<z.ZodRawShape> {
  return s as unknown as ToolSpec<z.ZodRawShape>;
}

const EMPTY = (): Record<string, never> => ({});

export const TOOLS: readonly ToolSpec<z.ZodRawShape>[] = [
  spec({
    name: 'search_images',
    title: 'Search the library',
    description:
      'Find images and videos in the library by tags, prompt words, generator, model, date, size or format. ' +
      'Returns {results: [{content_hash, path, tags, prompt, …}], total, next_offset}; total counts every match, ' +
      'not just this page. Set thumbnails: true to also get small previews of the first images.',
    input: searchInput,
    changes: false,
    run: searchImages,
  }),
  spec({
    name: 'find_similar',
    title: 'Find similar images',
    description:
      'Images that look like a given one (perceptual hash), nearest first, with their Hamming distance. ' +
      'Name the query image by content_hash or by path (a file inside the library roots, indexed or not).',
    input: similarInput,
    changes: false,
    run: findSimilar,
  }),
  spec({
    name: 'get_asset',
    title: 'Show one asset',
    description:
      'Everything known about one asset: its index row (size, format, prompt, generator, model), tags, ' +
      'every location (present or missing), aliases and its sidecar document. Name it by content_hash or path.',
    input: () => ASSET_INPUT,
    changes: false,
    run: getAsset,
  }),
  spec({
    name: 'tag_asset',
    title: 'Add or remove tags',
    description:
      'Adds and/or removes tags on one asset. The sidecar and the index are updated and the tags are ' +
      'embedded into the file (XMP/IPTC keywords). Returns the asset’s tags afterwards.',
    input: () => TAG_INPUT,
    changes: true,
    run: tagAsset,
  }),
  spec({
    name: 'list_projects',
    title: 'List projects',
    description:
      'The projects in the configured project folders, with their status and number of selections.',
    input: EMPTY,
    changes: false,
    run: (env) => listProjects(env),
  }),
  spec({
    name: 'select_for_project',
    title: 'Select an asset for a project',
    description:
      'Adds an asset to a project’s selection with the reason it was chosen (and optionally its role). ' +
      'The file is linked or copied into the project’s selected/ folder; the original is not moved.',
    input: () => SELECT_INPUT,
    changes: true,
    run: selectForProject,
  }),
  spec({
    name: 'index_status',
    title: 'Library and agent status',
    description:
      'Asset counts of the index (assets, present, missing, duplicates, errors) and the health of the ' +
      'resident agent: running or not, state, heartbeat age, queue, events waiting, recent errors.',
    input: EMPTY,
    changes: false,
    run: (env) => indexStatus(env),
  }),
];
