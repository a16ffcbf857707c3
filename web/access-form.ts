import { accessTokenProblem } from './access-token.js';
import { byId } from './dom.js';

/** Reason for showing the access token field. Each reason has its own message. */
export type AccessReason = 'input' | 'connection' | 'endpoints';

/** Order of the messages in the hint, the most direct cause first. */
const reasonOrder: AccessReason[] = ['input', 'connection', 'endpoints'];

/** The access hint and token field, visible while at least one reason applies. */
export interface AccessForm {
  show(reason: AccessReason, message: string): void;
  clear(reason: AccessReason): void;
}

/**
 * Wires the access token field: it stays hidden until {@link AccessForm.show} is called, and calls
 * `onToken` with each valid token submitted. The input has no `name` and the page's CSP has
 * `form-action 'none'`, so the token can never be submitted into a URL.
 */
export function setUpAccessForm(onToken: (token: string) => void): AccessForm {
  const root = byId<HTMLElement>('access');
  const hint = byId<HTMLParagraphElement>('access-hint');
  const form = byId<HTMLFormElement>('access-form');
  const input = byId<HTMLInputElement>('access-token');
  const messages = new Map<AccessReason, string>();

  const render = (): void => {
    root.hidden = messages.size === 0;
    hint.textContent = reasonOrder.flatMap((reason) => messages.get(reason) ?? []).join(' ');
  };
  const access: AccessForm = {
    show: (reason, message) => {
      messages.set(reason, message);
      render();
    },
    clear: (reason) => {
      if (messages.delete(reason)) render();
    },
  };

  form.addEventListener('submit', (submit) => {
    submit.preventDefault();
    const token = input.value.trim();
    const problem = accessTokenProblem(token);
    if (problem !== undefined) return access.show('input', problem);
    input.value = '';
    messages.clear();
    render();
    onToken(token);
  });
  return access;
}
