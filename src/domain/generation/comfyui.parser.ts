/**
 * ComfyUI: the `prompt` text chunk holds the API graph that ran; `workflow` holds the editor graph
 * (nodes with `widgets_values`, links as `[id, from, fromSlot, to, toSlot, type]`), used when
 * `prompt` is absent by converting it to the API shape first. Pure; never throws.
 */
import type { Generation } from './model.js';
import {
  MAX_ITEMS,
  finish,
  isObject,
  parseJsonObject,
  seedOf,
  toInt,
  toNumber,
  toText,
  type JsonObject,
} from './common.js';
import {
  Walker,
  anyModel,
  asLink,
  conditioningText,
  modelChain,
  type Graph,
  type GraphNode,
} from './comfyui-graph.js';

// KSamplerSelect only picks a sampler algorithm; it is not a sampling node.
const SAMPLER = /KSampler(?!Select)|SamplerCustom/i;

/** Builds the API graph from parsed `prompt` JSON, dropping entries that are not nodes. */
export function apiGraph(data: JsonObject, warnings: string[]): Graph {
  const graph = new Map<string, GraphNode>();
  for (const [id, value] of Object.entries(data)) {
    if (graph.size >= MAX_ITEMS) {
      warnings.push(`ComfyUI graph has more than ${MAX_ITEMS} nodes; rest ignored`);
      break;
    }
    if (!isObject(value) || typeof value['class_type'] !== 'string') continue;
    const inputs = isObject(value['inputs']) ? value['inputs'] : {};
    graph.set(id, { id, classType: value['class_type'], inputs });
  }
  return graph;
}

function denoiseOf(node: GraphNode): number {
  return toNumber(node.inputs['denoise']) ?? 1;
}

/** The sampler that made the picture: full-denoise first (hires passes come later), then lowest id. */
function pickSampler(graph: Graph, warnings: string[]): GraphNode | undefined {
  const samplers = [...graph.values()].filter((n) => SAMPLER.test(n.classType) && n.bypassed !== true);
  samplers.sort(
    (a, b) =>
      denoiseOf(b) - denoiseOf(a) || (Number(a.id) || 0) - (Number(b.id) || 0) || a.id.localeCompare(b.id),
  );
  const chosen = samplers[0];
  if (samplers.length > 1 && chosen !== undefined) {
    warnings.push(
      `ComfyUI graph has ${samplers.length} sampler nodes; used node ${chosen.id} (${chosen.classType})`,
    );
  }
  return chosen;
}

/** Input `key` on the sampler, or on the node linked by `via` (SamplerCustomAdvanced splits them). */
function viaInput(walker: Walker, sampler: GraphNode, keys: readonly string[], via: string): unknown {
  for (const key of keys) {
    if (key in sampler.inputs) return walker.scalar(sampler.inputs[key], keys);
  }
  const link = asLink(sampler.inputs[via]);
  const node = link === undefined ? undefined : walker.node(link[0]);
  if (node === undefined) return undefined;
  for (const key of keys) {
    if (key in node.inputs) return walker.scalar(node.inputs[key], keys);
  }
  return undefined;
}

function guiderInputs(walker: Walker, sampler: GraphNode): JsonObject {
  const link = asLink(sampler.inputs['guider']);
  const guider = link === undefined ? undefined : walker.node(link[0]);
  return guider === undefined ? sampler.inputs : { ...guider.inputs, ...sampler.inputs };
}

function latentSize(walker: Walker, sampler: GraphNode): { width?: number; height?: number } {
  const link = asLink(sampler.inputs['latent_image']);
  const node = link === undefined ? undefined : walker.node(link[0]);
  if (node === undefined) return {};
  const width = toInt(walker.scalar(node.inputs['width'], ['width']));
  const height = toInt(walker.scalar(node.inputs['height'], ['height']));
  return width !== undefined && height !== undefined ? { width, height } : {};
}

/** Extracts generation settings from an API graph. */
export function fromGraph(
  graph: Graph,
  detectedFrom: string,
  raw: string,
  warnings: string[],
): Generation | null {
  const walker = new Walker(graph, warnings);
  if (graph.size === 0) {
    warnings.push(`${detectedFrom}: no ComfyUI nodes`);
    return null;
  }
  const sampler = pickSampler(graph, warnings);
  if (sampler === undefined) {
    warnings.push(`${detectedFrom}: no sampler node found`);
    const model = anyModel(walker);
    return graph.size === 0
      ? null
      : finish({ source: 'comfyui', model, detected_from: detectedFrom }, raw, warnings);
  }
  const inputs = guiderInputs(walker, sampler);
  const chain = modelChain(walker, inputs['model']);
  return finish(
    {
      source: 'comfyui',
      prompt: conditioningText(walker, inputs['positive'] ?? inputs['conditioning'] ?? inputs['cond1']),
      negative_prompt: conditioningText(walker, inputs['negative']),
      model: chain.model ?? anyModel(walker),
      seed: seedOf(viaInput(walker, sampler, ['seed', 'noise_seed'], 'noise'), warnings),
      steps: toInt(viaInput(walker, sampler, ['steps'], 'sigmas')),
      cfg_scale: toNumber(viaInput(walker, sampler, ['cfg'], 'guider')),
      sampler: toText(viaInput(walker, sampler, ['sampler_name'], 'sampler')),
      ...latentSize(walker, sampler),
      loras: chain.loras,
      detected_from: detectedFrom,
    },
    raw,
    warnings,
  );
}

/** Parses the `prompt` chunk (API graph). */
export function parseComfyPrompt(text: string, detectedFrom: string, warnings: string[]): Generation | null {
  const data = parseJsonObject(text, detectedFrom, warnings);
  if (data === undefined) return null;
  return fromGraph(apiGraph(data, warnings), detectedFrom, text, warnings);
}

/** Widget names by node type, in `widgets_values` order (seed widgets carry a control value after them). */
const WIDGETS: Readonly<Record<string, readonly string[]>> = {
  KSampler: ['seed', 'control_after_generate', 'steps', 'cfg', 'sampler_name', 'scheduler', 'denoise'],
  KSamplerAdvanced: [
    'add_noise',
    'noise_seed',
    'control_after_generate',
    'steps',
    'cfg',
    'sampler_name',
    'scheduler',
    'start_at_step',
    'end_at_step',
    'return_with_leftover_noise',
  ],
  SamplerCustom: ['add_noise', 'noise_seed', 'control_after_generate', 'cfg'],
  CLIPTextEncode: ['text'],
  CLIPTextEncodeSDXL: [
    'width',
    'height',
    'crop_w',
    'crop_h',
    'target_width',
    'target_height',
    'text_g',
    'text_l',
  ],
  CLIPTextEncodeFlux: ['clip_l', 't5xxl', 'guidance'],
  CheckpointLoaderSimple: ['ckpt_name'],
  UNETLoader: ['unet_name', 'weight_dtype'],
  LoraLoader: ['lora_name', 'strength_model', 'strength_clip'],
  LoraLoaderModelOnly: ['lora_name', 'strength_model'],
  EmptyLatentImage: ['width', 'height', 'batch_size'],
  EmptySD3LatentImage: ['width', 'height', 'batch_size'],
  KSamplerSelect: ['sampler_name'],
  RandomNoise: ['noise_seed', 'control_after_generate'],
  BasicScheduler: ['scheduler', 'steps', 'denoise'],
  CFGGuider: ['cfg'],
  FluxGuidance: ['guidance'],
  PrimitiveNode: ['value', 'control_after_generate'],
};

function linkTable(links: unknown): Map<number, readonly [string, number]> {
  const table = new Map<number, readonly [string, number]>();
  if (!Array.isArray(links)) return table;
  for (const link of links.slice(0, MAX_ITEMS * 10)) {
    if (Array.isArray(link) && typeof link[0] === 'number' && typeof link[2] === 'number') {
      table.set(link[0], [String(link[1]), link[2]]);
    } else if (isObject(link) && typeof link['id'] === 'number' && typeof link['origin_slot'] === 'number') {
      table.set(link['id'], [String(link['origin_id']), link['origin_slot']]);
    }
  }
  return table;
}

function uiNodeInputs(
  node: JsonObject,
  type: string,
  links: Map<number, readonly [string, number]>,
): JsonObject {
  const inputs: JsonObject = {};
  const values = node['widgets_values'];
  if (Array.isArray(values)) {
    const names = WIDGETS[type] ?? [];
    (values as unknown[]).slice(0, 1000).forEach((value, i) => {
      inputs[names[i] ?? `widget_${i}`] = value;
    });
  } else if (isObject(values)) {
    Object.assign(inputs, values);
  }
  for (const input of Array.isArray(node['inputs']) ? node['inputs'] : []) {
    if (!isObject(input) || typeof input['name'] !== 'string' || typeof input['link'] !== 'number') continue;
    const from = links.get(input['link']);
    // Reroute nodes have one unnamed input.
    if (from !== undefined) inputs[input['name'] === '' ? 'input' : input['name']] = [from[0], from[1]];
  }
  return inputs;
}

/** Converts the editor `workflow` graph to the API shape. Muted nodes are left out; bypassed ones are flagged. */
export function workflowGraph(data: JsonObject, warnings: string[]): Graph {
  const graph = new Map<string, GraphNode>();
  const nodes = Array.isArray(data['nodes']) ? data['nodes'] : [];
  if (nodes.length > MAX_ITEMS)
    warnings.push(`ComfyUI workflow has more than ${MAX_ITEMS} nodes; rest ignored`);
  const links = linkTable(data['links']);
  for (const node of nodes.slice(0, MAX_ITEMS)) {
    if (
      !isObject(node) ||
      typeof node['type'] !== 'string' ||
      (typeof node['id'] !== 'number' && typeof node['id'] !== 'string')
    )
      continue;
    // Mode 2 is "never" (muted): the node did not run. Mode 4 is "bypass": links pass through it.
    if (node['mode'] === 2) continue;
    const id = String(node['id']);
    const inputs = uiNodeInputs(node, node['type'], links);
    graph.set(id, { id, classType: node['type'], inputs, ...(node['mode'] === 4 ? { bypassed: true } : {}) });
  }
  return graph;
}

/** Parses the `workflow` chunk (editor graph). */
export function parseComfyWorkflow(
  text: string,
  detectedFrom: string,
  warnings: string[],
): Generation | null {
  const data = parseJsonObject(text, detectedFrom, warnings);
  if (data === undefined) return null;
  if (!Array.isArray(data['nodes'])) {
    warnings.push(`${detectedFrom}: no nodes array`);
    return null;
  }
  return fromGraph(workflowGraph(data, warnings), detectedFrom, text, warnings);
}
