/**
 * Small, dependency-free renderers for the training report: SVG line charts of the losses and a
 * PNG of one slice (image | label | prediction) written with node:zlib.
 */
import { deflateSync } from 'node:zlib';

export interface Series {
  name: string;
  values: readonly number[];
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];

/** A line chart of one or more series over epochs, with axes, ticks and a legend. */
export function lineChartSvg(title: string, series: readonly Series[], yLabel = 'loss'): string {
  const [W, H, L, R, T, B] = [640, 400, 64, 16, 40, 48];
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  const lo = Math.min(0, ...all);
  const hi = Math.max(...all, lo + 1e-6) * 1.05;
  const n = Math.max(...series.map((s) => s.values.length), 2);
  const x = (i: number): number => L + ((W - L - R) * i) / (n - 1);
  const y = (v: number): number => T + (H - T - B) * (1 - (v - lo) / (hi - lo));
  const ticks = Array.from({ length: 5 }, (_, k) => lo + ((hi - lo) * k) / 4);
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(title)}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`,
    ...ticks.map(
      (v) =>
        `<line x1="${L - 4}" y1="${y(v)}" x2="${W - R}" y2="${y(v)}" stroke="#ddd"/><text x="${L - 8}" y="${y(v) + 4}" text-anchor="end">${v.toPrecision(3)}</text>`,
    ),
    ...Array.from({ length: n }, (_, i) => i)
      .filter((i) => n <= 12 || i % Math.ceil(n / 10) === 0 || i === n - 1)
      .map((i) => `<text x="${x(i)}" y="${H - B + 18}" text-anchor="middle">${i + 1}</text>`),
    `<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">epoch</text>`,
    `<text x="16" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(T + H - B) / 2})">${esc(yLabel)}</text>`,
  ];
  series.forEach((s, k) => {
    const c = COLOURS[k % COLOURS.length];
    const pts = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts}"/>`);
    s.values.forEach((v, i) =>
      parts.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.5" fill="${c}"/>`),
    );
    parts.push(
      `<rect x="${W - R - 170}" y="${T + 6 + 18 * k}" width="12" height="3" fill="${c}"/><text x="${W - R - 152}" y="${T + 11 + 18 * k}">${esc(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** An RGB PNG (8 bits per channel) of width x height pixels. */
export function pngRgb(width: number, height: number, rgb: Uint8Array): Uint8Array {
  const raw = new Uint8Array(height * (1 + 3 * width));
  for (let r = 0; r < height; r++) raw.set(rgb.subarray(r * 3 * width, (r + 1) * 3 * width), r * (1 + 3 * width) + 1);
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const parts = [
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    chunk('IHDR', ihdr),
    chunk('IDAT', new Uint8Array(deflateSync(raw))),
    chunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const CLASS_RGB = [
  [0, 0, 0],
  [230, 60, 60],
  [60, 180, 75],
  [60, 110, 230],
  [240, 200, 40],
  [170, 80, 200],
];

/**
 * One axial slice, three panels side by side (image in grey, label, prediction in class
 * colours), each pixel scaled up so the picture is readable.
 */
export function slicePng(
  size: [number, number],
  image: Float32Array,
  label: Int32Array,
  prediction: Int32Array,
  scale = 8,
): Uint8Array {
  const [w, h] = size;
  const gap = 4;
  const W = 3 * w * scale + 2 * gap;
  const H = h * scale;
  const rgb = new Uint8Array(W * H * 3).fill(255);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of image) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const put = (px: number, py: number, c: number[]): void => {
    for (let dy = 0; dy < scale; dy++)
      for (let dx = 0; dx < scale; dx++) rgb.set(c, ((py * scale + dy) * W + px + dx) * 3);
  };
  for (let j = 0; j < h; j++)
    for (let i = 0; i < w; i++) {
      const k = i * h + j;
      const g = Math.round((255 * (image[k] - lo)) / Math.max(hi - lo, 1e-6));
      put(i * scale, j, [g, g, g]);
      put(w * scale + gap + i * scale, j, CLASS_RGB[label[k] % CLASS_RGB.length]);
      put(2 * (w * scale + gap) + i * scale, j, CLASS_RGB[prediction[k] % CLASS_RGB.length]);
    }
  return pngRgb(W, H, rgb);
}
