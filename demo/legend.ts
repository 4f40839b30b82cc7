/** The legend of the overlays: one swatch per class, in the colour both panels paint it. */
import { cssColour } from './palette.js';

export function renderLegend(list: HTMLElement, classNames: readonly string[]): void {
  list.replaceChildren(
    ...classNames.map((name, k) => {
      const item = document.createElement('li');
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      // The background is not painted over the image.
      swatch.style.background = k === 0 ? 'transparent' : cssColour(k);
      item.append(swatch, `${k} ${name}${k === 0 ? ' (not painted)' : ''}`);
      return item;
    }),
  );
}
