/** The fields of a pdf.js `TextItem` that page text assembly reads. */
export interface PositionedText {
  str: string;
  /** pdf.js text matrix: [a, b, c, d, x, y] in PDF units, y growing upwards. */
  transform: number[];
  /** Advance width of the string in PDF units. */
  width: number;
  /** True when pdf.js saw a line break after this item. */
  hasEOL: boolean;
}

/** Gap between two items on a line, in multiples of font size, above which words are apart. */
const WORD_GAP_EM = 0.15;
/** Baseline shift, in font sizes, above which the next item starts a new line. */
const NEW_LINE_EM = 0.5;
/** Distance between baselines, in font sizes, above which a new line starts a new paragraph. */
const PARAGRAPH_GAP_EM = 1.6;

interface Line {
  text: string;
  /** Baseline of the line's first item. */
  y: number;
  fontSize: number;
}

interface Box {
  left: number;
  right: number;
  y: number;
  fontSize: number;
}

/**
 * Builds a page's NFKC-normalised text from pdf.js text items. Two items apart on a line get a
 * space between them even when the PDF draws no space character. Lines of one paragraph are
 * joined by a space, and a word hyphenated at a line end is joined back together. Paragraphs
 * are separated by `\n`. Items are read in content-stream order, and pdf.js has already put each
 * right-to-left run in logical order.
 */
export function assemblePageText(items: Iterable<PositionedText>): string {
  const lines = groupLines(items);
  return normalizePageText(joinLines(lines));
}

function groupLines(items: Iterable<PositionedText>): Line[] {
  const lines: Line[] = [];
  let line: Line | undefined;
  let previous: Box | undefined;
  let lineEnded = false;

  for (const item of items) {
    if (item.str === '') {
      lineEnded ||= item.hasEOL;
      continue;
    }
    const box = boxOf(item);
    if (line === undefined || previous === undefined || lineEnded || startsNewLine(previous, box)) {
      line = { text: item.str, y: box.y, fontSize: box.fontSize };
      lines.push(line);
    } else {
      line.text += needsSpace(previous, box, line.text, item.str) ? ` ${item.str}` : item.str;
    }
    previous = box;
    lineEnded = item.hasEOL;
  }
  return lines;
}

function boxOf(item: PositionedText): Box {
  const [a = 0, b = 0, c = 0, d = 0, x = 0, y = 0] = item.transform;
  const fontSize = Math.hypot(c, d) || Math.hypot(a, b) || 1;
  return { left: x, right: x + item.width, y, fontSize };
}

function startsNewLine(previous: Box, box: Box): boolean {
  return Math.abs(previous.y - box.y) > NEW_LINE_EM * Math.max(previous.fontSize, box.fontSize);
}

function needsSpace(previous: Box, box: Box, before: string, next: string): boolean {
  if (/\s$/u.test(before) || /^\s/u.test(next)) return false;
  // Distance between the two boxes whichever way the text runs, so right-to-left runs and
  // left-to-right numbers inside them are measured alike; negative when they overlap.
  const gap = Math.max(box.left - previous.right, previous.left - box.right);
  return gap > WORD_GAP_EM * Math.min(previous.fontSize, box.fontSize);
}

function joinLines(lines: Line[]): string {
  let text = '';
  let previous: Line | undefined;
  for (const line of lines) {
    if (previous === undefined) {
      text = line.text;
    } else if (startsParagraph(previous, line)) {
      text += `\n${line.text}`;
    } else if (/\p{L}-$/u.test(text) && /^\p{Ll}/u.test(line.text)) {
      text = text.slice(0, -1) + line.text;
    } else {
      text += ` ${line.text}`;
    }
    previous = line;
  }
  return text;
}

function startsParagraph(previous: Line, line: Line): boolean {
  const drop = previous.y - line.y;
  return drop <= 0 || drop > PARAGRAPH_GAP_EM * Math.max(previous.fontSize, line.fontSize);
}

// Spaces other than U+0020 and the line break.
const OTHER_SPACES = '\\t\\v\\f\\r\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000';
// Matches only what must change: a run of two or more spaces, or any space but U+0020. Matching
// every single U+0020 too, as /[^\S\n]+/ does, made this step ten times slower on large files.
const SPACE_TO_COLLAPSE = new RegExp(`[ ${OTHER_SPACES}]{2,}|[${OTHER_SPACES}]`, 'g');

/**
 * NFKC-normalises text (expanding ligatures such as U+FB01), drops control characters and soft
 * hyphens, collapses runs of spaces, trims every line and drops empty lines.
 */
export function normalizePageText(text: string): string {
  return (
    text
      .normalize('NFKC')
      // Control characters, which some fonts map glyphs to, carry no text.
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000E-\u001F\u007F-\u009F\u00AD\u200B\uFEFF]/gu, '')
      .replace(SPACE_TO_COLLAPSE, ' ')
      .replace(/^ +| +$/gm, '')
      .replace(/\n{2,}/g, '\n')
      .replace(/^\n|\n$/g, '')
  );
}
