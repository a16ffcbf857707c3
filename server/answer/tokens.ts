/**
 * Splits text into word tokens for streaming. Each token carries the white space before it, so
 * the tokens concatenated give the text back unchanged.
 */
export function wordTokens(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? [];
}
