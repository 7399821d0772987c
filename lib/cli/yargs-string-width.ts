/**
 * string-width for yargs and its help layout (cliui, wrap-ansi), in the CLI bundle only
 * (bin/build.js aliases `string-width` to this file there). The real package builds an
 * Intl.Segmenter when it loads, and three copies of it are in yargs' tree: 15-30 ms of ICU
 * set-up at every start, for help text fxcp never asks yargs for (its help comes from the
 * command table). Limit: widths are counted in code points without ANSI escapes, so East Asian
 * wide characters and emoji count as one column; only yargs' own help layout, unused here,
 * would notice.
 */
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*[A-Za-z]|\u001b\][^\u0007]*\u0007/g;

export default function stringWidth(text: string): number {
  let width = 0;
  for (const ch of text.replace(ANSI, '')) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x20 && !(c >= 0x7f && c < 0xa0) && !(c >= 0x300 && c < 0x370)) width++;
  }
  return width;
}
