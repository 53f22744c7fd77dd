// Aligned text tables for listings (sonic list, lstardis, ...).
import { displayWidth, escapeControl } from './format.ts';

export interface TableOptions {
  /** Per column: 'l' (default) or 'r' (numbers). */
  align?: ('l' | 'r')[];
  /** Spaces between columns (default 2). */
  gap?: number;
}

/**
 * Render `headers` (omitted when empty) and `rows` as aligned columns. Cells are made
 * terminal-safe; lines carry no trailing spaces; the result has no final newline.
 */
export function renderTable(headers: string[], rows: string[][], opts: TableOptions = {}): string {
  const all = (headers.length > 0 ? [headers, ...rows] : rows).map((r) => r.map((c) => escapeControl(c)));
  const ncols = Math.max(0, ...all.map((r) => r.length));
  const widths = Array.from({ length: ncols }, (_, i) => Math.max(0, ...all.map((r) => displayWidth(r[i] ?? ''))));
  const gap = ' '.repeat(opts.gap ?? 2);
  return all
    .map((r) =>
      widths
        .map((w, i) => {
          const cell = r[i] ?? '';
          const pad = ' '.repeat(w - displayWidth(cell));
          return opts.align?.[i] === 'r' ? pad + cell : cell + pad;
        })
        .join(gap)
        .trimEnd(),
    )
    .join('\n');
}
