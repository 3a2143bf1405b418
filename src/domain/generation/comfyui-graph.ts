/**
 * Walks a ComfyUI API graph (`{ "<id>": { class_type, inputs } }`, inputs linking to other nodes as
 * `[nodeId, outputIndex]`). Every walk keeps a visited set and a depth limit, so cycles and dangling
 * links end with a warning instead of a hang or a throw. Pure.
 */
import type { LoraRef } from './model.js';
import { MAX_ITEMS, isObject, toNumber, type JsonObject } from './common.js';

export interface GraphNode {
  readonly id: string;
  readonly classType: string;
  readonly inputs: JsonObject;
  /** A bypassed editor node: links pass through it but its own settings did not apply. */
  readonly bypassed?: boolean;
}

export type Graph = ReadonlyMap<string, GraphNode>;
export type Link = readonly [string, number];

const MAX_DEPTH = 64;

/** `["4", 0]` → a link; anything else → undefined. */
export function asLink(value: unknown): Link | undefined {
  if (!Array.isArray(value) || value.length !== 2) return undefined;
  const [id, slot] = value as unknown[];
  if ((typeof id !== 'string' && typeof id !== 'number') || typeof slot !== 'number') return undefined;
  return [String(id), slot];
}

/** Walk state shared by one extraction: warns once per missing node and counts visits. */
export class Walker {
  private visits = 0;
  private readonly missing = new Set<string>();

  constructor(
    readonly graph: Graph,
    readonly warnings: string[],
  ) {}

  /** The node a link points at, or undefined (with one warning per missing id). */
  node(id: string): GraphNode | undefined {
    if (++this.visits > MAX_ITEMS * 10) return undefined;
    const node = this.graph.get(id);
    if (node === undefined && !this.missing.has(id)) {
      this.missing.add(id);
      this.warnings.push(`ComfyUI graph links to missing node ${id}`);
    }
    return node;
  }

  /**
   * Follows a value through links until a primitive turns up, preferring `keys` on each linked node
   * (for example `steps` on a BasicScheduler, `value` on a primitive node).
   */
  scalar(value: unknown, keys: readonly string[], depth = 0, seen = new Set<string>()): unknown {
    const link = asLink(value);
    if (link === undefined) return value;
    if (depth > MAX_DEPTH || seen.has(link[0])) return this.cycle(link[0]);
    seen.add(link[0]);
    const node = this.node(link[0]);
    if (node === undefined) return undefined;
    for (const key of [
      ...keys,
      'value',
      'Value',
      'int',
      'float',
      'number',
      'seed',
      'string',
      'text',
      'Text',
      'input',
    ]) {
      if (key in node.inputs) return this.scalar(node.inputs[key], keys, depth + 1, seen);
    }
    return undefined;
  }

  /** Resolves prompt text: a string, or a link to a node holding one (primitives, string nodes). */
  text(value: unknown, depth = 0, seen = new Set<string>()): string | undefined {
    if (typeof value === 'string') return value;
    const link = asLink(value);
    if (link === undefined) return undefined;
    if (depth > MAX_DEPTH || seen.has(link[0])) return this.cycle(link[0]);
    seen.add(link[0]);
    const node = this.node(link[0]);
    if (node === undefined) return undefined;
    for (const key of ['text', 'string', 'value', 'prompt', 'text_positive', 'Text', 'STRING', 'input']) {
      const found = this.text(node.inputs[key], depth + 1, seen);
      if (found !== undefined) return found;
    }
    const firstString = Object.values(node.inputs).find((v) => typeof v === 'string');
    return typeof firstString === 'string' ? firstString : undefined;
  }

  private cycle(id: string): undefined {
    this.warnings.push(`ComfyUI graph has a cycle or is too deep at node ${id}`);
    return undefined;
  }
}

const TEXT_KEYS = [
  'text',
  'text_g',
  'text_l',
  'clip_l',
  't5xxl',
  'prompt',
  'wildcard_text',
  'populated_text',
];
const NOT_CONDITIONING =
  /^(clip|model|vae|image|images|pixels|mask|latent|latent_image|control_net|style_model|clip_vision.*)$/;

function isTextEncoder(node: GraphNode): boolean {
  return /TextEncode|PromptEncode|CLIPText/i.test(node.classType);
}

/** The conditioning inputs to follow from a node reached through output `slot`. */
function conditioningInputs(node: GraphNode, slot: number): unknown[] {
  const { inputs } = node;
  if (node.classType === 'Reroute' || node.bypassed === true)
    return Object.values(inputs).filter((v) => asLink(v) !== undefined);
  // ControlNetApplyAdvanced and friends pass positive out on slot 0 and negative on slot 1.
  if (asLink(inputs['positive']) !== undefined && asLink(inputs['negative']) !== undefined) {
    return [slot === 1 ? inputs['negative'] : inputs['positive']];
  }
  return Object.entries(inputs)
    .filter(
      ([key, value]) =>
        asLink(value) !== undefined &&
        !NOT_CONDITIONING.test(key) &&
        /cond|positive|negative|^base|^refiner/i.test(key),
    )
    .map(([, value]) => value);
}

/** All prompt texts feeding a conditioning link, in graph order, without duplicates. */
export function conditioningText(walker: Walker, start: unknown): string | undefined {
  const texts: string[] = [];
  const done = new Set<string>();
  const onPath = new Set<string>();
  const visit = (value: unknown, depth: number): void => {
    const link = asLink(value);
    if (link === undefined) return;
    const key = `${link[0]}:${link[1]}`;
    if (onPath.has(key) || depth > MAX_DEPTH || done.size > MAX_ITEMS) {
      walker.warnings.push(`ComfyUI graph has a cycle or is too deep at node ${link[0]}`);
      return;
    }
    if (done.has(key)) return;
    const node = walker.node(link[0]);
    if (node === undefined) return;
    if (isTextEncoder(node)) {
      for (const k of TEXT_KEYS) {
        const t = walker.text(node.inputs[k])?.trim();
        if (t !== undefined && t !== '' && !texts.includes(t)) texts.push(t);
      }
    } else {
      onPath.add(key);
      for (const next of conditioningInputs(node, link[1])) visit(next, depth + 1);
      onPath.delete(key);
    }
    done.add(key);
  };
  visit(start, 0);
  return texts.length > 0 ? texts.join('\n') : undefined;
}

const LOADER = /CheckpointLoader|UNETLoader|UnetLoader|DiffusersLoader|ModelLoader|ckpt/i;
const MODEL_KEYS = ['ckpt_name', 'unet_name', 'model_name', 'model_path', 'gguf_name'];

function loraOf(node: GraphNode, walker: Walker): LoraRef[] {
  const out: LoraRef[] = [];
  if (node.bypassed === true) return out;
  const name = walker.scalar(node.inputs['lora_name'], ['lora_name']);
  if (typeof name === 'string' && name !== '') {
    const weight = toNumber(
      walker.scalar(node.inputs['strength_model'] ?? node.inputs['strength'], ['strength_model']),
    );
    out.push(weight === undefined ? { name } : { name, weight });
  }
  // rgthree "Power Lora Loader" keeps each LoRA as { on, lora, strength } under lora_1, lora_2, …
  for (const value of Object.values(node.inputs)) {
    if (
      isObject(value) &&
      typeof value['lora'] === 'string' &&
      value['on'] !== false &&
      value['lora'] !== 'None'
    ) {
      const weight = toNumber(value['strength']);
      out.push(weight === undefined ? { name: value['lora'] } : { name: value['lora'], weight });
    }
  }
  return out;
}

/** Follows `model` links back from a sampler to the loader, collecting LoRAs on the way. */
export function modelChain(walker: Walker, start: unknown): { model?: string; loras: LoraRef[] } {
  const loras: LoraRef[] = [];
  const seen = new Set<string>();
  let value = start;
  for (let depth = 0; depth <= MAX_DEPTH; depth++) {
    const link = asLink(value);
    if (link === undefined) break;
    if (seen.has(link[0])) {
      walker.warnings.push(`ComfyUI model chain has a cycle at node ${link[0]}`);
      break;
    }
    seen.add(link[0]);
    const node = walker.node(link[0]);
    if (node === undefined) break;
    loras.push(...loraOf(node, walker));
    if (LOADER.test(node.classType) && node.bypassed !== true) {
      const name = MODEL_KEYS.map((k) => walker.scalar(node.inputs[k], [k])).find(
        (v) => typeof v === 'string',
      );
      return typeof name === 'string' ? { model: name, loras } : { loras };
    }
    value = node.inputs['model'] ?? (node.classType === 'Reroute' ? node.inputs['input'] : undefined);
  }
  return { loras };
}

/** The first loader's model name anywhere in the graph (when the sampler chain is broken). */
export function anyModel(walker: Walker): string | undefined {
  for (const node of walker.graph.values()) {
    if (!LOADER.test(node.classType)) continue;
    const name = MODEL_KEYS.map((k) => node.inputs[k]).find((v) => typeof v === 'string');
    if (typeof name === 'string') return name;
  }
  return undefined;
}
