/** Images made with sharp for the perceptual-hash tests: patterns and a "natural-looking" scene. */
import sharp from 'sharp';
import { seededRandom as rng } from '../helpers/fixtures.js';

/** Deterministic PRNG (mulberry32) so every run hashes the same pixels. */
export { rng };

/**
 * Integer-only RGB patterns, reproducible in any language; their imagehash values were computed
 * with Pillow 9.4 + scipy using imagehash 4.3's `phash`/`dhash`/`average_hash` definitions.
 */
export function pattern(w: number, h: number, kind: 0 | 1 | 2): Buffer {
  const b = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = (y * w + x) * 3;
      if (kind === 0) {
        b[p] = (x * 7 + y * 3) & 255;
        b[p + 1] = (x * y) & 255;
        b[p + 2] = (x ^ y) & 255;
      } else if (kind === 1) {
        const v = ((x >> 4) + (y >> 4)) % 2 ? 220 : 30;
        b[p] = v;
        b[p + 1] = (v + x) & 255;
        b[p + 2] = y & 255;
      } else {
        const cx = x - w / 3;
        const cy = y - h / 2;
        const v = cx * cx + cy * cy < (h / 3) ** 2 ? 240 : ((x * 255) / w) | 0;
        b[p] = v;
        b[p + 1] = v;
        b[p + 2] = 255 - v;
      }
    }
  }
  return b;
}

export function rawImage(data: Buffer, width: number, height: number, channels: 1 | 3 | 4 = 3): sharp.Sharp {
  return sharp(data, { raw: { width, height, channels } });
}

/** A scene: gradient sky, random shapes, fine noise. Different seeds give unrelated scenes. */
export async function scene(seed: number, size = 1024): Promise<Buffer> {
  const r = rng(seed);
  const hue = (): string =>
    `hsl(${Math.floor(r() * 360)},${40 + Math.floor(r() * 50)}%,${25 + Math.floor(r() * 50)}%)`;
  const shapes: string[] = [];
  for (let i = 0; i < 14; i++) {
    const x = Math.floor(r() * size);
    const y = Math.floor(r() * size);
    const s = Math.floor(size * (0.05 + r() * 0.25));
    shapes.push(
      r() < 0.5
        ? `<circle cx="${x}" cy="${y}" r="${s}" fill="${hue()}"/>`
        : `<rect x="${x - s}" y="${y - s / 2}" width="${s * 2}" height="${s}" fill="${hue()}" transform="rotate(${Math.floor(r() * 90)} ${x} ${y})"/>`,
    );
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}">
    <defs><linearGradient id="g" x1="0" y1="0" x2="${r().toFixed(2)}" y2="1">
      <stop offset="0" stop-color="${hue()}"/><stop offset="1" stop-color="${hue()}"/></linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)"/>${shapes.join('')}</svg>`;
  const noise = Buffer.alloc(size * size * 4);
  for (let i = 0; i < noise.length; i += 4) {
    const v = Math.floor(r() * 255);
    noise[i] = v;
    noise[i + 1] = v;
    noise[i + 2] = v;
    noise[i + 3] = 28;
  }
  const noisePng = await rawImage(noise, size, size, 4).png().toBuffer();
  return sharp(Buffer.from(svg))
    .composite([{ input: noisePng }])
    .png()
    .toBuffer();
}
