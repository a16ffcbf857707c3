/**
 * Reduces Markdown to its rendered text: heading marks, emphasis, inline code ticks, link
 * targets, images' URLs, HTML tags and fence lines go; code, link text and alt text stay. A
 * line-based reduction, not a CommonMark parser: nested or unusual constructs keep some markup.
 */
export function markdownToText(markdown: string): string {
  return markdown
    .split('\n')
    .filter((line) => !/^\s*(```|~~~)/u.test(line))
    .map(stripLineMarkup)
    .join('\n');
}

function stripLineMarkup(line: string): string {
  return line
    .replace(/^\s{0,3}#{1,6}\s+/u, '')
    .replace(/^\s{0,3}>\s?/u, '')
    .replace(/^\s*([-*+]|\d+[.)])\s+/u, '')
    .replace(/^\s*([-*_]\s*){3,}$/u, '')
    .replace(/!\[([^\]]*)\]\([^)]*\)/gu, '$1')
    .replace(/\[([^\]]*)\]\([^)]*\)/gu, '$1')
    .replace(/<[^>]+>/gu, '')
    .replace(/(\*\*|__|\*|`)/gu, '')
    .replace(/\|/gu, ' ');
}
