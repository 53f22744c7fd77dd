// ANSI colours for listings and diffs: on for a terminal only (NO_COLOR and TERM=dumb turn the
// default off), styles named as Tardis names them (termcolor: "cyan", "red,,bold", "white,on_blue").

const FG: Record<string, number> = {
  black: 30, red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, white: 37,
  grey: 90, gray: 90, light_grey: 37, dark_grey: 90,
  light_red: 91, light_green: 92, light_yellow: 93, light_blue: 94, light_magenta: 95, light_cyan: 96,
};
const ATTRS: Record<string, number> = { bold: 1, dark: 2, italic: 3, underline: 4, blink: 5, reverse: 7, concealed: 8, strike: 9 };

/**
 * Whether to colour `stream`: an explicit --color/--no-color wins; otherwise only a terminal,
 * and not when NO_COLOR is set (https://no-color.org) or TERM is "dumb".
 */
export function colorWanted(flag: boolean | undefined, stream: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (flag !== undefined) return flag;
  if (env.NO_COLOR) return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

/**
 * The SGR parameters of a termcolor-style style: "COLOR[,ON_COLOR[,ATTR...]]", each part may be
 * empty or "none". Throws on a name it does not know. "" or "none" is no style at all.
 */
export function parseStyle(spec: string): string {
  const parts = spec.split(',').map((p) => p.trim().toLowerCase());
  const codes: number[] = [];
  parts.forEach((p, i) => {
    if (p === '' || p === 'none') return;
    if (i === 1) {
      const fg = FG[p.replace(/^on_/, '')];
      if (fg === undefined || !p.startsWith('on_')) throw new Error(`unknown background '${p}'`);
      codes.push(fg + 10);
    } else if (i === 0) {
      const fg = FG[p];
      if (fg === undefined) throw new Error(`unknown colour '${p}'`);
      codes.push(fg);
    } else {
      const a = ATTRS[p];
      if (a === undefined) throw new Error(`unknown attribute '${p}'`);
      codes.push(a);
    }
  });
  return codes.join(';');
}

/**
 * A colour table "name=style:name=style" (as TARDIS_LS_COLORS), over `base`. Entries that do not
 * parse are reported through `onBad` and left at their base value.
 */
export function parseColorTable(spec: string, base: Record<string, string>, onBad: (entry: string, why: string) => void = () => undefined): Record<string, string> {
  const out = { ...base };
  for (const entry of spec.split(':').map((s) => s.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    if (eq <= 0) {
      onBad(entry, 'not NAME=STYLE');
      continue;
    }
    try {
      out[entry.slice(0, eq).trim()] = parseStyle(entry.slice(eq + 1));
    } catch (err) {
      onBad(entry, (err as Error).message);
    }
  }
  return out;
}

/** `text` in the style `sgr` (parseStyle's output); plain when `sgr` is empty. */
export function paint(text: string, sgr: string | undefined): string {
  return sgr ? `\x1b[${sgr}m${text}\x1b[0m` : text;
}
