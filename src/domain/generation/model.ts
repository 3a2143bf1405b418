/** What a generator recorded about how an asset was made. Filled by the generation parsers. */
export interface LoraRef {
  readonly name: string;
  readonly weight?: number;
}

export interface Generation {
  /** Tool that made the file: `automatic1111`, `comfyui`, `novelai`, `invokeai`, `fooocus`, `midjourney`, `dall-e`, `firefly`, … */
  source: string;
  source_version?: string;
  prompt?: string;
  negative_prompt?: string;
  model?: string;
  model_hash?: string;
  /**
   * A number when it is a safe integer; larger seeds (Fooocus, ComfyUI and SwarmUI allow 64-bit)
   * are kept exactly as a decimal string, never rounded.
   */
  seed?: number | string;
  steps?: number;
  sampler?: string;
  cfg_scale?: number;
  width?: number;
  height?: number;
  loras?: LoraRef[];
  /** Where it was read from, e.g. `png:parameters`, `exif:UserComment`, `filename`. */
  detected_from: string;
  /** The original text, capped at 64 KiB. */
  raw?: string;
  raw_truncated?: boolean;
}

export const GENERATION_RAW_CAP = 64 * 1024;
