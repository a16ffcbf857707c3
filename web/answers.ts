import type { Citation, StreamClusterClient } from '../client/index.js';
import { byId, describeError, element } from './dom.js';

/** Citation markers in answer text, such as `[1]` or `[2, 3]`. */
const marker = /\[(\d+(?:\s*,\s*\d+)*)\]/g;

/**
 * Wires the question form: the answer streams into the answer region token by token, then its
 * sources are listed with document and pages, and each marker in the text links to its source.
 * `minSeq` returns the log sequence of the last document this page indexed, so a question asked
 * right after an upload reads it on whichever server answers. `currentClient` returns the page's
 * client at the time of each question.
 */
export function setUpAnswers(
  currentClient: () => StreamClusterClient,
  minSeq: () => number | undefined,
): void {
  const form = byId<HTMLFormElement>('ask-form');
  const question = byId<HTMLTextAreaElement>('question');
  const stop = byId<HTMLButtonElement>('stop');
  const region = byId<HTMLElement>('answer-region');
  const answer = byId<HTMLParagraphElement>('answer');
  const citationsHeading = byId<HTMLElement>('citations-heading');
  const citationList = byId<HTMLOListElement>('citations');
  const status = byId<HTMLParagraphElement>('answer-status');
  let running: AbortController | undefined;

  stop.addEventListener('click', () => running?.abort());
  form.addEventListener('submit', (submit) => {
    submit.preventDefault();
    const text = question.value.trim();
    if (text === '') return;
    running?.abort();
    const controller = new AbortController();
    running = controller;
    void (async () => {
      answer.textContent = '';
      citationList.replaceChildren();
      citationsHeading.hidden = true;
      region.setAttribute('aria-busy', 'true');
      region.dataset.state = 'running';
      stop.disabled = false;
      status.textContent = 'Retrieving…';
      let citations: Citation[] = [];
      try {
        for await (const event of currentClient().ask(text, {
          signal: controller.signal,
          minSeq: minSeq(),
        })) {
          if (event.type === 'answer.retrieved') status.textContent = 'Answering…';
          else if (event.type === 'answer.token') answer.textContent += event.text;
          else if (event.type === 'answer.citations') citations = event.citations;
          else if (event.type === 'answer.done') {
            const { firstTokenMs, totalMs } = event.timings;
            status.textContent = `Answered in ${Math.round(totalMs)} ms, first words after ${Math.round(firstTokenMs)} ms.`;
          }
        }
        showCitations(answer, citationList, citations);
        citationsHeading.hidden = citations.length === 0;
        region.dataset.state = 'done';
      } catch (error) {
        region.dataset.state = 'failed';
        status.textContent = controller.signal.aborted
          ? 'Stopped.'
          : `Failed: ${describeError(error)}`;
      } finally {
        region.setAttribute('aria-busy', 'false');
        if (running === controller) {
          running = undefined;
          stop.disabled = true;
        }
      }
    })();
  });
}

/** Lists the sources and turns each marker in the answer into a link to its source. */
function showCitations(answer: HTMLElement, list: HTMLOListElement, citations: Citation[]): void {
  const known = new Set<number>();
  for (const citation of citations) {
    known.add(citation.index);
    const item = element('li', '', {
      id: `citation-${citation.index}`,
      value: `${citation.index}`,
    });
    item.append(element('strong', citation.documentName), `, ${pages(citation)}`);
    item.append(element('blockquote', citation.quote));
    list.append(item);
  }

  const text = answer.textContent ?? '';
  const parts: (string | HTMLElement)[] = [];
  let last = 0;
  for (const match of text.matchAll(marker)) {
    const numbers = match[1]!.split(',').map((n) => Number(n.trim()));
    if (!numbers.every((n) => known.has(n))) continue;
    parts.push(text.slice(last, match.index));
    parts.push('[');
    numbers.forEach((n, i) => {
      if (i > 0) parts.push(', ');
      parts.push(element('a', String(n), { href: `#citation-${n}` }));
    });
    parts.push(']');
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  answer.replaceChildren(...parts);
}

function pages(citation: Citation): string {
  return citation.pageStart === citation.pageEnd
    ? `page ${citation.pageStart}`
    : `pages ${citation.pageStart}–${citation.pageEnd}`;
}
