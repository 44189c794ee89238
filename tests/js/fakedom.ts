/**
 * Just enough of a DOM for the widgets' plain-DOM parts (widgets/dom.ts `h`)
 * under Jest's node environment, which has no `document`: elements keep
 * their text, attributes, children and listeners; an event fires only when
 * a test calls {@link fire}.
 */
class FakeElement {
  className = '';
  textContent = '';
  title = '';
  hidden = false;
  value = '';
  isConnected = true;
  readonly children: unknown[] = [];
  readonly classList = { add: () => undefined, remove: () => undefined };
  readonly listeners = new Map<string, () => void>();
  private readonly _attrs = new Map<string, string>();

  constructor(readonly tagName: string) {}

  setAttribute(name: string, value: string): void {
    this._attrs.set(name, value);
  }
  getAttribute(name: string): string | null {
    return this._attrs.get(name) ?? null;
  }
  addEventListener(type: string, listener: () => void): void {
    this.listeners.set(type, listener);
  }
  removeEventListener(): void {}
  append(...nodes: unknown[]): void {
    this.children.push(...nodes);
  }
  replaceChildren(...nodes: unknown[]): void {
    this.children.splice(0, this.children.length, ...nodes);
  }
  getClientRects(): unknown[] {
    return this.hidden ? [] : [{}];
  }
}

/**
 * A link parses its `href` (JupyterLab's `URLExt.parse` reads URLs through
 * an `<a>` whenever a `document` exists).
 */
class FakeAnchor extends FakeElement {
  private _url = new URL('http://localhost/');

  get href(): string {
    return this._url.href;
  }
  set href(value: string) {
    this._url = new URL(value, 'http://localhost/');
  }
  get protocol(): string {
    return this._url.protocol;
  }
  get host(): string {
    return this._url.host;
  }
  get hostname(): string {
    return this._url.hostname;
  }
  get port(): string {
    return this._url.port;
  }
  get pathname(): string {
    return this._url.pathname;
  }
  get search(): string {
    return this._url.search;
  }
  get hash(): string {
    return this._url.hash;
  }
  get origin(): string {
    return this._url.origin;
  }
  toString(): string {
    return this.href;
  }
}

/** A detached element, for code handed a node rather than `document`. */
export function fakeElement(tag: string): HTMLElement {
  return new FakeElement(tag) as unknown as HTMLElement;
}

/**
 * Install the fake `document` (shown, in a visible tab); `removeFakeDocument`
 * after, since JupyterLab's URL helpers change course when one exists.
 */
export function installFakeDocument(): void {
  (globalThis as { document?: unknown }).document = {
    hidden: false,
    visibilityState: 'visible',
    createElement: (tag: string) =>
      tag === 'a' ? new FakeAnchor(tag) : new FakeElement(tag),
    addEventListener: () => undefined,
    removeEventListener: () => undefined
  };
}

/** Call `node`'s listener of `type` as the browser would on that event. */
export function fire(node: unknown, type: string): void {
  (node as FakeElement).listeners.get(type)?.();
}

export function removeFakeDocument(): void {
  delete (globalThis as { document?: unknown }).document;
}
