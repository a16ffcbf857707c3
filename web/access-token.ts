/**
 * The access token the page sends to the stream servers and the balancer. It comes from the
 * address's fragment (`#token=...`), which browsers never send to a server, or from the access
 * token field. It is kept in sessionStorage, so it lasts until the tab closes and other tabs never
 * see it, and never in localStorage.
 */

const storageKey = 'streamcluster.accessToken';

/**
 * Characters of an HTTP token (RFC 9110, section 5.6.2). The client sends the access token as the
 * WebSocket subprotocol `bearer.<token>`, and browsers reject a subprotocol with other characters.
 */
const tokenPattern = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Returns why `token` cannot be used, or undefined when it can. */
export function accessTokenProblem(token: string): string | undefined {
  if (token === '') return 'The access token is empty.';
  if (!tokenPattern.test(token)) {
    return "The access token may contain only letters, digits and !#$%&'*+-.^_`|~, because the browser sends it as a WebSocket subprotocol.";
  }
  return undefined;
}

/** The current access token and where it is stored. */
export class AccessToken {
  private token: string | undefined;
  /** Problem with the token in the address, shown to the person, or undefined if there is none. */
  readonly fragmentProblem: string | undefined;

  /**
   * Reads the token from the fragment, removing it from the address bar and the history entry.
   * Without a usable token there, reads the one saved in sessionStorage.
   */
  constructor() {
    const fromFragment = takeTokenFromFragment();
    if (fromFragment === undefined) {
      this.token = readStorage();
      return;
    }
    this.fragmentProblem = accessTokenProblem(fromFragment);
    if (this.fragmentProblem === undefined) this.set(fromFragment);
    else this.token = readStorage();
  }

  get value(): string | undefined {
    return this.token;
  }

  /** Replaces the token for this tab. The caller checks it with {@link accessTokenProblem}. */
  set(token: string): void {
    this.token = token;
    try {
      sessionStorage.setItem(storageKey, token);
    } catch {
      // Storage may be disabled or full. The token then lasts until the page reloads.
    }
  }
}

function readStorage(): string | undefined {
  try {
    return sessionStorage.getItem(storageKey) ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * Returns the `token` parameter of the fragment, percent-decoded, and removes it from the address
 * while keeping the fragment's other parameters. A `+` stays a plus sign, unlike in a query.
 */
function takeTokenFromFragment(): string | undefined {
  const parameters = location.hash.replace(/^#/, '').split('&');
  const index = parameters.findIndex((parameter) => parameter.startsWith('token='));
  if (index === -1) return undefined;

  const raw = parameters[index]!.slice('token='.length);
  const rest = parameters.filter((parameter, i) => i !== index && parameter !== '');
  const address = `${location.pathname}${location.search}${rest.length > 0 ? `#${rest.join('&')}` : ''}`;
  history.replaceState(history.state, '', address);
  try {
    return decodeURIComponent(raw);
  } catch {
    // A `%` that starts no valid escape is taken literally.
    return raw;
  }
}
