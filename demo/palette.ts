/**
 * Class colours: well-separated fixed colours for the first classes (what most label maps use),
 * then hues spread by the golden angle, so any number of classes gets distinct colours. Class 0,
 * the background, is never painted over the image.
 */

const FIXED: readonly (readonly [number, number, number])[] = [
  [0, 0, 0],
  [230, 60, 60],
  [60, 190, 75],
  [65, 120, 240],
  [250, 200, 30],
  [200, 70, 220],
  [40, 210, 210],
  [245, 130, 40],
  [150, 220, 60],
  [240, 110, 180],
];

/** The colour of class k as [r, g, b] in 0…255. */
export function classColour(k: number): readonly [number, number, number] {
  if (k < FIXED.length) return FIXED[k];
  const hue = (k * 137.508) % 360;
  return hslToRgb(hue, 0.75, 0.55);
}

/** The colour of class k for CSS and canvas strokes. */
export function cssColour(k: number): string {
  const [r, g, b] = classColour(k);
  return `rgb(${r}, ${g}, ${b})`;
}

function hslToRgb(h: number, s: number, l: number): [number, number, number] {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number): number => {
    const k = (n + h / 30) % 12;
    return Math.round(255 * (l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1))));
  };
  return [f(0), f(8), f(4)];
}
